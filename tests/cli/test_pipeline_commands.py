"""fedsafe init / check / run / codelists as a researcher types them, in real processes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from runtime_cache import runtime_cache  # noqa: F401 - shares the built python:v1

FEDSAFE = Path(sys.executable).parent / "fedsafe"
SHARED = Path(__file__).resolve().parents[3] / "shared" / "data" / "codelists"


def fedsafe(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200"}
    return subprocess.run(
        [str(FEDSAFE), *args], cwd=cwd, capture_output=True, text=True, env=env, check=False
    )


def test_init_then_check_then_run_all(tmp_path: Path) -> None:
    created = fedsafe("init", "study", cwd=tmp_path)
    assert created.returncode == 0, created.stderr
    study = tmp_path / "study"
    assert "next: cd study && fedsafe run all" in created.stderr

    checked = fedsafe("check", cwd=study)
    assert checked.returncode == 0, checked.stderr
    assert "project.yaml: 3 actions, all valid" in checked.stderr
    assert "analysis/dataset_definition.py (action 'generate_dataset'): loads, 3 columns" in (
        checked.stderr
    )

    ran = fedsafe("run", "all", cwd=study)
    assert ran.returncode == 0, ran.stderr
    assert "generate_dataset: succeeded" in ran.stderr
    assert "report: succeeded" in ran.stderr
    assert "report_dataset: succeeded" in ran.stderr
    assert "metadata/report.log" in ran.stderr  # the summary table
    assert (study / "output/dataset_report.html").exists()
    assert (study / "output/diabetes_by_age_band.csv").exists()
    assert (study / "output/diabetes_by_age_band.png").exists()

    again = fedsafe("run", "report", cwd=study)
    assert again.returncode == 0
    assert "report: skipped (unchanged since its last successful run)" in again.stderr


def test_init_refuses_a_folder_with_a_project(tmp_path: Path) -> None:
    (tmp_path / "project.yaml").write_text("version: '1'\n")
    done = fedsafe("init", ".", cwd=tmp_path)
    assert done.returncode == 2
    assert "already has a project.yaml" in done.stderr
    assert (tmp_path / "project.yaml").read_text() == "version: '1'\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["project.yaml"]


def test_a_failed_action_exits_non_zero_naming_it_and_its_log(tmp_path: Path) -> None:
    fedsafe("init", ".", cwd=tmp_path)
    report = tmp_path / "analysis/report.py"
    report.write_text("raise RuntimeError('the analysis broke')\n")
    done = fedsafe("run", "all", cwd=tmp_path)
    assert done.returncode == 2
    assert (
        "error: action 'report' failed (exited with status 1); its log is metadata/report.log"
        in (done.stderr)
    )
    assert "RuntimeError: the analysis broke" in (tmp_path / "metadata/report.log").read_text()


def test_check_names_the_line_of_a_bad_project_yaml_and_run_changes_nothing(
    tmp_path: Path,
) -> None:
    fedsafe("init", ".", cwd=tmp_path)
    project_yaml = tmp_path / "project.yaml"
    project_yaml.write_text(
        project_yaml.read_text().replace("needs: [generate_dataset]", "needs: [generate]", 1)
    )
    for command in (["check"], ["run", "all"]):
        done = fedsafe(*command, cwd=tmp_path)
        assert done.returncode == 2
        assert (
            "error: project.yaml, line 15, action 'report', field 'needs.0': there is no action "
            "'generate'" in done.stderr
        )
    assert not (tmp_path / "metadata").exists()
    assert not (tmp_path / "output").exists()


def test_check_reports_a_definition_that_does_not_load(tmp_path: Path) -> None:
    fedsafe("init", ".", cwd=tmp_path)
    definition = tmp_path / "analysis/dataset_definition.py"
    definition.write_text(
        definition.read_text().replace("dataset.sex = patients.sex", "dataset.sex = patients.sexx")
    )
    done = fedsafe("check", cwd=tmp_path)
    assert done.returncode == 2
    assert "analysis/dataset_definition.py, line 27" in done.stderr


def test_run_an_unknown_action_suggests_the_right_one(tmp_path: Path) -> None:
    fedsafe("init", ".", cwd=tmp_path)
    done = fedsafe("run", "reprot", cwd=tmp_path)
    assert done.returncode == 2
    assert "there is no action 'reprot'" in done.stderr
    assert "did you mean 'report'?" in done.stderr


def test_codelists_add_and_check(tmp_path: Path) -> None:
    added = fedsafe("codelists", "add", str(SHARED / "user-speed-vm-nsaids-dmd.csv"), cwd=tmp_path)
    assert added.returncode == 0, added.stderr
    assert "recorded codelists/user-speed-vm-nsaids-dmd.csv: 1447 dmd codes in column 'dmd_id'" in (
        added.stderr
    )
    checked = fedsafe("codelists", "check", cwd=tmp_path)
    assert checked.returncode == 0
    assert "1 codelist checked" in checked.stderr
    path = tmp_path / "codelists/user-speed-vm-nsaids-dmd.csv"
    path.write_text(path.read_text().replace("42112011000001107", "42112011000001108"))
    failed = fedsafe("codelists", "check", cwd=tmp_path)
    assert failed.returncode == 2
    assert "codelists/user-speed-vm-nsaids-dmd.csv, line 2: '42112011000001108'" in failed.stderr


def test_codelists_add_of_a_missing_file_is_a_user_error(tmp_path: Path) -> None:
    done = fedsafe("codelists", "add", "nope.csv", cwd=tmp_path)
    assert done.returncode == 2
    assert "error: codelists check failed:\n  nope.csv: there is no such file" in done.stderr
    assert not (tmp_path / "codelists").exists()


def test_check_fails_on_an_edited_codelist(tmp_path: Path) -> None:
    fedsafe("init", ".", cwd=tmp_path)
    codelist = tmp_path / "codelists/nhsd-primary-care-domain-refsets-dm_cod.csv"
    codelist.write_text(codelist.read_text() + "73211009,Diabetes mellitus\n")
    done = fedsafe("check", cwd=tmp_path)
    assert done.returncode == 2
    assert "nhsd-primary-care-domain-refsets-dm_cod.csv has changed since it was recorded" in (
        done.stderr
    )
