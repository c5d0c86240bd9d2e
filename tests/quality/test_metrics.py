"""Backend data-quality metrics, made from a database with small groups: none of them show."""

import datetime
import json
import random
from pathlib import Path

import duckdb
import ibis
import pytest
from typer.testing import CliRunner

from fedsafe.cli.main import app
from fedsafe.cli.quality import core_tables
from fedsafe.disclosure import DisclosurePolicy, is_possible_protected_count
from fedsafe.disclosure.checker import check_output_file
from fedsafe.disclosure.findings import Status
from fedsafe.quality import compute_backend_metrics, write_backend_metrics

RARE_CODE = "999999999"
RARE_MONTH = "1905-05"


@pytest.fixture(scope="module")
def database(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("backend") / "backend.duckdb"
    rng = random.Random(5)
    con = duckdb.connect(str(path))
    con.execute(
        "create table patients (patient_id bigint, date_of_birth date, sex varchar, "
        "date_of_death date)"
    )
    con.execute(
        "create table clinical_events (patient_id bigint, date date, snomedct_code varchar, "
        "numeric_value double)"
    )
    people = [
        (i, datetime.date(1950 + i % 40, 1 + i % 12, 1), rng.choice(["female", "male"]), None)
        for i in range(1, 301)
    ]
    people[0] = (1, None, "female", datetime.date(2020, 1, 1))  # 1 missing date of birth
    con.executemany("insert into patients values (?, ?, ?, ?)", people)
    events = [
        (
            rng.randint(1, 300),
            datetime.date(2020, 1 + rng.randint(0, 5), 1 + rng.randint(0, 27)),
            rng.choice(["111111", "222222"]),
            rng.random() if rng.random() < 0.5 else None,
        )
        for _ in range(2000)
    ]
    events += [(2, datetime.date(1905, 5, 5), RARE_CODE, None)] * 2  # a rare month and code
    events += [(3, None, "111111", None)] * 3  # 3 missing dates
    con.executemany("insert into clinical_events values (?, ?, ?, ?)", events)
    con.close()
    return path


def test_metrics_show_no_small_group_and_pass_the_checker(database, tmp_path):
    backend = ibis.duckdb.connect(str(database), read_only=True)
    tables = {n: core_tables()[n] for n in ("patients", "clinical_events")}
    policy = DisclosurePolicy()
    metrics = compute_backend_metrics(backend, tables, policy)
    backend.disconnect()
    written = write_backend_metrics(metrics, tmp_path / "out")

    events = next(t for t in metrics.tables if t.name == "clinical_events")
    assert events.rows == 2005 and events.patients == 300
    months = events.months["date"]
    assert "2020-03" in months.labels and RARE_MONTH not in months.labels
    codes = events.codes["snomedct_code"]
    assert "value 111111" in codes.labels and f"value {RARE_CODE}" not in codes.labels
    date_row = next(row for row in events.completeness if row[0] == "date")
    assert date_row[1] is None  # 3 missing: suppressed
    patients = next(t for t in metrics.tables if t.name == "patients")
    assert next(r for r in patients.completeness if r[0] == "date_of_birth")[1] is None

    everything = "".join(p.read_text() for p in written)
    assert RARE_CODE not in everything and RARE_MONTH not in everything and "1905" not in everything
    csvs = [p for p in written if p.suffix == ".csv"]
    for path in csvs:
        report = check_output_file(path, policy)
        assert report.status is Status.PASS, (path, report.findings)
    index = json.loads((tmp_path / "out" / "index.json").read_text())
    assert {e["metric"] for e in index["files"]} == {
        "table_sizes",
        "completeness",
        "rows_by_month",
        "top_codes",
    }
    for table in metrics.tables:
        for counts in [*table.months.values(), *table.codes.values()]:
            for value in [*counts.counts, counts.total]:
                assert value is None or is_possible_protected_count(value, policy)


def test_cli_reports_every_core_table_present(database, tmp_path):
    result = CliRunner().invoke(
        app, ["backend", "report", "--dsn", f"duckdb:///{database}", "-o", str(tmp_path / "r")]
    )
    assert result.exit_code == 0, result.output
    assert "metrics for clinical_events, patients" in result.output
    assert (tmp_path / "r" / "months_clinical_events_date.csv").is_file()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--tables", "patents"], "--tables: unknown table 'patents'; the core tables are"),
        (["--tables", "medications"], "table 'medications' is missing"),
    ],
)
def test_cli_bad_inputs_are_named_and_write_nothing(database, tmp_path, args, message):
    out = tmp_path / "r"
    result = CliRunner().invoke(
        app, ["backend", "report", "--dsn", f"duckdb:///{database}", "-o", str(out), *args]
    )
    assert result.exit_code == 2
    assert message in result.output
    assert not out.exists()


def test_cli_refuses_a_missing_database(tmp_path):
    result = CliRunner().invoke(
        app, ["backend", "report", "--dsn", f"duckdb:///{tmp_path}/nope.duckdb"]
    )
    assert result.exit_code == 2
    assert "nope.duckdb does not exist" in result.output
