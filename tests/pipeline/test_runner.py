"""fedsafe run on the example study: real actions, real runtimes, real files."""

from __future__ import annotations

import fcntl
import hashlib
import json
import shutil
from pathlib import Path

import pytest

from fedsafe.pipeline.errors import ProjectError
from fedsafe.pipeline.runner import RunSummary, run_project
from fedsafe.pipeline.scaffold import init_project


def statuses(summary: RunSummary) -> dict[str, str]:
    return {o.name: o.status for o in summary.outcomes}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example study after one full run, to copy from (running it takes seconds)."""
    project = tmp_path_factory.mktemp("built") / "study"
    init_project(project)
    summary = run_project(project, ["all"])
    assert statuses(summary) == {
        "generate_dataset": "succeeded",
        "report": "succeeded",
        "report_dataset": "succeeded",
    }
    return project


@pytest.fixture
def study(built: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "study"
    shutil.copytree(built, copy)
    return copy


def test_a_full_run_records_every_output_with_level_action_size_and_hash(study: Path) -> None:
    manifest = json.loads((study / "metadata" / "manifest.json").read_text())
    by_action = {
        action: {p for p, r in manifest["outputs"].items() if r["action"] == action}
        for action in ("generate_dataset", "report", "report_dataset")
    }
    assert by_action["generate_dataset"] == {"output/dataset.arrow"}
    assert by_action["report"] == {
        "output/diabetes_by_age_band.csv",
        "output/diabetes_by_age_band.csv.disclosure.json",
        "output/diabetes_by_age_band.png",
    }
    # The dataset report: the page, and each table behind it with its disclosure sidecar.
    report_files = by_action["report_dataset"]
    assert "output/dataset_report.html" in report_files
    tables = {p for p in report_files if p.endswith(".csv")}
    assert tables and {p + ".disclosure.json" for p in tables} <= report_files
    assert set(manifest["outputs"]) == set().union(*by_action.values())
    for path, record in manifest["outputs"].items():
        data = (study / path).read_bytes()
        assert record["size"] == len(data)
        assert record["sha256"] == hashlib.sha256(data).hexdigest()
    assert manifest["outputs"]["output/dataset.arrow"]["level"] == "highly_sensitive"
    assert manifest["outputs"]["output/dataset.arrow"]["action"] == "generate_dataset"
    assert manifest["outputs"]["output/diabetes_by_age_band.png"]["level"] == "moderately_sensitive"
    assert manifest["outputs"]["output/diabetes_by_age_band.png"]["action"] == "report"
    assert (study / "output/diabetes_by_age_band.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    table = (study / "output/diabetes_by_age_band.csv").read_text().splitlines()
    assert table[0] == '"age_band","diabetes","no diabetes","Total"'
    assert [line.split(",")[0] for line in table[1:]] == ['"18-39"', '"40-64"', '"65+"', '"Total"']
    assert table[-1].endswith(",1000")  # the definition asks for 1,000 dummy patients
    for name in ("generate_dataset", "report"):
        log = (study / "metadata" / f"{name}.log").read_text()
        assert f"action: {name}" in log
        assert "exit status: 0" in log


def test_unchanged_actions_are_skipped(study: Path) -> None:
    before = (study / "output/dataset.arrow").stat().st_mtime_ns
    summary = run_project(study, ["all"])
    assert statuses(summary) == {
        "generate_dataset": "skipped",
        "report": "skipped",
        "report_dataset": "skipped",
    }
    assert (study / "output/dataset.arrow").stat().st_mtime_ns == before


def test_changed_config_reruns_only_that_action(study: Path) -> None:
    yaml = study / "project.yaml"
    text = yaml.read_text()
    anchor = "    run: python:v1 analysis/report.py\n    needs: [generate_dataset]\n"
    assert text.count(anchor) == 1
    yaml.write_text(
        text.replace(
            anchor,
            anchor + "    config: {title: Diabetes}\n",
        )
    )
    summary = run_project(study, ["all"])
    assert statuses(summary) == {
        "generate_dataset": "skipped",
        "report": "succeeded",
        "report_dataset": "skipped",
    }
    assert 'config: {"title": "Diabetes"}' in (study / "metadata/report.log").read_text()


def test_changed_code_reruns_and_unchanged_inputs_then_skip(study: Path) -> None:
    report = study / "analysis/report.py"
    report.write_text(report.read_text() + "\nprint('changed')\n")
    summary = run_project(study, ["report"])
    # The code changed for both; the dataset came out identical, the report's script did not.
    assert statuses(summary) == {"generate_dataset": "succeeded", "report": "succeeded"}
    assert "changed" in (study / "metadata/report.log").read_text()


CHAIN = """\
version: '1'
actions:
  produce:
    run: python:v1 analysis/produce.py
    config: {rows: 2}
    outputs:
      highly_sensitive:
        data: output/data.csv
  consume:
    run: python:v1 analysis/consume.py
    needs: [produce]
    outputs:
      moderately_sensitive:
        table: output/count.csv
