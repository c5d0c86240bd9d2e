"""generate-measures as a pipeline action: aggregates written protected, with their sidecars."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fedsafe.pipeline.errors import ProjectError
from fedsafe.pipeline.model import parse_project
from fedsafe.pipeline.runner import run_project

DEFINITION = """\
from ehrql import INTERVAL, codelist_from_csv, create_measures, months
from ehrql.tables.core import medications, patients

nsaids = codelist_from_csv("codelists/user-speed-vm-nsaids-dmd.csv", column="dmd_id")
rx = medications.where(medications.date.is_during(INTERVAL))

measures = create_measures()
measures.configure_dummy_data(population_size=200)
measures.define_measure(
    name="nsaids",
    numerator=rx.where(medications.dmd_code.is_in(nsaids)).exists_for_patient(),
    denominator=patients.sex.is_in(["male", "female"]),
    group_by={"sex": patients.sex},
    intervals=months(3).starting_on("2022-01-01"),
)
"""

PROJECT = """\
version: '1'
actions:
  measures:
    run: fedsafe:v1 generate-measures analysis/measures.py --output output/measures.csv
    outputs:
      moderately_sensitive:
        measures: output/measures.csv
        rules: output/measures.csv.disclosure.json
"""

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data" / "codelists"


def test_a_measures_action_runs_on_dummy_data_and_its_outputs_are_releasable(
    tmp_path: Path,
) -> None:
    from fedsafe.codelists.add import add_codelist

    (tmp_path / "analysis").mkdir()
    (tmp_path / "analysis/measures.py").write_text(DEFINITION)
    (tmp_path / "project.yaml").write_text(PROJECT)
    add_codelist(tmp_path, SHARED / "user-speed-vm-nsaids-dmd.csv")
    (outcome,) = run_project(tmp_path, ["all"]).outcomes
    assert outcome.status == "succeeded", (tmp_path / "metadata/measures.log").read_text()
    rows = (tmp_path / "output/measures.csv").read_text().splitlines()
    assert rows[0] == "measure,interval_start,interval_end,ratio,numerator,denominator,sex"
    assert {row.split(",")[1] for row in rows[1:]} == {"2022-01-01", "2022-02-01", "2022-03-01"}
    manifest = json.loads((tmp_path / "metadata/manifest.json").read_text())
    levels = {path: record["level"] for path, record in manifest["outputs"].items()}
    assert levels == {
        "output/measures.csv": "moderately_sensitive",
        "output/measures.csv.disclosure.json": "moderately_sensitive",
    }


def test_measures_actions_refuse_to_run_on_a_failed_codelists_check(tmp_path: Path) -> None:
    (tmp_path / "analysis").mkdir()
    (tmp_path / "analysis/measures.py").write_text(DEFINITION)
    (tmp_path / "project.yaml").write_text(PROJECT)
    (tmp_path / "codelists").mkdir()
    (tmp_path / "codelists/user-speed-vm-nsaids-dmd.csv").write_bytes(
        (SHARED / "user-speed-vm-nsaids-dmd.csv").read_bytes()
    )  # present, but never recorded
    (outcome,) = run_project(tmp_path, ["all"]).outcomes
    assert outcome.status == "failed"
    assert "refused to run a dataset action" in (outcome.message or "")
    assert not (tmp_path / "output/measures.csv").exists()


@pytest.mark.parametrize(
    ("output", "declared", "accepted"),
    [
        ("output/measures.csv", "output/measures.csv", True),
        ("output/measures/:csv", "output/measures/*.csv", True),
        ("output/measures/:csv", "output/other/*.csv", False),
        ("output/measures.csv", "output/m.csv", False),
    ],
)
def test_the_measures_output_must_be_declared(output: str, declared: str, accepted: bool) -> None:
    text = PROJECT.replace("--output output/measures.csv", f"--output {output}").replace(
        "measures: output/measures.csv\n", f"measures: {declared}\n"
    )
    if accepted:
        assert parse_project(text).actions["measures"].run.is_measures
    else:
        with pytest.raises(ProjectError, match="none of the action's outputs matches") as caught:
            parse_project(text)
        assert (caught.value.line, caught.value.field) == (5, "outputs")
