"""Tests for the cohort benchmark's data generator and hand-written baseline.

The baseline SQL is the reference fedsafe's output is judged against, so it is
proven three ways here rather than trusted: against values worked out by hand
on a five-patient database, against an independent plain-Python evaluation of
the same ehrQL definition on generated data, and for the age arithmetic on 29
February birthdays. No timings are asserted anywhere.
"""

from __future__ import annotations

import ast
import csv
import functools
import math
import sys
from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

BENCH_DIR = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(BENCH_DIR))

import bench_cohort  # noqa: E402
import cohort_baseline  # noqa: E402
import synthetic_core  # noqa: E402
from cohort_baseline import COLUMNS, INDEX_DATE, baseline_sql, shift_years  # noqa: E402

CODELIST_DIR = cohort_baseline.CODELIST_DIR

N_PATIENTS = 2_000


@functools.cache
def _codes(name: str) -> frozenset[str]:
    filename, column = cohort_baseline.CODELISTS[name]
    with open(CODELIST_DIR / filename, newline="") as f:
        return frozenset(row[column].strip() for row in csv.DictReader(f) if row[column].strip())


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> dict[str, pa.Table]:
    out = tmp_path_factory.mktemp("core")
    paths = synthetic_core.generate(out, n_patients=N_PATIENTS, seed=7)
    return {name: pq.read_table(path) for name, path in paths.items()}


@pytest.fixture(scope="module")
def generated_con(generated) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    for name, table in generated.items():
        con.register(f"_{name}", table)
        con.execute(f"CREATE TABLE {name} AS SELECT * FROM _{name}")
    return con


# --------------------------------------------------------------------------- generator


def test_generator_is_deterministic_for_a_seed(tmp_path, generated):
    again = synthetic_core.generate(tmp_path / "again", n_patients=N_PATIENTS, seed=7)
    other = synthetic_core.generate(tmp_path / "other", n_patients=N_PATIENTS, seed=8)
    for name, table in generated.items():
        assert pq.read_table(again[name]).equals(table), name
    assert not pq.read_table(other["clinical_events"]).equals(generated["clinical_events"])


def test_generator_writes_the_core_schema(generated):
    expected = {
        "patients": [
            ("patient_id", pa.int64()),
            ("date_of_birth", pa.date32()),
            ("sex", pa.string()),
            ("date_of_death", pa.date32()),
        ],
        "practice_registrations": [
            ("patient_id", pa.int64()),
            ("start_date", pa.date32()),
            ("end_date", pa.date32()),
            ("practice_pseudo_id", pa.int64()),
        ],
        "clinical_events": [
            ("patient_id", pa.int64()),
            ("date", pa.date32()),
            ("snomedct_code", pa.string()),
            ("numeric_value", pa.float64()),
        ],
        "medications": [
            ("patient_id", pa.int64()),
            ("date", pa.date32()),
            ("dmd_code", pa.string()),
        ],
        "ons_deaths": [
            ("patient_id", pa.int64()),
            ("date", pa.date32()),
            ("underlying_cause_of_death", pa.string()),
            *[(f"cause_of_death_{i:02d}", pa.string()) for i in range(1, 16)],
        ],
    }
    assert set(generated) == set(expected)
    for name, columns in expected.items():
        schema = generated[name].schema
        assert [(f.name, f.type) for f in schema] == columns, name


