"""``fedsafe generate-measures``: the long table, protected by default with its sidecar;
exact counts when the definition turns protection off; dummy data with no data source; and bad
definitions refused with their file and line, leaving no output behind."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fedsafe.cli.main import app

HEADER = """\
from ehrql import INTERVAL, create_measures, months
from ehrql.tables.core import medications, patients

rx = medications.where(medications.date.is_during(INTERVAL))
"""

MEASURE = """\
measures.define_measure(
    name="high_dose",
    numerator=rx.where(medications.dmd_code.is_in(["39733211000001101"])).exists_for_patient(),
    denominator=rx.exists_for_patient() & patients.sex.is_in(["male", "female"]),
    group_by={"sex": patients.sex},
    intervals=months(2).starting_on("2022-01-01"),
)
"""

DEFINITION = HEADER + "measures = create_measures()\n" + MEASURE
UNPROTECTED = (
    HEADER
    + "measures = create_measures()\nmeasures.configure_disclosure_control(enabled=False)\n"
    + MEASURE
)

HIGH = "39733211000001101"
LOW = "39695411000001103"


def _tables(folder: Path) -> None:
    """In January 2022: 20 women prescribed (12 the high dose) and 5 men (3 the high dose).

    Nobody is prescribed in February, and one woman's prescription in March is outside the
    intervals.
    """
    folder.mkdir()
    patients = ["patient_id,date_of_birth,sex,date_of_death"]
    medications = ["patient_id,date,dmd_code"]
    for pid in range(1, 26):
        sex = "female" if pid <= 20 else "male"
        patients.append(f"{pid},1970-01-01,{sex},")
        high = pid <= 12 or 21 <= pid <= 23
        medications.append(f"{pid},2022-01-15,{HIGH if high else LOW}")
    medications.append("1,2022-03-02,39733211000001101")
    (folder / "patients.csv").write_text("\n".join(patients) + "\n")
    (folder / "medications.csv").write_text("\n".join(medications) + "\n")


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    _tables(tmp_path / "tables")
    return tmp_path


def _run(*args: str) -> object:
    return CliRunner().invoke(app, ["generate-measures", *args])


HEADER_ROW = "measure,interval_start,interval_end,ratio,numerator,denominator,sex"


def test_counts_are_suppressed_and_rounded_by_default(project: Path) -> None:
    (project / "measures.py").write_text(DEFINITION)
    result = _run("measures.py", "--output", "out.csv", "--dummy-tables", "tables")
    assert result.exit_code == 0, result.output
    # Women: 12/20 -> 10/20 (rounded to 5s), ratio from the rounded counts. Men: 3/5, both
    # at most 7, so redacted, and the ratio with them.
    assert (project / "out.csv").read_text() == (
        f"{HEADER_ROW}\n"
        "high_dose,2022-01-01,2022-01-31,0.5,10,20,female\n"
        "high_dose,2022-01-01,2022-01-31,,,,male\n"
    )
    sidecar = json.loads((project / "out.csv.disclosure.json").read_text())
    assert sidecar["columns"]["numerator"] == "count"
    assert sidecar["columns"]["denominator"] == "count"
    assert sidecar["columns"]["ratio"] == "derived"
    rules = {rule["rule"] for rule in sidecar["rules_applied"]}
    assert {"small_number_suppression", "rounding", "derived_from_protected"} <= rules
    assert sidecar["policy"]["suppress_at_or_below"] == 7
    assert sidecar["policy"]["rounding_base"] == 5


def test_the_backend_policy_from_the_environment_is_applied(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(
        "FEDSAFE_DISCLOSURE_POLICY", '{"suppress_at_or_below": 2, "rounding": "none"}'
    )
    (project / "measures.py").write_text(DEFINITION)
    result = _run("measures.py", "--output", "out.csv", "--dummy-tables", "tables")
    assert result.exit_code == 0, result.output
    # Nothing at or below 2 and no rounding: every count survives as it is.
    assert (project / "out.csv").read_text() == (
        f"{HEADER_ROW}\n"
        "high_dose,2022-01-01,2022-01-31,0.6,12,20,female\n"
        "high_dose,2022-01-01,2022-01-31,0.6,3,5,male\n"
    )
    sidecar = json.loads((project / "out.csv.disclosure.json").read_text())
    assert sidecar["policy"]["suppress_at_or_below"] == 2
    assert sidecar["policy"]["rounding"] == "none"


def test_a_bad_backend_policy_is_refused_and_nothing_is_written(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FEDSAFE_DISCLOSURE_POLICY", '{"supress_at_or_below": 2}')
    (project / "measures.py").write_text(DEFINITION)
    result = _run("measures.py", "--output", "out.csv", "--dummy-tables", "tables")
    assert result.exit_code == 2
    assert "supress_at_or_below" in result.stderr
    assert not (project / "out.csv").exists()
    assert not (project / "out.csv.disclosure.json").exists()


def test_exact_counts_when_the_definition_turns_disclosure_control_off(project: Path) -> None:
    (project / "measures.py").write_text(UNPROTECTED)
    result = _run("measures.py", "--output", "out.csv", "--dummy-tables", "tables")
    assert result.exit_code == 0, result.output
    assert "disclosure control turned off" in result.stderr
    assert (project / "out.csv").read_text() == (
        f"{HEADER_ROW}\n"
        "high_dose,2022-01-01,2022-01-31,0.6,12,20,female\n"
        "high_dose,2022-01-01,2022-01-31,0.6,3,5,male\n"
    )
    # The sidecar says which columns are counts and that no rule ran, so a checker flags them.
    sidecar = json.loads((project / "out.csv.disclosure.json").read_text())
    assert sidecar["rules_applied"] == []
    assert sidecar["columns"]["numerator"] == "count"


def test_one_file_per_measure_with_a_folder_output(project: Path) -> None:
    (project / "measures.py").write_text(
        UNPROTECTED
        + 'measures.define_measure("rx_count", numerator=rx.count_for_patient(), '
        + 'denominator=rx.exists_for_patient(), intervals=months(2).starting_on("2022-01-01"))\n'
    )
    result = _run("measures.py", "--output", "out/:csv", "--dummy-tables", "tables")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (project / "out").iterdir()) == [
        "high_dose.csv",
        "high_dose.csv.disclosure.json",
        "rx_count.csv",
        "rx_count.csv.disclosure.json",
    ]
    # Each file has its own measure's groups only, and no measure column.
    assert (project / "out" / "high_dose.csv").read_text() == (
        "interval_start,interval_end,ratio,numerator,denominator,sex\n"
        "2022-01-01,2022-01-31,0.6,12,20,female\n"
        "2022-01-01,2022-01-31,0.6,3,5,male\n"
    )
    # 25 patients with one January prescription each.
    assert (project / "out" / "rx_count.csv").read_text() == (
        "interval_start,interval_end,ratio,numerator,denominator\n2022-01-01,2022-01-31,1.0,25,25\n"
    )


def test_a_folder_output_with_an_unknown_format_is_refused(project: Path) -> None:
    (project / "measures.py").write_text(DEFINITION)
    result = _run("measures.py", "--output", "out/:txt", "--dummy-tables", "tables")
    assert result.exit_code == 2
    assert "unknown output format" in result.stderr
    assert not (project / "out").exists()


def test_dummy_data_when_no_data_source_is_given(project: Path) -> None:
    (project / "measures.py").write_text(UNPROTECTED)
    result = _run("measures.py", "--output", "out.csv")
    assert result.exit_code == 0, result.output
    lines = (project / "out.csv").read_text().splitlines()
    assert lines[0] == HEADER_ROW
    rows = [line.split(",") for line in lines[1:]]
    # Both months, both sexes in the categories patients.sex declares, sensible counts.
    assert {(r[1], r[2]) for r in rows} == {
        ("2022-01-01", "2022-01-31"),
        ("2022-02-01", "2022-02-28"),
    }
    assert {r[6] for r in rows} <= {"male", "female"}
    for row in rows:
        numerator, denominator = int(row[4]), int(row[5])
        assert 0 <= numerator <= denominator
        assert denominator > 0
    # The codelist guided the dummy codes, so some numerators are not zero.
    assert any(int(r[4]) > 0 for r in rows)
    assert (project / "out.csv.disclosure.json").exists()


BAD = [
    (
        "numerator a string series",
        HEADER
        + "measures = create_measures()\n"
        + 'measures.define_measure("m", numerator=patients.sex, '
        + 'denominator=rx.exists_for_patient(), intervals=months(1).starting_on("2022-01-01"))\n',
        ["measures.py, line 6", "numerator of measure 'm' must be a boolean or integer"],
    ),
    (
        "no measures variable",
        HEADER + "m = create_measures()\n",
        ["no variable named `measures`"],
    ),
    (
        "measures of the wrong kind",
        HEADER + "measures = 3\n",
        ["`measures` is a builtins.int, not a Measures"],
    ),
    (
        "no measures defined",
        HEADER + "measures = create_measures()\n",
        ["No measures"],
    ),
    (
        "duplicate names",
        HEADER + "measures = create_measures()\n" + MEASURE + MEASURE,
        ["measures.py, line 13", "'high_dose' is defined twice"],
    ),
    (
        "intervals missing",
        HEADER
        + "measures = create_measures()\n"
        + 'measures.define_measure("m", numerator=rx.exists_for_patient(), '
        + "denominator=rx.exists_for_patient())\n",
        ["measures.py, line 6", "measure 'm' has no intervals"],
    ),
]


@pytest.mark.parametrize(("body", "fragments"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_definitions_are_refused(project: Path, body: str, fragments: list[str]) -> None:
    (project / "measures.py").write_text(body)
    result = _run("measures.py", "--output", "out.csv", "--dummy-tables", "tables")
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("error: ")
    for fragment in fragments:
        assert fragment in result.stderr, (fragment, result.stderr)
    assert "Traceback" not in result.output
    assert not (project / "out.csv").exists()
    assert not (project / "out.csv.disclosure.json").exists()


def test_a_bad_output_name_is_refused_before_anything_runs(project: Path) -> None:
    (project / "measures.py").write_text(DEFINITION)
    result = _run("measures.py", "--output", "out.txt", "--dummy-tables", "tables")
    assert result.exit_code == 2
    assert "unknown output format" in result.stderr
    assert not (project / "out.txt").exists()
