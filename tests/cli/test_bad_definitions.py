"""Each kind of bad definition: a clear message naming file and line, exit 2, no output file."""

from pathlib import Path

import pytest
from typer.testing import CliRunner

from fedsafe.cli.main import app

HEADER = """\
from ehrql import codelist_from_csv, create_dataset
from ehrql.tables.core import clinical_events, patients, medications
dataset = create_dataset()
"""

POPULATION = "dataset.define_population(patients.exists_for_patient())\n"

PATIENTS_CSV = "patient_id,date_of_birth,sex,date_of_death\n1,1980-01-01,female,\n"
EVENTS_CSV = "patient_id,date,snomedct_code,numeric_value\n1,2020-01-01,111552007,\n"

# (name, definition body, codelist csv, expected fragments of the error message)
CASES = [
    ("no population", "dataset.sex = patients.sex\n", None, ["No population"]),
    (
        "unknown column",
        POPULATION + "dataset.x = patients.height\n",
        None,
        ["line 5", "has no column 'height'", "date_of_birth"],
    ),
    (
        "unknown table",
        "from ehrql.tables.core import hospital_admissions\n" + POPULATION,
        None,
        ["line 4", "hospital_admissions"],
    ),
    (
        "event-level population",
        "dataset.define_population(clinical_events.date.is_null())\n",
        None,
        ["line 4", "one value per patient"],
    ),
    (
        "mixing tables row by row",
        POPULATION + "x = clinical_events.date > medications.date\n",
        None,
        ["line 5", "different tables", "clinical_events", "medications"],
    ),
    (
        "comparing a date with a code",
        POPULATION + "x = clinical_events.date == clinical_events.snomedct_code\n",
        None,
        ["line 5", "Cannot compare a date"],
    ),
    (
        "codelist column missing",
        'codes = codelist_from_csv("codes.csv", column="snomed")\n' + POPULATION,
        "code,term\n111552007,Diabetes\n",
        ["line 4", "codes.csv", "snomed"],
    ),
    (
        "invalid code in codelist",
        'codes = codelist_from_csv("codes.csv", column="code")\n'
        + POPULATION
        + "dataset.dm = clinical_events.where(\n"
        "    clinical_events.snomedct_code.is_in(codes)\n"
        ").exists_for_patient()\n",
        "code,term\n111552007,Diabetes\n111552008,Not a code\n",
        ["codes.csv, line 3", "111552008", "SNOMED CT"],
    ),
]


@pytest.mark.parametrize(
    ("body", "codelist", "fragments"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_bad_definition(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    body: str,
    codelist: str | None,
    fragments: list[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "definition.py").write_text(HEADER + body)
    if codelist is not None:
        (tmp_path / "codes.csv").write_text(codelist)
    tables = tmp_path / "tables"
    tables.mkdir()
    (tables / "patients.csv").write_text(PATIENTS_CSV)
    (tables / "clinical_events.csv").write_text(EVENTS_CSV)
    result = CliRunner().invoke(
        app,
        ["generate-dataset", "definition.py", "--output", "out.csv", "--dummy-tables", "tables"],
    )
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("error: ")
    assert "definition.py" in result.stderr
    for fragment in fragments:
        assert fragment in result.stderr, (fragment, result.stderr)
    assert "Traceback" not in result.output
    assert not (tmp_path / "out.csv").exists()


def test_dummy_tables_missing_a_table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "definition.py").write_text(
        HEADER + POPULATION + "dataset.n = clinical_events.count_for_patient()\n"
    )
    (tmp_path / "tables").mkdir()
    (tmp_path / "tables" / "patients.csv").write_text(PATIENTS_CSV)
    result = CliRunner().invoke(
        app,
        ["generate-dataset", "definition.py", "--output", "out.csv", "--dummy-tables", "tables"],
    )
    assert result.exit_code == 2
    assert "clinical_events" in result.stderr
    assert not (tmp_path / "out.csv").exists()
