"""The command line on a configured backend: check, generate-dataset and dump-dataset-sql."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest
import sqlglot
from typer.testing import CliRunner

from backends.databases import write_config, write_duckdb, write_sqlite
from backends.population import core_population
from fedsafe.backends.mappings.omop_writer import to_omop
from fedsafe.cli.main import app

DEFINITION = Path(__file__).parents[1] / "backends" / "definitions" / "cohort.py"
CORE = ["patients", "practice_registrations", "clinical_events", "medications", "ons_deaths"]
runner = CliRunner()


@pytest.fixture(scope="module")
def configs(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("backends")
    population = core_population(n=80)
    write_duckdb(folder / "core.duckdb", population)
    write_sqlite(folder / "omop.sqlite", to_omop(population))
    return {
        "native": write_config(
            folder / "native.toml", f"duckdb://{folder}/core.duckdb", "native", CORE
        ),
        "omop": write_config(folder / "omop.toml", f"sqlite://{folder}/omop.sqlite", "omop", CORE),
    }


def test_backend_check_lists_tables_and_columns(configs) -> None:
    result = runner.invoke(app, ["backend", "check", str(configs["omop"])])
    assert result.exit_code == 0, result.output
    for name in ("person", "year_of_birth", "drug_exposure", "concept_code", "present"):
        assert name in result.stdout


def test_backend_check_fails_naming_what_is_missing(tmp_path: Path) -> None:
    write_sqlite(tmp_path / "empty.sqlite", {})
    (tmp_path / "empty.sqlite").touch()
    config = write_config(tmp_path / "b.toml", f"sqlite://{tmp_path}/empty.sqlite", "omop", CORE)
    result = runner.invoke(app, ["backend", "check", str(config)])
    assert result.exit_code == 2
    assert "person" in result.stdout and "missing" in result.stdout
    assert "problem(s) found" in result.stderr


def test_backend_check_on_a_bad_config_is_one_clear_error(tmp_path: Path) -> None:
    config = tmp_path / "b.toml"
    config.write_text('[backend]\nname = "x"\n')
    result = runner.invoke(app, ["backend", "check", str(config)])
    assert result.exit_code == 2
    assert "engine is missing" in result.stderr and "Traceback" not in result.output


def test_generate_dataset_on_omop_equals_native(configs, tmp_path: Path) -> None:
    outputs = {}
    for name, config in configs.items():
        output = tmp_path / f"{name}.parquet"
        result = runner.invoke(
            app, ["generate-dataset", str(DEFINITION), "--backend", str(config), "-o", str(output)]
        )
        assert result.exit_code == 0, result.output
        assert "on backend test" in result.stderr
        outputs[name] = pq.read_table(output)
    assert outputs["native"].num_rows > 10
    assert outputs["omop"].equals(outputs["native"])


def test_generate_dataset_refuses_backend_with_dsn(configs, tmp_path: Path) -> None:
    args = ["generate-dataset", str(DEFINITION), "--backend", str(configs["native"])]
    result = runner.invoke(
        app, [*args, "--dsn", "duckdb://:memory:", "-o", str(tmp_path / "x.csv")]
    )
    assert result.exit_code == 2
    assert "--backend alone" in result.stderr
    assert not (tmp_path / "x.csv").exists()


def test_generate_dataset_with_an_unprovided_table_writes_nothing(tmp_path: Path) -> None:
    config = write_config(tmp_path / "b.toml", "duckdb:///nowhere.duckdb", "native", ["patients"])
    output = tmp_path / "out.csv"
    result = runner.invoke(
        app, ["generate-dataset", str(DEFINITION), "--backend", str(config), "-o", str(output)]
    )
    assert result.exit_code == 2
    assert "does not provide the tables" in result.stderr
    assert "'practice_registrations'" in result.stderr
    assert not output.exists()


def test_dump_dataset_sql_shows_the_backends_own_sql(configs, tmp_path: Path) -> None:
    config = write_config(
        tmp_path / "pg.toml", "postgresql://fedsafe:${PG_PASSWORD}@db:5432/omop", "omop", CORE
    )
    result = runner.invoke(app, ["dump-dataset-sql", str(DEFINITION), "--backend", str(config)])
    assert result.exit_code == 0, result.output
    sql = result.stdout
    assert '"person"' in sql and '"concept"' in sql and '"drug_exposure"' in sql
    assert sqlglot.parse_one(sql, read="postgres") is not None
    native = runner.invoke(
        app, ["dump-dataset-sql", str(DEFINITION), "--backend", str(configs["native"])]
    )
    assert native.exit_code == 0 and '"medications"' in native.stdout