def test_generated_values_look_like_a_cohort(generated):
    patients = generated["patients"].to_pydict()
    assert patients["patient_id"] == list(range(1, N_PATIENTS + 1))
    assert all(d.day == 1 for d in patients["date_of_birth"])
    assert set(patients["sex"]) <= {"female", "male", "intersex", "unknown"}
    dead = {p for p, d in zip(patients["patient_id"], patients["date_of_death"]) if d}
    assert 0.02 < len(dead) / N_PATIENTS < 0.09

    ons = generated["ons_deaths"].column("patient_id").to_pylist()
    assert len(ons) == len(set(ons)), "ons_deaths is one row per patient"
    assert set(ons) <= dead and len(ons) > 0.7 * len(dead)

    regs = generated["practice_registrations"].to_pydict()
    per_patient = defaultdict(int)
    for pid, start, end in zip(regs["patient_id"], regs["start_date"], regs["end_date"]):
        per_patient[pid] += 1
        assert end is None or end >= start
    assert set(per_patient.values()) == {1, 2, 3}
    assert any(e is None for e in regs["end_date"])

    events = generated["clinical_events"].to_pydict()
    n = len(events["patient_id"])
    assert 15 * N_PATIENTS < n < 25 * N_PATIENTS
    assert 0.25 < sum(v is not None for v in events["numeric_value"]) / n < 0.35
    assert any(d is None for d in events["date"])
    dated = [d for d in events["date"] if d]
    assert min(dated) >= date(1990, 1, 1) and max(dated) <= date(2024, 12, 31)
    codes = events["snomedct_code"]
    assert sum(c in _codes("diabetes") for c in codes) > 0.01 * n
    assert sum(c in _codes("osteoarthritis") for c in codes) > 0.01 * n

    dmd = generated["medications"].column("dmd_code").to_pylist()
    assert sum(c in _codes("nsaids") for c in dmd) > 0.01 * len(dmd)
    assert sum(c in _codes("opioids") for c in dmd) > 0.005 * len(dmd)


def test_csv_and_duckdb_outputs(tmp_path):
    paths = synthetic_core.generate(tmp_path / "csv", n_patients=50, seed=1, fmt="csv")
    assert sorted(p.name for p in paths.values()) == sorted(
        f"{t}.csv" for t in synthetic_core.TABLES
    )
    with open(paths["patients"]) as f:
        assert f.readline().strip().replace('"', "").split(",") == [
            "patient_id",
            "date_of_birth",
            "sex",
            "date_of_death",
        ]

    db = synthetic_core.write_duckdb(tmp_path / "core.duckdb", n_patients=50, seed=1)
    con = duckdb.connect(str(db), read_only=True)
    types = dict(con.execute("SELECT column_name, data_type FROM duckdb_columns()").fetchall())
    assert types["date_of_birth"] == "DATE"
    assert types["snomedct_code"] == "VARCHAR"
    assert types["numeric_value"] == "DOUBLE"
    assert con.execute("SELECT count(*) FROM patients").fetchone() == (50,)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["core.duckdb", "csv"]


# --------------------------------------------------------------------------- baseline


def test_definition_and_baseline_define_the_same_columns():
    tree = ast.parse((BENCH_DIR / "cohort_definition.py").read_text())
    defined = [
        target.attr
        for node in tree.body
        if isinstance(node, ast.Assign)
        for target in node.targets
        if isinstance(target, ast.Attribute)
        and isinstance(target.value, ast.Name)
        and target.value.id == "dataset"
    ]
    assert defined == list(COLUMNS[1:])
    assert len(defined) == 20


def test_shift_years_rounds_missing_leap_days_up():
    assert shift_years(date(2020, 1, 1), -2) == date(2018, 1, 1)
    assert shift_years(date(2020, 2, 29), -1) == date(2019, 3, 1)
    assert shift_years(date(2020, 2, 29), -4) == date(2016, 2, 29)
    assert shift_years(date(2019, 3, 1), 1) == date(2020, 3, 1)


def _run(con: duckdb.DuckDBPyConnection, index_date: date = INDEX_DATE) -> dict[int, dict]:
    cursor = con.execute(baseline_sql(CODELIST_DIR, index_date))
    names = [d[0] for d in cursor.description]
    assert names == list(COLUMNS)
    rows = cursor.fetchall()
    by_id = {row[0]: dict(zip(names, row)) for row in rows}
    assert len(by_id) == len(rows), "one row per patient"
    return by_id


