"""Same patients, same answer: native DuckDB, OMOP on SQLite and OMOP on PostgreSQL.

One synthetic population is loaded in fedsafe's own form into DuckDB and, converted to OMOP CDM
v5.4, into SQLite and into a real PostgreSQL server. The same definition, run through each
backend's configuration and mapping, must give identical datasets.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from backends.databases import write_config, write_duckdb, write_postgres, write_sqlite
from backends.population import core_population
from fedsafe.backends.backend import Backend
from fedsafe.backends.config import load_config
from fedsafe.backends.mappings.omop_writer import to_omop
from fedsafe.loader import load_dataset_definition

DEFINITION = Path(__file__).parent / "definitions" / "cohort.py"
CORE = ["patients", "practice_registrations", "clinical_events", "medications", "ons_deaths"]


def run(config: Path) -> pa.Table:
    dataset = load_dataset_definition(DEFINITION, {}).dataset
    con, reader = Backend(load_config(config)).run(dataset)
    try:
        return reader.read_all()
    finally:
        con.disconnect()


def _rounded(row: dict) -> dict:
    """Floats to 9 places: engines sum in different orders, so the last bits may differ."""
    return {k: round(v, 9) if isinstance(v, float) else v for k, v in row.items()}


def assert_same(actual: pa.Table, expected: pa.Table) -> None:
    """Equal tables; otherwise the first few differing patients, column by column."""
    assert actual.column_names == expected.column_names
    got = {r["patient_id"]: _rounded(r) for r in actual.to_pylist()}
    want = {r["patient_id"]: _rounded(r) for r in expected.to_pylist()}
    assert sorted(got) == sorted(want), "different patients"
    differences = [
        (pid, {k: (want[pid][k], got[pid][k]) for k in want[pid] if want[pid][k] != got[pid][k]})
        for pid in sorted(want)
        if got[pid] != want[pid]
    ]
    assert not differences, f"(native, omop) values differ: {differences[:5]}"


@pytest.fixture(scope="module")
def population() -> dict[str, pa.Table]:
    return core_population()


@pytest.fixture(scope="module")
def native_result(population, tmp_path_factory) -> pa.Table:
    folder = tmp_path_factory.mktemp("native")
    write_duckdb(folder / "core.duckdb", population)
    return run(write_config(folder / "b.toml", f"duckdb://{folder}/core.duckdb", "native", CORE))


def test_the_native_result_is_not_trivial(native_result: pa.Table) -> None:
    """Guard against a vacuous comparison: many patients, and every column has values."""
    assert native_result.num_rows > 100
    for name in native_result.column_names:
        assert native_result[name].null_count < native_result.num_rows, name


def test_omop_on_sqlite_gives_the_native_answer(population, native_result, tmp_path) -> None:
    write_sqlite(tmp_path / "omop.sqlite", to_omop(population))
    config = write_config(tmp_path / "b.toml", f"sqlite://{tmp_path}/omop.sqlite", "omop", CORE)
    assert_same(run(config), native_result)


def test_omop_on_postgres_gives_the_native_answer(
    population, native_result, tmp_path, postgres_url
) -> None:
    write_postgres(postgres_url, to_omop(population))
    config = write_config(tmp_path / "b.toml", postgres_url, "omop", CORE)
    assert_same(run(config), native_result)