"""
PRODUCE = """\
from fedsafe_analysis import action_config
rows = action_config()["rows"]
open("output/data.csv", "w").write("n\\n" + "1\\n" * rows)
"""
CONSUME = """\
lines = open("output/data.csv").read().splitlines()
open("output/count.csv", "w").write(f"rows\\n{len(lines) - 1}\\n")
"""


def test_changed_inputs_rerun_dependants_and_only_them(tmp_path: Path) -> None:
    (tmp_path / "analysis").mkdir()
    (tmp_path / "analysis/produce.py").write_text(PRODUCE)
    (tmp_path / "analysis/consume.py").write_text(CONSUME)
    (tmp_path / "project.yaml").write_text(CHAIN)
    assert statuses(run_project(tmp_path, ["all"])) == {
        "produce": "succeeded",
        "consume": "succeeded",
    }
    assert (tmp_path / "output/count.csv").read_text() == "rows\n2\n"
    # Only produce's config changes; consume's own code and config do not, its input does.
    (tmp_path / "project.yaml").write_text(CHAIN.replace("rows: 2", "rows: 3"))
    assert statuses(run_project(tmp_path, ["all"])) == {
        "produce": "succeeded",
        "consume": "succeeded",
    }
    assert (tmp_path / "output/count.csv").read_text() == "rows\n3\n"
    assert statuses(run_project(tmp_path, ["all"])) == {"produce": "skipped", "consume": "skipped"}


def test_a_deleted_or_edited_output_is_made_again(study: Path) -> None:
    (study / "output/diabetes_by_age_band.png").unlink()
    assert statuses(run_project(study, ["report"]))["report"] == "succeeded"
    (study / "output/diabetes_by_age_band.csv").write_text("tampered\n")
    assert statuses(run_project(study, ["report"]))["report"] == "succeeded"
    assert (study / "output/diabetes_by_age_band.csv").read_text() != "tampered\n"


def test_force_run_dependencies_runs_everything_again(study: Path) -> None:
    summary = run_project(study, ["report"], force_run_dependencies=True)
    assert statuses(summary) == {"generate_dataset": "succeeded", "report": "succeeded"}


FAILING = """\
version: '1'
actions:
  broken:
    run: python:v1 analysis/broken.py
    outputs:
      moderately_sensitive:
        table: output/broken.csv
  after_broken:
    run: python:v1 analysis/ok.py output/after.csv
    needs: [broken]
    outputs:
      moderately_sensitive:
        table: output/after.csv
  independent:
    run: python:v1 analysis/ok.py output/independent.csv
    outputs:
      moderately_sensitive:
        table: output/independent.csv