def _reference(tables: dict[str, pa.Table], index: date) -> dict[int, dict]:
    """The cohort definition evaluated row by row in plain Python.

    Deliberately naive and independent of the SQL: each variable is the
    ehrQL operation spelled out (filter, sort with NULL first, pick).
    """

    def rows(name: str) -> dict[int, list[dict]]:
        grouped: dict[int, list[dict]] = defaultdict(list)
        for row in tables[name].to_pylist():
            grouped[row["patient_id"]].append(row)
        return grouped

    def key(*values):  # ehrQL sort order: NULL before everything
        return tuple((v is not None, v) if v is not None else (False, 0) for v in values)

    def first(frame, *cols):
        return min(frame, key=lambda r: key(*(r[c] for c in cols)), default=None)

    def last(frame, *cols):
        return max(frame, key=lambda r: key(*(r[c] for c in cols)), default=None)

    def get(row, col):
        return None if row is None else row[col]

    dm, oa = _codes("diabetes"), _codes("osteoarthritis")
    nsaid_codes, opioid_codes = _codes("nsaids"), _codes("opioids")
    regs, events, meds = (
        rows("practice_registrations"),
        rows("clinical_events"),
        rows("medications"),
    )
    ons = {r["patient_id"]: r for r in tables["ons_deaths"].to_pylist()}
    two_years, year, ninety = shift_years(index, -2), index - timedelta(365), index - timedelta(90)

    out = {}
    for p in tables["patients"].to_pylist():
        pid, dob = p["patient_id"], p["date_of_birth"]
        age = index.year - dob.year - ((index.month, index.day) < (dob.month, dob.day))
        r = regs.get(pid, [])
        registered = any(
            x["start_date"] <= index and (x["end_date"] or date.max) > index for x in r
        )
        if not (registered and 18 <= age <= 100):
            continue
        on_date = [
            x
            for x in r
            if x["start_date"] <= index and not (x["end_date"] and x["end_date"] < index)
        ]
        ev = events.get(pid, [])
        dm_ev = [e for e in ev if e["snomedct_code"] in dm and e["date"] and e["date"] < index]
        values = [e["numeric_value"] for e in dm_ev if e["numeric_value"] is not None]
        oa_ev = [
            e for e in ev if e["snomedct_code"] in oa and not (e["date"] and e["date"] > index)
        ]
        md = meds.get(pid, [])
        nsaids = [m for m in md if m["dmd_code"] in nsaid_codes]
        opioids = [m for m in md if m["dmd_code"] in opioid_codes]
        out[pid] = {
            "patient_id": pid,
            "age": age,
            "sex": p["sex"],
            "diabetes_first_date": get(first(dm_ev, "date"), "date"),
            "diabetes_last_date": max((e["date"] for e in dm_ev), default=None),
            "diabetes_count": len(dm_ev),
            "diabetes_last_value": get(last(dm_ev, "date", "numeric_value"), "numeric_value"),
            "diabetes_mean_value": sum(values) / len(values) if values else None,
            "has_osteoarthritis": bool(oa_ev),
            "oa_first_date": get(first(oa_ev, "date"), "date"),
            "oa_count_2y": sum(1 for e in oa_ev if e["date"] and two_years <= e["date"] <= index),
            "nsaid_count_1y": sum(1 for m in nsaids if m["date"] and year <= m["date"] <= index),
            "nsaid_last_date": get(
                last([m for m in nsaids if m["date"] and m["date"] <= index], "date"), "date"
            ),
            "opioid_first_date": get(
                first([m for m in opioids if m["date"] and m["date"] >= index], "date"), "date"
            ),
            "opioid_count": sum(1 for m in opioids if m["date"] and m["date"] < index),
            "opioid_last_90d": any(m["date"] and ninety <= m["date"] <= index for m in opioids),
            "date_of_death": p["date_of_death"],
            "died": pid in ons,
            "underlying_cause_of_death": get(ons.get(pid), "underlying_cause_of_death"),
            "practice_id": get(
                last(on_date, "start_date", "end_date", "practice_pseudo_id"),
                "practice_pseudo_id",
            ),
            "registration_count": len(r),
        }
    return out


