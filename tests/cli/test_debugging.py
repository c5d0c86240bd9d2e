"""The debugging commands from the shell: exit statuses and what they print."""

from pathlib import Path

from typer.testing import CliRunner

from fedsafe.cli.main import app

DEFINITION = """\
from datetime import date

from ehrql import create_dataset
from ehrql.tables.core import patients

dataset = create_dataset()
dataset.define_population(patients.date_of_birth < "2000-01-01")
dataset.year = patients.date_of_birth.year

test_data = {
    1: {"patients": {"date_of_birth": date(1980, 1, 1)}, "expected_in_population": True,
        "expected_columns": {"year": YEAR}},
    2: {"patients": {"date_of_birth": date(2010, 1, 1)}, "expected_in_population": False},
}
"""


def run(tmp_path: Path, year: int, *args: str):
    definition = tmp_path / "dataset_definition.py"
    definition.write_text(DEFINITION.replace("YEAR", str(year)))
    return CliRunner().invoke(app, ["test-definition", str(definition), *args])


def test_passing_tests_exit_zero(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run(tmp_path, 1980, "--verbose")
    assert result.exit_code == 0, result.output
    assert "Patient 1: ok" in result.output
    assert "all 2 test patients passed" in result.output


def test_failing_tests_exit_one_and_say_what_differed(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run(tmp_path, 1981)
    assert result.exit_code == 1, result.output
    assert "Patient 1: FAILED\n  column 'year': expected 1981, got 1980" in result.output
    assert "Patient 2" not in result.output
    assert "1 of 2 test patients FAILED" in result.output


def test_parameters_reach_the_definition(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    definition = tmp_path / "dataset_definition.py"
    definition.write_text(
        DEFINITION.replace(
            "from ehrql import create_dataset", "from ehrql import create_dataset, get_parameter"
        )
        .replace('"2000-01-01"', 'get_parameter("cutoff")')
        .replace("YEAR", "1980")
    )
    passing = CliRunner().invoke(
        app, ["test-definition", str(definition), "--param", "cutoff=2000-01-01"]
    )
    assert passing.exit_code == 0, passing.output
    failing = CliRunner().invoke(
        app, ["test-definition", str(definition), "--param", "cutoff=1970-01-01"]
    )
    assert failing.exit_code == 1
    assert "Patient 1: FAILED\n  expected to be in the population, but was not" in failing.output


def test_bad_test_data_exits_two_with_its_place(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run(tmp_path, 1980, "--test-data", "missing.yaml")
    assert result.exit_code == 2
    assert "missing.yaml: cannot read the test data file" in result.output


def test_report_dataset_writes_the_report_and_checked_tables(tmp_path):
    import pyarrow as pa
    import pyarrow.csv

    dataset = tmp_path / "dataset.csv.gz"
    with pa.CompressedOutputStream(str(dataset), "gzip") as out:
        pyarrow.csv.write_csv(pa.table({"sex": ["female"] * 30 + ["male"] * 3}), out)
    policy = tmp_path / "policy.json"
    policy.write_text('{"disclosure": {"suppress_at_or_below": 5}}')
    runner = CliRunner()
    result = runner.invoke(
        app,
        ["report-dataset", str(dataset), "-o", str(tmp_path / "r.html"), "--policy", str(policy)],
    )
    assert result.exit_code == 0, result.output
    tables = sorted((tmp_path / "r_tables").glob("*.csv"))
    assert [t.name for t in tables] == ["distribution_sex.csv", "missing_values.csv"]
    assert '"male"' not in tables[0].read_text()  # 3 patients: under the threshold of 5
    (tmp_path / "p.toml").write_text("suppress_at_or_below = 5\n")
    checked = runner.invoke(
        app, ["check-outputs", "--policy", str(tmp_path / "p.toml"), *map(str, tables)]
    )
    assert checked.exit_code == 0, checked.output


def test_report_dataset_refuses_a_bad_policy_and_writes_nothing(tmp_path):
    dataset = tmp_path / "d.csv"
    dataset.write_text("x\n1\n")
    policy = tmp_path / "policy.json"
    policy.write_text('{"supress_at_or_below": 5}')
    result = CliRunner().invoke(
        app,
        ["report-dataset", str(dataset), "-o", str(tmp_path / "r.html"), "--policy", str(policy)],
    )
    assert result.exit_code == 2
    assert "unknown setting 'supress_at_or_below'" in result.output
    assert not (tmp_path / "r.html").exists() and not (tmp_path / "r_tables").exists()


def test_report_dataset_follows_the_backends_policy_from_the_environment(tmp_path, monkeypatch):
    dataset = tmp_path / "d.csv"
    dataset.write_text("sex\n" + "female\n" * 30 + "male\n" * 9)
    monkeypatch.setenv("FEDSAFE_DISCLOSURE_POLICY", '{"suppress_at_or_below": 10}')
    result = CliRunner().invoke(
        app, ["report-dataset", str(dataset), "-o", str(tmp_path / "r.html")]
    )
    assert result.exit_code == 0, result.output
    table = (tmp_path / "r_tables" / "distribution_sex.csv").read_text()
    assert '"female"' in table and '"male"' not in table  # 9: named under 7, not under 10
