"""Putting Arrow tables into real databases of each engine, and writing their configs."""

from __future__ import annotations

from pathlib import Path

import duckdb
import ibis
import pyarrow as pa


def write_duckdb(path: Path, tables: dict[str, pa.Table]) -> None:
    with duckdb.connect(str(path)) as con:
        for name, table in tables.items():
            con.register("incoming", table)
            con.execute(f'CREATE TABLE "{name}" AS SELECT * FROM incoming')
            con.unregister("incoming")


def write_sqlite(path: Path, tables: dict[str, pa.Table]) -> None:
    con = ibis.sqlite.connect(str(path))
    for name, table in tables.items():
        con.create_table(name, table, overwrite=True)
    con.disconnect()


def write_postgres(url: str, tables: dict[str, pa.Table]) -> None:
    con = ibis.connect(url)
    for name, table in tables.items():
        con.create_table(name, table, overwrite=True)
    con.disconnect()


def write_parquet(folder: Path, tables: dict[str, pa.Table]) -> None:
    import pyarrow.parquet as pq

    for name, table in tables.items():
        (folder / name).mkdir(parents=True, exist_ok=True)
        pq.write_table(table, folder / name / "part-0.parquet")


def write_config(
    path: Path, url: str, mapping: str, tables: list[str], extra: str = "", name: str = "test"
) -> Path:
    listed = ", ".join(f'"{t}"' for t in tables)
    path.write_text(
        f'[backend]\nname = "{name}"\nmapping = "{mapping}"\ntables = [{listed}]\n\n'
        f'[engine]\nurl = "{url}"\n{extra}\n[policy]\nminimum_count = 10\nrounding_base = 5\n'
    )
    return path
