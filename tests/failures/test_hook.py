"""Summaries from an action's own process: written there, and trusted here only once verified."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from fedsafe.failures import read_summary
from fedsafe.failures.hook import MAX_SUMMARY_BYTES

SECRET = "943-476-5919 Jane Doe"

BOOTSTRAP = """
import runpy, sys
from pathlib import Path
from fedsafe.failures import install_excepthook
install_excepthook(Path(sys.argv[1]), Path(sys.argv[2]))
runpy.run_path(sys.argv[3], run_name="__main__")
"""


@pytest.fixture
def project(tmp_path):
    root = tmp_path / "project"
    (root / "analysis").mkdir(parents=True)
    return root


def run_action(project: Path, tmp_path: Path, code: str) -> subprocess.CompletedProcess:
    script = project / "analysis" / "model.py"
    script.write_text(code)
    return subprocess.run(
        [
            sys.executable,
            "-c",
            BOOTSTRAP,
            str(project),
            str(tmp_path / "summary.json"),
            str(script),
        ],
        capture_output=True,
        text=True,
        check=False,
    )


def test_an_actions_failure_comes_back_safe_and_its_log_keeps_the_rest(project, tmp_path):
    result = run_action(project, tmp_path, f"rows = {{}}\nrows[{SECRET!r}]\n")
    assert result.returncode != 0
    assert SECRET in result.stderr  # the action's log, which stays in the backend
    summary = read_summary(tmp_path / "summary.json", project)
    assert summary.to_dict() == {
        "error_class": "KeyError",
        "message": "a key (such as a column name or dictionary key) was not found",
        "file": "analysis/model.py",
        "line": 2,
    }


def test_a_summary_forged_by_the_action_is_rebuilt_from_what_can_be_verified(project, tmp_path):
    forged = (
        "import json, sys\n"
        "def hook(*args):\n"
        f"    open(sys.argv[2], 'w').write(json.dumps({{'error_class': 'ValueError', "
        f"'message': {SECRET!r}, 'file': 'analysis/model.py', 'line': 3}}))\n"
        "sys.excepthook = hook\n"
        "raise ValueError()\n"
    )
    run_action(project, tmp_path, forged)
    summary = read_summary(tmp_path / "summary.json", project)
    assert SECRET not in summary.text()
    assert summary.message == "a value was not valid for the operation"


@pytest.mark.parametrize(
    "document",
    [
        {"error_class": SECRET, "message": "x"},
        {"error_class": "Jane_Doe (a subclass of ValueError)", "message": "x"},
        {"error_class": "ValueError", "message": SECRET},
        {"error_class": "pandas.errors.MergeError", "message": SECRET},
        {"error_class": "pandas.errors.Jane_Doe", "message": "x"},
        {"error_class": "ValueError", "message": "x", "file": f"../{SECRET}.py", "line": 1},
        {"error_class": "ValueError", "message": "x", "file": "/etc/passwd", "line": 1},
        {"error_class": "ValueError", "message": "x", "file": "analysis/model.py", "line": 943},
        {"error_class": "ValueError", "message": "x", SECRET: SECRET},
        [SECRET],
    ],
)
def test_forged_fields_never_come_out(project, tmp_path, document):
    (project / "analysis" / "model.py").write_text("x = 1\n")
    path = tmp_path / "summary.json"
    path.write_text(json.dumps(document))
    summary = read_summary(path, project)
    shown = json.dumps(summary.to_dict())
    assert "Jane" not in shown and "943" not in shown and "passwd" not in shown


def test_a_user_class_is_kept_only_if_the_project_declares_it(project, tmp_path):
    (project / "analysis" / "model.py").write_text("class CohortTooSmall(ValueError):\n    pass\n")
    path = tmp_path / "summary.json"
    path.write_text(
        json.dumps(
            {
                "error_class": "CohortTooSmall (a subclass of ValueError)",
                "message": "x",
                "file": "analysis/model.py",
                "line": 2,
            }
        )
    )
    summary = read_summary(path, project)
    assert summary.error_class == "CohortTooSmall (a subclass of ValueError)"
    assert summary.message == "a value was not valid for the operation"
    assert (summary.file, summary.line) == ("analysis/model.py", 2)


def test_missing_oversized_or_broken_summaries_give_a_plain_failure(project, tmp_path):
    path = tmp_path / "summary.json"
    assert read_summary(path, project).error_class == "Exception"
    path.write_text('{"error_class": "ValueError", "message": "' + "x" * MAX_SUMMARY_BYTES + '"}')
    assert read_summary(path, project).error_class == "Exception"
    path.write_text("{not json")
    assert read_summary(path, project).error_class == "Exception"
