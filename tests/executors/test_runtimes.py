"""The runtimes: python:v1 is exactly its lock file; r:v1 runs R, or says R is missing."""

from __future__ import annotations

import json
import re
import subprocess
import textwrap
from importlib import resources
from pathlib import Path

import pytest

from fedsafe.executors.runtimes.python_v1 import (
    RuntimeError_,
    ensure_helpers,
    ensure_python_v1,
    python_v1_id,
)
from fedsafe.executors.runtimes.resolve import prepare
from fedsafe.pipeline.runner import run_project


def locked_versions() -> dict[str, str]:
    """Name -> version for every package the lock file pins for Python 3.11."""
    text = resources.files("fedsafe.executors.runtimes").joinpath("python-v1.lock").read_text()
    pins = {}
    for line in text.splitlines():
        match = re.match(r"^([A-Za-z0-9_.-]+)==([^ ;\\]+)\s*(?:;\s*(.*?))?\s*\\?$", line)
        if not match:
            continue
        name, version, marker = match.groups()
        if marker and ">= '3.12'" in marker:
            continue
        pins[name.lower().replace("_", "-")] = version
    return pins


def test_python_v1_has_exactly_the_locked_versions() -> None:
    env = ensure_python_v1()
    assert env.name == f"python-v1-{python_v1_id()}"
    script = (
        "import json, importlib.metadata as m;"
        "print(json.dumps({d.metadata['Name'].lower().replace('_', '-'): d.version"
        " for d in m.distributions()}))"
    )
    done = subprocess.run(
        [str(env / "bin/python"), "-c", script], capture_output=True, text=True, check=True
    )
    installed = json.loads(done.stdout)
    expected = locked_versions()
    for name in ("pandas", "numpy", "scipy", "statsmodels", "matplotlib", "pyarrow"):
        assert name in expected
    assert installed == expected  # nothing missing, nothing extra, every version as locked


def test_python_v1_is_built_once_and_then_reused() -> None:
    first = ensure_python_v1()
    marker = first / ".complete"
    stamp = marker.stat().st_mtime_ns
    assert ensure_python_v1() == first
    assert marker.stat().st_mtime_ns == stamp


def test_python_v1_has_the_analysis_helpers(tmp_path: Path) -> None:
    env = ensure_python_v1()
    script = textwrap.dedent(
        """\
        import fedsafe_analysis as f
        print(f.action_config(["--config", '{"a": 1}']), f.round_counts([3, 8, 12]).tolist())
        """
    )
    done = subprocess.run(
        [str(env / "bin/python"), "-c", script],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": str(ensure_helpers())},
    )
    assert done.stdout.strip() == "{'a': 1} [<NA>, 10, 10]"


SAFE_COUNTS_PROJECT = """\
version: '1'
actions:
  counts:
    run: python:v1 analysis/counts.py
    outputs:
      moderately_sensitive:
        table: output/sex.csv
        sidecar: output/sex.csv.disclosure.json
"""

SAFE_COUNTS_SCRIPT = """\
from fedsafe.disclosure.safe import safe_counts

safe_counts(["female"] * 40 + ["male"] * 33 + ["intersex"] * 2, "output/sex.csv", name="sex")
"""


def test_python_v1_actions_can_use_fedsafe_safe_output_helpers(tmp_path: Path) -> None:
    """fedsafe's own disclosure helpers run inside the locked environment, without ibis,
    duckdb or anything else outside the lock."""
    (tmp_path / "analysis").mkdir()
    (tmp_path / "analysis/counts.py").write_text(SAFE_COUNTS_SCRIPT)
    (tmp_path / "project.yaml").write_text(SAFE_COUNTS_PROJECT)
    (outcome,) = run_project(tmp_path, ["all"]).outcomes
    assert outcome.status == "succeeded", (tmp_path / "metadata/counts.log").read_text()
    rows = (tmp_path / "output/sex.csv").read_text().splitlines()
    assert rows[0] == '"sex","n"'
    assert rows[1].startswith('"female",')
    assert '"intersex",' in rows  # a count of 2 is never released
    sidecar = json.loads((tmp_path / "output/sex.csv.disclosure.json").read_text())
    assert sidecar  # the rules that ran are recorded beside the table


R_PROJECT = """\
version: '1'
actions:
  r_model:
    run: r:v1 analysis/model.R output/means.csv
    config:
      groups: 3
    outputs:
      moderately_sensitive:
        table: output/means.csv
"""

R_SCRIPT = """\
args <- commandArgs(trailingOnly = TRUE)
config <- args[which(args == "--config") + 1]
fit <- lm(dist ~ speed, data = cars)
dir.create("output", showWarnings = FALSE)
write.csv(
  data.frame(term = names(coef(fit)), estimate = round(coef(fit), 4), config = config),
  args[1], row.names = FALSE
)
"""


def test_r_v1_runs_an_r_script_in_isolation(tmp_path: Path) -> None:
    (tmp_path / "analysis").mkdir()
    (tmp_path / "analysis/model.R").write_text(R_SCRIPT)
    (tmp_path / "project.yaml").write_text(R_PROJECT)
    summary = run_project(tmp_path, ["all"])
    assert [o.status for o in summary.outcomes] == ["succeeded"], (
        tmp_path / "metadata/r_model.log"
    ).read_text()
    lines = (tmp_path / "output/means.csv").read_text().splitlines()
    # The classic cars regression: stopping distance = -17.5791 + 3.9324 * speed.
    assert lines[0] == '"term","estimate","config"'
    assert lines[1] == '"(Intercept)",-17.5791,"{""groups"": 3}"'
    assert lines[2] == '"speed",3.9324,"{""groups"": 3}"'


def test_r_v1_says_clearly_when_r_is_not_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(RuntimeError_, match=r"r:v1 needs R, which is not installed.*r-base-core"):
        prepare("r:v1", ("analysis/model.R",), None)


def test_a_missing_r_fails_the_action_with_that_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "analysis").mkdir()
    (tmp_path / "analysis/model.R").write_text(R_SCRIPT)
    (tmp_path / "project.yaml").write_text(R_PROJECT)
    monkeypatch.setenv("PATH", "/nonexistent")
    (outcome,) = run_project(tmp_path, ["all"]).outcomes
    assert outcome.status == "failed"
    assert "r:v1 needs R, which is not installed" in (outcome.message or "")
    assert "r-base-core" in (tmp_path / "metadata/r_model.log").read_text()


def test_the_disclosure_policy_setting_reaches_the_safe_helpers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A backend's disclosure policy (FEDSAFE_DISCLOSURE_POLICY) is passed to every action,
    and a changed policy re-runs the actions, since their outputs depend on it."""
    (tmp_path / "analysis").mkdir()
    (tmp_path / "analysis/counts.py").write_text(SAFE_COUNTS_SCRIPT)
    (tmp_path / "project.yaml").write_text(SAFE_COUNTS_PROJECT)
    run_project(tmp_path, ["all"])
    assert '"female",40' in (tmp_path / "output/sex.csv").read_text().splitlines()
    monkeypatch.setenv("FEDSAFE_DISCLOSURE_POLICY", '{"suppress_at_or_below": 50}')
    (outcome,) = run_project(tmp_path, ["all"]).outcomes
    assert outcome.status == "succeeded"
    assert '"female",40' not in (tmp_path / "output/sex.csv").read_text().splitlines()
