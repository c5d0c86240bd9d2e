"""fedsafe backend report from the shell: what it writes, and bad input refused."""

from pathlib import Path

import pytest
from typer.testing import CliRunner

from fedsafe.cli.main import app
from quality.backend_db import make_database


@pytest.fixture(scope="module")
def database(tmp_path_factory) -> Path:
    return make_database(tmp_path_factory.mktemp("backend") / "backend.duckdb")


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