def _assert_same(actual: dict[int, dict], expected: dict[int, dict]) -> None:
    assert sorted(actual) == sorted(expected)
    for pid, want in expected.items():
        got = actual[pid]
        for col in COLUMNS:
            a, b = got[col], want[col]
            if isinstance(b, float) and a is not None:
                assert math.isclose(a, b, rel_tol=1e-9), (pid, col, a, b)
            else:
                assert a == b and type(a) is type(b), (pid, col, a, b)


def test_baseline_matches_an_independent_evaluation_on_generated_data(generated, generated_con):
    actual = _run(generated_con)
    expected = _reference(generated, INDEX_DATE)
    assert 0.4 * N_PATIENTS < len(expected) < 0.9 * N_PATIENTS
    _assert_same(actual, expected)
    # The data must actually exercise the variables, or the match proves little.
    for col in ("diabetes_count", "oa_count_2y", "nsaid_count_1y", "opioid_count"):
        assert any(r[col] for r in expected.values()), col
    for col in ("diabetes_last_value", "oa_first_date", "opioid_first_date", "died"):
        assert any(r[col] for r in expected.values()), col


# --------------------------------------------------------------------------- by hand

DM, OA, OTHER = "111552007", "1010664005", "22298006"
NSAID, OPIOID = "42112011000001107", "3897311000001109"
D = date.fromisoformat


def _hand_made_db() -> duckdb.DuckDBPyConnection:
    """Five patients whose every output value is worked out in the test below."""
    con = duckdb.connect()
    for name, schema in synthetic_core.SCHEMAS.items():
        cols = ", ".join(f"{f.name} {synthetic_core.DUCKDB_TYPES[f.type]}" for f in schema)
        con.execute(f"CREATE TABLE {name} ({cols})")

    con.executemany(
        "INSERT INTO patients VALUES (?, ?, ?, ?)",
        [
            (1, D("1970-06-01"), "female", None),
            (2, D("2002-01-01"), "male", D("2022-06-01")),  # 18th birthday on index
            (3, D("2002-02-01"), "female", None),  # 17: excluded
            (4, D("1919-12-01"), "intersex", D("2021-03-04")),  # 100
            (5, D("1960-01-01"), "unknown", None),  # not registered on index
        ],
    )
    con.executemany(
        "INSERT INTO practice_registrations VALUES (?, ?, ?, ?)",
        [
            (1, D("2015-03-01"), None, 101),
            # Same start: the NULL end sorts first, so the dated one is "last".
            (2, D("2010-05-01"), None, 10),
            (2, D("2010-05-01"), D("2025-01-01"), 5),
            (3, D("2000-01-01"), None, 1),
            # Ending ON the index date: counts for for_patient_on (latest
            # start wins) but not for being registered on the index date.
            (4, D("2000-01-01"), D("2020-01-01"), 7),
            (4, D("1995-01-01"), None, 3),
            (5, D("1990-01-01"), D("2020-01-01"), 9),
            (5, D("2020-01-02"), None, 8),
        ],
    )
    con.executemany(
        "INSERT INTO clinical_events VALUES (?, ?, ?, ?)",
        [
            (1, D("2010-05-05"), DM, 40.0),
            (1, D("2015-07-07"), DM, None),
            (1, D("2019-06-01"), DM, None),  # three on the last day: the
            (1, D("2019-06-01"), DM, 48.0),  # largest value is "last",
            (1, D("2019-06-01"), DM, 47.0),  # NULL sorting first
            (1, D("2020-01-01"), DM, 99.0),  # on index: not before it
            (1, None, DM, 77.0),  # undated: fails where(date < index)
            (1, D("2019-12-31"), OTHER, 5.0),
            (1, None, OA, None),  # undated: kept by except_where, sorts first
            (1, D("2017-12-31"), OA, None),  # day before the 2-year window
            (1, D("2018-01-01"), OA, None),  # first day of the window
            (1, D("2020-01-01"), OA, None),  # last day of the window
            (1, D("2020-01-02"), OA, None),  # after index: excluded
            (2, D("2019-02-02"), DM, None),  # a diabetes event without a value
            (2, D("2019-03-03"), OA, 1.0),
            (3, D("2019-01-01"), DM, 50.0),
            (4, None, OA, None),  # an undated event is still an event
            (4, D("2020-01-01"), DM, 60.0),  # on index: no diabetes before it
            (5, D("2019-01-01"), DM, 50.0),
        ],
    )
    con.executemany(
        "INSERT INTO medications VALUES (?, ?, ?)",
        [
            (1, D("2018-12-31"), NSAID),  # day before the 365-day window
            (1, D("2019-01-01"), NSAID),  # first day of it
            (1, D("2020-01-01"), NSAID),  # index date: in window, and last
            (1, D("2020-01-05"), NSAID),  # after index
            (1, D("2019-10-02"), OPIOID),  # day before the 90-day window
            (1, D("2019-10-03"), OPIOID),  # first day of it
            (1, D("2020-01-01"), OPIOID),  # first on/after index
            (1, D("2021-05-05"), OPIOID),
            (2, D("2020-01-01"), OPIOID),  # index date: last day of the 90 days
            (4, D("2019-10-02"), OPIOID),
        ],
    )
    con.execute(
        "INSERT INTO ons_deaths (patient_id, date, underlying_cause_of_death, cause_of_death_01)"
        " VALUES (4, DATE '2021-03-04', 'I21', 'I21')"
    )
    return con


