"""Per-backend availability: what a backend provides, and a definition reading a table or a
column it does not provide refused before any query runs, naming the table, column and backend."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from typer.testing import CliRunner

from backends.databases import write_config, write_duckdb
from backends.population import core_population
from fedsafe.backends.backend import Backend, TableNotProvidedError
from fedsafe.backends.config import load_config
from fedsafe.cli.main import app
from fedsafe.loader import load_dataset_definition

runner = CliRunner()
CORE = ["patients", "practice_registrations", "clinical_events", "medications", "ons_deaths"]
HEADER = """\
from ehrql import create_dataset
from ehrql.tables.tpp import clinical_events, patients, practice_registrations

dataset = create_dataset()
dataset.define_population(patients.exists_for_patient())
"""


@pytest.fixture(scope="module")
def native(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("availability")
    write_duckdb(folder / "core.duckdb", core_population(n=40))
    return write_config(folder / "b.toml", f"duckdb://{folder}/core.duckdb", "native", CORE)


def _definition(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "study.py"
    path.write_text(HEADER + body)
    return path


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            "dataset.code = clinical_events.sort_by(clinical_events.date)"
            ".last_for_patient().ctv3_code\n",
            "column 'ctv3_code' of table 'clinical_events'",
        ),
        (
            "dataset.n = clinical_events.where(clinical_events.consultation_id > 3)"
            ".count_for_patient()\n",
            "column 'consultation_id' of table 'clinical_events'",
        ),
        (
            "dataset.stp = practice_registrations.sort_by(practice_registrations.start_date)"
            ".first_for_patient().practice_stp\n",
            "column 'practice_stp' of table 'practice_registrations'",
        ),
    ],
)
def test_a_column_the_backend_lacks_is_refused_before_connecting(native, tmp_path, body, expected):
    config = load_config(native)
    loaded = load_dataset_definition(_definition(tmp_path, body), {})
    engine = dataclasses.replace(config.engine, url=f"duckdb://{tmp_path}/gone.duckdb")
    broken = Backend(dataclasses.replace(config, engine=engine))
    with pytest.raises(TableNotProvidedError) as refused:
        broken.run(loaded.dataset)  # refused before it would fail to connect
    message = str(refused.value)
    assert expected in message and "backend 'test' (native mapping)" in message
    assert "it provides" in message


def _generate(native: Path, tmp_path: Path, body: str):
    definition = str(_definition(tmp_path, body))
    output = str(tmp_path / "out.csv")
    return runner.invoke(
        app, ["generate-dataset", definition, "--backend", str(native), "--output", output]
    )


def test_core_columns_of_a_tpp_table_run(native, tmp_path):
    body = (
        "dataset.n = clinical_events.where(clinical_events.numeric_value > 0).count_for_patient()\n"
    )
    result = _generate(native, tmp_path, body)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "out.csv").read_text().startswith("patient_id,n\n")


def test_the_command_line_names_the_missing_column(native, tmp_path):
    body = "dataset.code = clinical_events.sort_by(clinical_events.date).first_for_patient()"
    body += ".ctv3_code\n"
    result = _generate(native, tmp_path, body)
    assert result.exit_code == 2
    assert "column 'ctv3_code' of table 'clinical_events'" in " ".join(result.stderr.split())
    assert not (tmp_path / "out.csv").exists()


def test_backend_tables_lists_tables_and_columns(native, tmp_path):
    result = runner.invoke(app, ["backend", "tables", str(native)])
    assert result.exit_code == 0, result.output
    lines = [" ".join(line.replace("│", " ").split()) for line in result.stdout.splitlines()]
    assert "clinical_events snomedct_code string" in lines
    assert "patients date_of_birth date" in lines
    assert not [line for line in lines if "ctv3_code" in line or line.startswith("apcs ")]
    small = write_config(tmp_path / "s.toml", "duckdb:///x.duckdb", "omop", ["patients"])
    result = runner.invoke(app, ["backend", "tables", str(small)])
    assert result.exit_code == 0 and "omop mapping" in result.stdout
    assert "clinical_events" not in result.stdout
