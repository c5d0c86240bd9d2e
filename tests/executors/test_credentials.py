"""Database credentials reach dataset actions (fedsafe's own runtime) and nothing else.

A backend's configuration names its password as ``${VAR}``; the executor builds every action's
environment from an allow-list, so the agent hands the variable to the executor as
``ActionJob.dataset_env``, which only ``fedsafe:v1`` receives. Tested with a real DuckDB
backend whose engine URL depends on the variable, as a password would.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from backends.databases import write_config, write_duckdb
from backends.population import core_population
from fedsafe.executors.local import ActionJob, ActionResult, run_action

DEFINITION = Path(__file__).parents[1] / "backends" / "definitions" / "cohort.py"
CORE = ["patients", "practice_registrations", "clinical_events", "medications", "ons_deaths"]
SNOOP = """\
import json, os, pathlib
pathlib.Path("output/env.json").write_text(json.dumps(dict(os.environ)))
"""


@pytest.fixture
def backend(tmp_path: Path) -> tuple[Path, Path]:
    """A backend config whose database is found only through ${FEDSAFE_TEST_DB_DIR}."""
    folder = tmp_path / "data"
    folder.mkdir()
    write_duckdb(folder / "core.duckdb", core_population(n=40))
    url = "duckdb://${FEDSAFE_TEST_DB_DIR}/core.duckdb"
    return write_config(tmp_path / "backend.toml", url, "native", CORE), folder


def run(
    workspace: Path, runtime: str, args: tuple[str, ...], output: str, env: dict[str, str]
) -> ActionResult:
    return run_action(
        ActionJob(
            name="action",
            runtime=runtime,
            args=args,
            config=None,
            patterns=((output, "highly_sensitive"),),
            code_files=("analysis/dataset_definition.py", "analysis/snoop.py"),
            inputs=(),
            previous_outputs=(),
            workspace=workspace,
            log_path=workspace / "metadata" / "action.log",
            dataset_env=tuple(env.items()),
        )
    )


def make_workspace(root: Path) -> Path:
    (root / "analysis").mkdir(parents=True)
    (root / "analysis" / "dataset_definition.py").write_text(DEFINITION.read_text())
    (root / "analysis" / "snoop.py").write_text(SNOOP)
    return root


def test_a_dataset_action_gets_the_credential_and_an_analysis_action_does_not(
    tmp_path: Path, backend: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    config, folder = backend
    monkeypatch.delenv("FEDSAFE_TEST_DB_DIR", raising=False)
    workspace = make_workspace(tmp_path / "workspace")
    credential = {"FEDSAFE_TEST_DB_DIR": str(folder)}
    generate = (
        "generate-dataset",
        "analysis/dataset_definition.py",
        "--backend",
        str(config),
        "--output",
        "output/dataset.csv",
    )

    result = run(workspace, "fedsafe:v1", generate, "output/dataset.csv", credential)
    assert result.succeeded, (workspace / "metadata/action.log").read_text()
    assert len((workspace / "output/dataset.csv").read_text().splitlines()) > 10

    result = run(workspace, "python:v1", ("analysis/snoop.py",), "output/env.json", credential)
    assert result.succeeded, result.error
    env = json.loads((workspace / "output/env.json").read_text())
    assert "FEDSAFE_TEST_DB_DIR" not in env
    assert str(folder) not in json.dumps(env)


def test_without_it_the_dataset_action_cannot_connect(
    tmp_path: Path, backend: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Set in the agent's own environment, it still does not reach the action: only what the
    # executor is handed does.
    config, folder = backend
    monkeypatch.setenv("FEDSAFE_TEST_DB_DIR", str(folder))
    workspace = make_workspace(tmp_path / "workspace")
    generate = (
        "generate-dataset",
        "analysis/dataset_definition.py",
        "--backend",
        str(config),
        "--output",
        "output/dataset.csv",
    )
    result = run(workspace, "fedsafe:v1", generate, "output/dataset.csv", {})
    assert not result.succeeded
    log = (workspace / "metadata/action.log").read_text()
    assert "FEDSAFE_TEST_DB_DIR, which is not set" in log
    assert not (workspace / "output/dataset.csv").exists()