def test_baseline_on_a_hand_made_database():
    for code, name in [(DM, "diabetes"), (OA, "osteoarthritis"), (NSAID, "nsaids")]:
        assert code in _codes(name)
    assert OPIOID in _codes("opioids")
    assert OTHER not in _codes("diabetes") | _codes("osteoarthritis")

    no_events = {
        "diabetes_first_date": None,
        "diabetes_last_date": None,
        "diabetes_count": 0,
        "diabetes_last_value": None,
        "diabetes_mean_value": None,
        "has_osteoarthritis": False,
        "oa_first_date": None,
        "oa_count_2y": 0,
        "nsaid_count_1y": 0,
        "nsaid_last_date": None,
        "opioid_first_date": None,
        "opioid_count": 0,
        "opioid_last_90d": False,
        "date_of_death": None,
        "died": False,
        "underlying_cause_of_death": None,
    }
    expected = {
        1: {
            **no_events,
            "patient_id": 1,
            "age": 49,
            "sex": "female",
            "diabetes_first_date": D("2010-05-05"),
            "diabetes_last_date": D("2019-06-01"),
            "diabetes_count": 5,
            "diabetes_last_value": 48.0,
            "diabetes_mean_value": 45.0,  # (40 + 48 + 47) / 3
            "has_osteoarthritis": True,
            "oa_first_date": None,
            "oa_count_2y": 2,
            "nsaid_count_1y": 2,
            "nsaid_last_date": D("2020-01-01"),
            "opioid_first_date": D("2020-01-01"),
            "opioid_count": 2,
            "opioid_last_90d": True,
            "practice_id": 101,
            "registration_count": 1,
        },
        2: {
            **no_events,
            "patient_id": 2,
            "age": 18,
            "sex": "male",
            "diabetes_first_date": D("2019-02-02"),
            "diabetes_last_date": D("2019-02-02"),
            "diabetes_count": 1,
            "has_osteoarthritis": True,
            "oa_first_date": D("2019-03-03"),
            "oa_count_2y": 1,
            "opioid_first_date": D("2020-01-01"),
            "opioid_last_90d": True,
            "date_of_death": D("2022-06-01"),  # primary care only: not in ONS
            "practice_id": 5,
            "registration_count": 2,
        },
        4: {
            **no_events,
            "patient_id": 4,
            "age": 100,
            "sex": "intersex",
            "has_osteoarthritis": True,
            "opioid_count": 1,
            "date_of_death": D("2021-03-04"),
            "died": True,
            "underlying_cause_of_death": "I21",
            "practice_id": 7,
            "registration_count": 2,
        },
    }
    con = _hand_made_db()
    actual = _run(con)
    _assert_same(actual, expected)

    # The independent Python evaluation agrees on the same database too.
    tables = {
        name: con.execute(f"SELECT * FROM {name}").fetch_arrow_table()
        for name in synthetic_core.TABLES
    }
    _assert_same(_reference(tables, INDEX_DATE), expected)