"""


@pytest.fixture
def failing(tmp_path: Path) -> Path:
    (tmp_path / "analysis").mkdir()
    (tmp_path / "project.yaml").write_text(FAILING)
    (tmp_path / "analysis/broken.py").write_text("print('about to fail')\nraise ValueError('no')\n")
    (tmp_path / "analysis/ok.py").write_text(
        "import sys, pathlib\npathlib.Path(sys.argv[1]).parent.mkdir(exist_ok=True)\n"
        "pathlib.Path(sys.argv[1]).write_text('n\\n1\\n')\n"
    )
    return tmp_path


def test_a_failure_stops_the_run_and_names_the_log(failing: Path) -> None:
    summary = run_project(failing, ["all"])
    assert statuses(summary) == {
        "broken": "failed",
        "after_broken": "not run",
        "independent": "not run",
    }
    (failed,) = summary.failed
    assert failed.log_path == "metadata/broken.log"
    log = (failing / "metadata/broken.log").read_text()
    assert "about to fail" in log
    assert "ValueError: no" in log
    assert not (failing / "output/independent.csv").exists()


def test_continue_on_error_runs_what_does_not_depend_on_the_failure(failing: Path) -> None:
    summary = run_project(failing, ["all"], continue_on_error=True)
    assert statuses(summary) == {
        "broken": "failed",
        "after_broken": "not run",
        "independent": "succeeded",
    }
    assert (failing / "output/independent.csv").read_text() == "n\n1\n"
    # A failed action is tried again next time, even though nothing changed.
    assert statuses(run_project(failing, ["broken"]))["broken"] == "failed"


def test_a_declared_output_that_is_never_written_fails_the_action(failing: Path) -> None:
    (failing / "analysis/broken.py").write_text("print('wrote nothing')\n")
    summary = run_project(failing, ["broken"])
    assert summary.failed[0].message == "no file matched the output pattern 'output/broken.csv'"


def test_dataset_actions_refuse_to_run_when_the_codelists_check_fails(study: Path) -> None:
    codelist = study / "codelists/nhsd-primary-care-domain-refsets-dm_cod.csv"
    codelist.write_text(codelist.read_text().replace("111552007,", "111552008,"))
    summary = run_project(study, ["all"])
    assert statuses(summary) == {
        "generate_dataset": "failed",
        "report": "not run",
        "report_dataset": "not run",
    }
    message = summary.failed[0].message or ""
    assert "refused to run a dataset action" in message
    assert "check digit is wrong" in message
    assert "line 2" in message
    assert (
        "refused to run a dataset action" in (study / "metadata/generate_dataset.log").read_text()
    )


SPLIT = """\
version: '1'
actions:
  split:
    run: python:v1 analysis/split.py
    config: {names: [a, b]}
    outputs:
      moderately_sensitive:
        tables: output/*.csv
"""
SPLIT_SCRIPT = """\
from fedsafe_analysis import action_config
for name in action_config()["names"]:
    open(f"output/{name}.csv", "w").write("n\\n1\\n")
"""


def test_outputs_no_longer_written_are_removed_and_other_files_are_left_alone(
    tmp_path: Path,
) -> None:
    (tmp_path / "analysis").mkdir()
    (tmp_path / "analysis/split.py").write_text(SPLIT_SCRIPT)
    (tmp_path / "project.yaml").write_text(SPLIT)
    (tmp_path / "output").mkdir()
    (tmp_path / "output/notes.csv").write_text("the researcher's own file\n")
    run_project(tmp_path, ["all"])
    assert sorted(p.name for p in (tmp_path / "output").iterdir()) == [
        "a.csv",
        "b.csv",
        "notes.csv",
    ]
    (tmp_path / "project.yaml").write_text(SPLIT.replace("[a, b]", "[a]"))
    assert statuses(run_project(tmp_path, ["all"])) == {"split": "succeeded"}
    assert sorted(p.name for p in (tmp_path / "output").iterdir()) == ["a.csv", "notes.csv"]
    assert (tmp_path / "output/notes.csv").read_text() == "the researcher's own file\n"
    manifest = json.loads((tmp_path / "metadata/manifest.json").read_text())
    assert list(manifest["outputs"]) == ["output/a.csv"]


def test_a_second_run_in_the_same_project_is_refused_while_one_runs(failing: Path) -> None:
    (failing / "metadata").mkdir()
    with (failing / "metadata/.run.lock").open("a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # as a run in another terminal would
        with pytest.raises(ProjectError, match="another 'fedsafe run' is running"):
            run_project(failing, ["independent"])
        fcntl.flock(held, fcntl.LOCK_UN)
    assert not (failing / "output").exists()
    assert statuses(run_project(failing, ["independent"])) == {"independent": "succeeded"}
