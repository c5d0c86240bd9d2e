"""How codelist membership compiles: one join per column against a table of codes with a flag
per codelist on DuckDB and SQLite, ``IN (SELECT ...)`` elsewhere; never a giant literal list.

The answers themselves are spec cases (tests/spec/test_is_in.py, the long-codelist ones) run on
every engine; these tests pin the shape of the SQL, and run a 10,000-code codelist.
"""

from __future__ import annotations

import re

import ibis
import pytest

from fedsafe.engines.execute import compile_dataset, run_dataset
from fedsafe.query_model import nodes as qm
from spec.harness import SpecCase, dataset_for, table_node
from spec.runner import arrow_table
from spec.tables import e, p

BIG_A = [f"a{i:05d}" for i in range(10_000)]
BIG_B = [f"a{i:05d}" for i in range(9_000, 12_000)]

TABLES = {
    p: """
        patient_id
        1
        2
        3
    """,
    e: """
        patient_id | s1
        1          | a00005
        1          | a09500
        2          | a11999
        2          | zzz
        3          |
    """,
}


def _dataset(series) -> tuple[qm.Dataset, dict]:
    """The dataset with ``series`` as ``v``, for everyone in ``p`` (so no aggregate over ``e``
    besides the ones in ``series``)."""
    dataset, data = dataset_for(SpecCase("codelists", TABLES, series, {}))
    population = qm.Aggregate(qm.AggOp.EXISTS, table_node(p))
    return qm.Dataset(population, dataset.variables), data


def _two_codelists():
    return (
        e.where(e.s1.is_in(BIG_A)).count_for_patient() * 10
        + e.where(e.s1.is_in(BIG_B)).count_for_patient()
    )


def _sql(dataset: qm.Dataset, dialect: str) -> str:
    return str(ibis.to_sql(compile_dataset(dataset, dialect=dialect), dialect=dialect))


@pytest.mark.parametrize("dialect", ["duckdb", "sqlite"])
def test_two_codelists_on_one_column_are_one_inner_join(dialect: str) -> None:
    dataset, _ = _dataset(_two_codelists)
    sql = _sql(dataset, dialect)
    assert not re.search(r"\bIN\s*\(", sql)
    assert sql.count("INNER JOIN") == 1
    assert "a09500" not in sql  # the codes are in a table, not in the SQL


def test_postgres_keeps_a_semi_join_per_codelist() -> None:
    dataset, _ = _dataset(_two_codelists)
    sql = _sql(dataset, "postgres")
    assert sql.count("INNER JOIN") == 0
    assert len(re.findall(r"\bIN\s*\(\s*SELECT", sql)) == 2
    assert "a09500" not in sql


def test_a_filter_that_keeps_every_row_makes_it_a_left_join() -> None:
    dataset, _ = _dataset(
        lambda: e.where(e.s1.is_in(BIG_A)).count_for_patient() + e.count_for_patient()
    )
    sql = _sql(dataset, "duckdb")
    assert "INNER JOIN" not in sql
    assert 'LEFT OUTER JOIN "ibis_pyarrow_memtable' in sql


@pytest.mark.parametrize("engine", ["duckdb", "sqlite"])
def test_ten_thousand_codes_give_the_right_counts(engine: str) -> None:
    dataset, data = _dataset(_two_codelists)
    backend = ibis.duckdb.connect() if engine == "duckdb" else ibis.sqlite.connect()
    for table, rows in data.items():
        backend.create_table(table.name, arrow_table(table, rows))
    rows = run_dataset(dataset, backend).read_all().to_pylist()
    # 1: a00005 (A), a09500 (A and B); 2: a11999 (B); 3: a NULL code is in neither.
    assert {r["patient_id"]: r["v"] for r in rows} == {1: 21, 2: 1, 3: 0}


@pytest.mark.parametrize("engine", ["duckdb", "sqlite"])
def test_a_codelist_on_another_table_is_not_joined_onto_this_one(engine, tmp_path):
    """Medications filtered by a date taken from clinical_events' codelist rows: the codelist
    test belongs to clinical_events' group, not to the medications rows that compare with its
    result (joining it there looked for snomedct_code in medications)."""
    import csv
    import datetime
    from pathlib import Path

    import pyarrow as pa

    from fedsafe.language.dataset import compile_dataset as compile_definition
    from fedsafe.language.dataset import create_dataset
    from fedsafe.tables.core import clinical_events, medications

    # The real cancer codelist (5,891 SNOMED CT codes): long, so answered by a flags join.
    shared = Path(__file__).resolve().parents[3] / "shared" / "data" / "codelists"
    with (shared / "opensafely-cancer-excluding-lung-and-haematological-snomed.csv").open() as f:
        codes = [row["id"] for row in csv.DictReader(f)]
    first = (
        clinical_events.where(clinical_events.snomedct_code.is_in(codes))
        .sort_by(clinical_events.date)
        .first_for_patient()
        .date
    )
    dataset = create_dataset()
    dataset.define_population(medications.exists_for_patient())
    dataset.after = medications.where(medications.date.is_on_or_after(first)).count_for_patient()
    day = datetime.date
    tables = {
        "clinical_events": pa.table(
            {
                "patient_id": [1, 1, 2],
                "date": [day(2020, 1, 1), day(2019, 1, 1), day(2020, 1, 1)],
                "snomedct_code": [codes[0], "22298006", codes[-1]],
                "numeric_value": pa.array([None, None, None], pa.float64()),
            }
        ),
        "medications": pa.table(
            {
                "patient_id": [1, 1, 2, 3],
                "date": [day(2019, 6, 1), day(2021, 1, 1), day(2019, 1, 1), day(2022, 1, 1)],
                "dmd_code": ["1", "2", "3", "4"],
            }
        ),
    }
    con = ibis.duckdb.connect() if engine == "duckdb" else ibis.sqlite.connect(tmp_path / "d.db")
    for name, table in tables.items():
        con.create_table(name, table)
    rows = run_dataset(compile_definition(dataset), con).read_all().to_pylist()
    assert {r["patient_id"]: r["after"] for r in rows} == {1: 1, 2: 0, 3: 0}
