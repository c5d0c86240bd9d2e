"""The command line passes arguments after -- to the definition, and warns of unclaimed tables."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fedsafe.cli.main import app

DEFINITION = """\
import argparse
from ehrql import claim_permissions, create_dataset
from ehrql.tables.tpp import appointments, patients

parser = argparse.ArgumentParser()
parser.add_argument("--min-age", type=int, required=True)
parser.add_argument("--claim", action="store_true")
args = parser.parse_args()
if args.claim:
    claim_permissions("appointments")

dataset = create_dataset()
dataset.configure_dummy_data(population_size=30)
age = patients.age_on("2022-01-01")
dataset.define_population(age >= args.min_age)
dataset.age = age
dataset.appointments = appointments.count_for_patient()
"""

WARNING = "warning: the table 'appointments' needs the 'appointments' permission"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "definition.py").write_text(DEFINITION)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def invoke(*args: str):
    return CliRunner().invoke(app, list(args))


def ages(path: Path) -> list[int]:
    with path.open(newline="") as f:
        return [int(row["age"]) for row in csv.DictReader(f)]


def test_generate_dataset_passes_arguments_and_warns(project: Path) -> None:
    result = invoke("generate-dataset", "definition.py", "-o", "out.csv", "--", "--min-age", "70")
    assert result.exit_code == 0, result.output
    found = ages(project / "out.csv")
    assert len(found) == 30 and min(found) >= 70
    assert WARNING in result.stderr


def test_a_claim_silences_the_warning(project: Path) -> None:
    result = invoke(
        "generate-dataset", "definition.py", "-o", "out.csv", "--", "--min-age", "1", "--claim"
    )
    assert result.exit_code == 0, result.output
    assert "warning:" not in result.stderr


def test_create_dummy_tables_then_run_on_them_with_arguments(project: Path) -> None:
    made = invoke("create-dummy-tables", "definition.py", "tables", "--", "--min-age", "50")
    assert made.exit_code == 0, made.output
    assert WARNING in made.stderr
    assert sorted(p.name for p in (project / "tables").iterdir()) == [
        "appointments.csv",
        "patients.csv",
    ]
    ran = invoke(
        "generate-dataset",
        "definition.py",
        "--dummy-tables",
        "tables",
        "-o",
        "out.csv",
        "--",
        "--min-age",
        "50",
    )
    assert ran.exit_code == 0, ran.output
    assert WARNING in ran.stderr
    found = ages(project / "out.csv")
    assert len(found) == 30 and min(found) >= 50


def test_dump_dataset_sql_passes_arguments(project: Path) -> None:
    result = invoke("dump-dataset-sql", "definition.py", "--", "--min-age", "77")
    assert result.exit_code == 0, result.output
    assert "77" in result.stdout


def test_rejected_arguments_fail_with_argparse_message_and_write_nothing(project: Path) -> None:
    result = invoke("generate-dataset", "definition.py", "-o", "out.csv", "--", "--min-age", "x")
    assert result.exit_code == 2
    assert "error: definition.py, line 8: the dataset definition called sys.exit(2)" in (
        result.stderr
    )
    assert "definition.py: error: argument --min-age: invalid int value: 'x'" in result.stderr
    assert not (project / "out.csv").exists()


def test_missing_required_argument(project: Path) -> None:
    result = invoke("dump-dataset-sql", "definition.py")
    assert result.exit_code == 2
    assert "the following arguments are required: --min-age" in result.stderr


def test_options_for_the_definition_need_the_separator(project: Path) -> None:
    result = invoke("generate-dataset", "definition.py", "-o", "out.csv", "--min-age", "3")
    assert result.exit_code == 2
    assert "No such option: --min-age" in result.output
    assert not (project / "out.csv").exists()
