"""fedsafe check --backend: before any job runs, each action is checked against every backend
it may run on, and every table or column a backend does not provide is reported, per backend."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from backends.databases import write_config
from fedsafe.backends.config import BackendConfigError
from fedsafe.cli.main import app
from fedsafe.pipeline.check import BackendAvailabilityError, check_project

HEADER = """\
from ehrql import create_dataset
from ehrql.tables.tpp import clinical_events, medications, patients

dataset = create_dataset()
dataset.define_population(patients.exists_for_patient())
"""
PROJECT = """\
version: '1'
actions:
  core_only:
    run: fedsafe:v1 generate-dataset analysis/core.py --output output/core.csv.gz
    outputs:
      highly_sensitive:
        dataset: output/core.csv.gz
  uses_ctv3:
    run: fedsafe:v1 generate-dataset analysis/ctv3.py --output output/ctv3.csv.gz
    outputs:
      highly_sensitive:
        dataset: output/ctv3.csv.gz
  uses_medications:
    run: fedsafe:v1 generate-dataset analysis/meds.py --output output/meds.csv.gz
    backends: [full]
    outputs:
      highly_sensitive:
        dataset: output/meds.csv.gz
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    folder = tmp_path / "study"
    (folder / "analysis").mkdir(parents=True)
    (folder / "project.yaml").write_text(PROJECT)
    bodies = {
        "core.py": "dataset.n = clinical_events.count_for_patient()\n",
        "ctv3.py": "dataset.n = clinical_events.where(clinical_events.ctv3_code == 'G30..')"
        ".count_for_patient()\n",
        "meds.py": "dataset.n = medications.count_for_patient()\n",
    }
    for name, body in bodies.items():
        (folder / "analysis" / name).write_text(HEADER + body)
    return folder


def _backends(tmp_path: Path) -> list[Path]:
    full = ["patients", "clinical_events", "medications"]
    return [
        write_config(tmp_path / "full.toml", "duckdb:///x.duckdb", "native", full, name="full"),
        write_config(
            tmp_path / "small.toml",
            "sqlite:///y.sqlite",
            "omop",
            ["patients", "clinical_events"],
            name="small",
        ),
    ]


def test_every_problem_is_reported_per_backend(project, tmp_path):
    with pytest.raises(BackendAvailabilityError) as refused:
        check_project(project, _backends(tmp_path))
    message = str(refused.value)
    # ctv3_code is a tpp column no backend maps: refused on both, each named.
    assert "action 'uses_ctv3' (analysis/ctv3.py): backend 'full' (native mapping)" in message
    assert "action 'uses_ctv3' (analysis/ctv3.py): backend 'small' (omop mapping)" in message
    assert "column 'ctv3_code' of table 'clinical_events'" in message
    # medications is missing on 'small', but the action runs only on 'full'.
    assert "uses_medications" not in message
    assert "core_only" not in message


def test_a_project_every_backend_can_run_passes_with_a_line_per_backend(project, tmp_path):
    (project / "analysis" / "ctv3.py").write_text(
        HEADER + "dataset.n = clinical_events.count_for_patient()\n"
    )
    (project / "project.yaml").write_text(PROJECT.replace("    backends: [full]\n", ""))
    with pytest.raises(BackendAvailabilityError) as refused:
        check_project(project, _backends(tmp_path))
    assert "backend 'small' does not provide the table 'medications'" in str(refused.value)
    (project / "project.yaml").write_text(PROJECT)
    lines = check_project(project, _backends(tmp_path))
    assert lines.count("  backend full: provides every table and column it reads") == 3
    assert lines.count("  backend small: provides every table and column it reads") == 2
    assert "  backend small: not one of this action's backends" in lines


def test_the_command_line_exits_two_naming_backend_table_and_column(project, tmp_path):
    args = ["check", "--project-dir", str(project)]
    for config in _backends(tmp_path):
        args += ["--backend", str(config)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2
    output = " ".join(result.output.split())
    assert "column 'ctv3_code' of table 'clinical_events'" in output and "'small'" in output


def test_a_bad_backend_config_is_named_before_anything_loads(project, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[backend]\nname = 'x'\n")
    with pytest.raises(BackendConfigError, match=r"bad\.toml"):
        check_project(project, [bad])
