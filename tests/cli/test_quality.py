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


# --- with a backend configuration (--backend): through the mapping, with the backend's policy


@pytest.fixture(scope="module")
def configured(tmp_path_factory) -> dict[str, Path]:
    """One synthetic population as a native DuckDB backend and as an OMOP SQLite backend."""
    from backends.databases import write_config, write_duckdb, write_sqlite
    from backends.population import core_population
    from fedsafe.backends.mappings.omop_writer import to_omop

    folder = tmp_path_factory.mktemp("configured")
    population = core_population(n=120)
    write_duckdb(folder / "core.duckdb", population)
    write_sqlite(folder / "omop.sqlite", to_omop(population))
    tables = ["patients", "practice_registrations", "clinical_events", "medications", "ons_deaths"]
    return {
        "native": write_config(
            folder / "native.toml", f"duckdb://{folder}/core.duckdb", "native", tables
        ),
        "omop": write_config(
            folder / "omop.toml", f"sqlite://{folder}/omop.sqlite", "omop", tables, name="omop"
        ),
    }


def _report(config: Path, out: Path, *args: str):
    return CliRunner().invoke(
        app, ["backend", "report", "--backend", str(config), "-o", str(out), *args]
    )


def test_native_and_omop_backends_give_the_same_report(configured, tmp_path):
    """The OMOP database is read as the core tables it provides: the same patients give the
    same protected metrics, file for file, whatever the physical schema."""
    for kind in ("native", "omop"):
        result = _report(configured[kind], tmp_path / kind)
        assert result.exit_code == 0, result.output
        assert "metrics for clinical_events, medications, ons_deaths, patients" in result.output
    native = sorted(p.name for p in (tmp_path / "native").glob("*.csv"))
    assert (
        "months_clinical_events_date.csv" in native and "codes_medications_dmd_code.csv" in native
    )
    assert native == sorted(p.name for p in (tmp_path / "omop").glob("*.csv"))
    for name in native:
        assert (tmp_path / "native" / name).read_text() == (tmp_path / "omop" / name).read_text()


def test_the_backend_policy_protects_the_report_and_every_file_passes(configured, tmp_path):
    from fedsafe.backends.config import load_config
    from fedsafe.disclosure import Status, check_output_file
    from fedsafe.disclosure.reading import Redacted, parse_number, read_table

    config = configured["omop"]
    config.write_text(config.read_text().replace("minimum_count = 10", "minimum_count = 20"))
    result = _report(config, tmp_path / "r")
    assert result.exit_code == 0, result.output
    policy = load_config(config).policy
    assert policy.suppress_at_or_below == 19
    for path in (tmp_path / "r").glob("*.csv"):
        assert check_output_file(path, policy).status is Status.PASS, path
        table = read_table(path)
        for column, values in table.columns.items():
            for value in map(parse_number, values):
                if isinstance(value, int) and not isinstance(value, Redacted):
                    assert value == 0 or value > 19, (path.name, column, value)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--policy", "p.toml"], "--policy applies with --dsn only"),
        (["--dsn", "duckdb:///x.duckdb"], "give either --backend CONFIG or --dsn URL"),
        (["--tables", "vaccinations"], "--tables: unknown table 'vaccinations'"),
    ],
)
def test_backend_option_bad_combinations(configured, tmp_path, args, message):
    result = _report(configured["native"], tmp_path / "r", *args)
    assert result.exit_code == 2
    assert message in " ".join(result.output.split())
    assert not (tmp_path / "r").exists()


def test_a_table_the_backend_does_not_provide_is_named(configured, tmp_path):
    from backends.databases import write_config

    folder = configured["native"].parent
    config = write_config(
        tmp_path / "b.toml", f"duckdb://{folder}/core.duckdb", "native", ["patients"]
    )
    result = _report(config, tmp_path / "r", "--tables", "patients,medications")
    assert result.exit_code == 2
    assert "backend 'test' does not provide 'medications'" in " ".join(result.output.split())


def test_a_mapped_table_missing_in_the_database_is_named(tmp_path):
    from backends.databases import write_config, write_sqlite

    write_sqlite(tmp_path / "empty.sqlite", {})
    (tmp_path / "empty.sqlite").touch()
    config = write_config(
        tmp_path / "b.toml", f"sqlite://{tmp_path}/empty.sqlite", "omop", ["patients"]
    )
    result = _report(config, tmp_path / "r")
    assert result.exit_code == 2
    output = " ".join(result.output.split())
    assert "(omop mapping) lacks what the report reads" in output and "person: missing" in output