@pytest.mark.parametrize(
    ("index_date", "ages"),
    [
        # born: 2000-02-29, 2000-03-01, 2000-02-01, 1920-03-01
        (date(2021, 2, 28), {1: 20, 2: 20, 3: 21, 4: 100}),
        (date(2021, 3, 1), {1: 21, 2: 21, 3: 21}),  # 4 is 101: excluded
        (date(2024, 2, 28), {1: 23, 2: 23, 3: 24}),
        (date(2024, 2, 29), {1: 24, 2: 23, 3: 24}),
    ],
)
def test_baseline_ages_are_whole_years_across_leap_days(index_date, ages):
    con = duckdb.connect()
    for name, schema in synthetic_core.SCHEMAS.items():
        cols = ", ".join(f"{f.name} {synthetic_core.DUCKDB_TYPES[f.type]}" for f in schema)
        con.execute(f"CREATE TABLE {name} ({cols})")
    births = [D("2000-02-29"), D("2000-03-01"), D("2000-02-01"), D("1920-03-01")]
    for pid, dob in enumerate(births, start=1):
        con.execute("INSERT INTO patients VALUES (?, ?, 'female', NULL)", [pid, dob])
        con.execute(
            "INSERT INTO practice_registrations VALUES (?, DATE '1990-01-01', NULL, 1)", [pid]
        )
    actual = _run(con, index_date)
    assert {pid: row["age"] for pid, row in actual.items()} == ages


# --------------------------------------------------------------------------- comparison


def test_compare_outputs_ignores_physical_types_but_not_values(tmp_path):
    base = pa.table(
        {
            "patient_id": pa.array([1, 2, 3], pa.int64()),
            "count": pa.array([0, 2, 5], pa.int64()),
            "when": pa.array([date(2020, 1, 1), None, date(2019, 5, 6)], pa.date32()),
            "value": pa.array([1.5, None, 1 / 3], pa.float64()),
            "flag": pa.array([True, False, None], pa.bool_()),
            "code": pa.array(["I21", None, "C34"], pa.string()),
        }
    )
    pq.write_table(base, tmp_path / "base.parquet")
    # Same dataset: other row and column order, narrower ints, timestamps,
    # dictionary strings, float noise far below the tolerance.
    same = pa.table(
        {
            "code": pa.array(["C34", "I21", None]).dictionary_encode(),
            "flag": pa.array([None, True, False], pa.bool_()),
            "value": pa.array([1 / 3 + 1e-15, 1.5, None], pa.float64()),
            "when": pa.array([date(2019, 5, 6), date(2020, 1, 1), None], pa.date32()).cast(
                pa.timestamp("us")
            ),
            "count": pa.array([5, 0, 2], pa.int32()),
            "patient_id": pa.array([3, 1, 2], pa.int32()),
        }
    )
    pq.write_table(same, tmp_path / "same.parquet")
    assert bench_cohort.compare_outputs(tmp_path / "base.parquet", tmp_path / "same.parquet") == []

    different = base.set_column(3, "value", pa.array([1.5, 0.0, 1 / 3]))
    different = different.set_column(2, "when", pa.array([None, None, date(2019, 5, 6)]))
    pq.write_table(different, tmp_path / "different.parquet")
    problems = bench_cohort.compare_outputs(
        tmp_path / "base.parquet", tmp_path / "different.parquet"
    )
    assert len(problems) == 2
    assert problems[0].startswith("when: 1 rows differ, e.g. patient 1:")
    assert problems[1].startswith("value: 1 rows differ, e.g. patient 2: baseline None")

    pq.write_table(base.slice(0, 2).drop_columns(["flag"]), tmp_path / "short.parquet")
    problems = bench_cohort.compare_outputs(tmp_path / "base.parquet", tmp_path / "short.parquet")
    assert any("missing" in p and "flag" in p for p in problems)
    assert any("1 only in baseline (e.g. [3])" in p for p in problems)
