"""Combine actions in project.yaml: needs_released, its checks, and a local run over a folder
of released files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fedsafe.pipeline.errors import ProjectError
from fedsafe.pipeline.model import parse_project
from fedsafe.pipeline.runner import run_project

MEASURES = """\
  measures:
    run: fedsafe:v1 generate-measures analysis/measures.py --output output/measures.csv
    outputs:
      moderately_sensitive:
        measures: output/measures.csv
        rules: output/measures.csv.disclosure.json
"""

COMBINE = """\
  combine:
    run: fedsafe:v1 combine released --output output/combined
    needs_released: [measures]
    outputs:
      moderately_sensitive:
        tables: output/combined/**/*.csv
        records: output/combined/**/*.json
        svg: output/combined/**/*.svg
        png: output/combined/**/*.png
"""


def _project(*actions: str) -> str:
    return "version: '1'\nactions:\n" + "".join(actions)


def test_a_combine_action_declares_what_it_needs_released() -> None:
    project = parse_project(_project(MEASURES, COMBINE))
    combine = project.actions["combine"]
    assert combine.needs_released == ("measures",)
    assert combine.needs == ()
    assert combine.run.released_dir == "released"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            _project(MEASURES, COMBINE.replace("    needs_released: [measures]\n", "")),
            "must list under needs_released",
        ),
        (
            _project(MEASURES, COMBINE.replace("needs_released: [measures]", "needs: [measures]")),
            "not needs",
        ),
        (_project(MEASURES, COMBINE.replace("[measures]", "[mesures]")), "did you mean 'measures'"),
        (_project(MEASURES, COMBINE.replace("[measures]", "[measures, measures]")), "twice"),
        (_project(MEASURES, COMBINE.replace("[measures]", "[combine]")), "cannot need itself"),
        (
            _project(
                MEASURES.replace("    outputs:", "    needs_released: [x]\n    outputs:"), COMBINE
            ),
            "only a 'fedsafe:v1 combine' action can have needs_released",
        ),
        (
            _project(
                MEASURES,
                COMBINE,
                "  after:\n    run: fedsafe:v1 generate-measures analysis/m.py --output o/x.csv\n"
                "    needs: [combine]\n    outputs:\n      moderately_sensitive:\n"
                "        x: o/x.csv\n",
            ),
            "'combine' is a combine action",
        ),
        (
            _project(
                "  data:\n    run: fedsafe:v1 generate-dataset analysis/d.py --output o/d.csv\n"
                "    outputs:\n      highly_sensitive:\n        d: o/d.csv\n",
                COMBINE.replace("[measures]", "[data]"),
            ),
            "'data' has no moderately_sensitive outputs",
        ),
        (
            _project(MEASURES, COMBINE.replace(" --output output/combined", "")),
            "combine needs --output FOLDER",
        ),
        (
            _project(MEASURES, COMBINE.replace("output/combined/**/*.json", "output/c/*.json")),
            "no output matches its output/combined/manifest.json",
        ),
        (
            _project(MEASURES, COMBINE.replace("moderately_sensitive:", "highly_sensitive:")),
            "must all be moderately_sensitive",
        ),
        (
            _project(MEASURES, COMBINE.replace("combine released", "combine ../x")),
            "inside the project",
        ),
        (
            _project(MEASURES, COMBINE.replace("combine released", "combine codelists")),
            "cannot hold",
        ),
        (_project(MEASURES, COMBINE.replace("combine released", "combine --x")), "folder's path"),
    ],
)
def test_bad_combine_actions_are_refused_with_the_place(text: str, message: str) -> None:
    with pytest.raises(ProjectError) as caught:
        parse_project(text)
    assert message in str(caught.value)
    assert "project.yaml" in str(caught.value)


def test_fedsafe_run_combines_a_local_folder_of_released_files(tmp_path: Path) -> None:
    (tmp_path / "analysis").mkdir()
    (tmp_path / "analysis/measures.py").write_text("# not run here\n")
    (tmp_path / "project.yaml").write_text(_project(MEASURES, COMBINE))
    for backend, row in (("north", "age,0.3,0.1"), ("south", "age,0.5,0.2")):
        folder = tmp_path / "released" / backend / "output"
        folder.mkdir(parents=True)
        (folder / "model.csv").write_text(f"term,estimate,std_error\n{row}\n")
    (outcome,) = run_project(tmp_path, ["combine"]).outcomes
    assert outcome.status == "succeeded", (tmp_path / "metadata/combine.log").read_text()
    manifest = json.loads((tmp_path / "metadata/manifest.json").read_text())
    kept = sorted(p for p in manifest["outputs"] if p.startswith("output/combined"))
    assert "output/combined/manifest.json" in kept
    assert "output/combined/meta/output__model.csv" in kept
    assert "output/combined/charts/output__model.forest.svg" in kept
    combined = json.loads((tmp_path / "output/combined/manifest.json").read_text())
    assert combined["backends"] == ["north", "south"]
    # Unchanged released files: skipped. A new release: combined again.
    (again,) = run_project(tmp_path, ["combine"]).outcomes
    assert again.status == "skipped"
    (tmp_path / "released/south/output/model.csv").write_text(
        "term,estimate,std_error\nage,0.9,0.2\n"
    )
    (third,) = run_project(tmp_path, ["combine"]).outcomes
    assert third.status == "succeeded"


def test_a_bad_release_fails_the_combine_action_with_the_reason(tmp_path: Path) -> None:
    (tmp_path / "analysis").mkdir()
    (tmp_path / "analysis/measures.py").write_text("# not run here\n")
    (tmp_path / "project.yaml").write_text(_project(MEASURES, COMBINE))
    folder = tmp_path / "released" / "north"
    folder.mkdir(parents=True)
    (folder / "model.csv").write_text("term,estimate,std_error\nage,0.3,zero\n")
    (outcome,) = run_project(tmp_path, ["combine"]).outcomes
    assert outcome.status == "failed"
    log = " ".join((tmp_path / "metadata/combine.log").read_text().split())
    assert "model.csv, line 2, column 'std_error': expected a finite number" in log
    assert not (tmp_path / "output/combined").exists()
