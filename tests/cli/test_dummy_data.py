"""The command line's dummy data: generated, written as tables, or a researcher's own file."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fedsafe.cli.main import app

DEFINITION = """\
from ehrql import create_dataset, codelist_from_csv
from ehrql.tables.core import clinical_events, patients, practice_registrations

codes = codelist_from_csv("codelists/diabetes.csv", column="code")
dataset = create_dataset()
dataset.configure_dummy_data(population_size=250)
age = patients.age_on("2020-01-01")
registered = practice_registrations.for_patient_on("2020-01-01").exists_for_patient()
dataset.define_population(registered & (age >= 18))
dataset.age = age
dataset.sex = patients.sex
dataset.has_diabetes = clinical_events.where(
    clinical_events.snomedct_code.is_in(codes)
).exists_for_patient()
"""

CODELIST = Path(__file__).parents[2] / "examples/demo/codelists"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "analysis").mkdir()
    (tmp_path / "analysis" / "dataset_definition.py").write_text(DEFINITION)
    (tmp_path / "codelists").mkdir()
    source = CODELIST / "nhsd-primary-care-domain-refsets-dm_cod.csv"
    (tmp_path / "codelists" / "diabetes.csv").write_text(source.read_text())
    monkeypatch.chdir(tmp_path)
    return tmp_path


def invoke(*args: str):
    return CliRunner().invoke(app, list(args))


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


def test_no_source_writes_the_configured_population(project: Path) -> None:
    result = invoke("generate-dataset", "analysis/dataset_definition.py", "-o", "out.csv")
    assert result.exit_code == 0, result.output
    assert "generated dummy data for 250 patients" in result.stderr
    found = rows(project / "out.csv")
    assert len(found) == 250
    assert all(int(r["age"]) >= 18 for r in found)
    assert {r["has_diabetes"] for r in found} == {"T", "F"}


def test_seed_repeats_and_varies(project: Path) -> None:
    for name, seed in [("a.csv", "1"), ("b.csv", "1"), ("c.csv", "2")]:
        result = invoke(
            "generate-dataset", "analysis/dataset_definition.py", "-o", name, "--seed", seed
        )
        assert result.exit_code == 0, result.output
    assert (project / "a.csv").read_bytes() == (project / "b.csv").read_bytes()
    assert (project / "a.csv").read_bytes() != (project / "c.csv").read_bytes()


def test_dummy_tables_round_trip(project: Path) -> None:
    made = invoke("create-dummy-tables", "analysis/dataset_definition.py", "tables")
    assert made.exit_code == 0, made.output
    names = sorted(p.name for p in (project / "tables").iterdir())
    assert names == ["clinical_events.csv", "patients.csv", "practice_registrations.csv"]
    direct = invoke("generate-dataset", "analysis/dataset_definition.py", "-o", "direct.csv")
    via = invoke(
        "generate-dataset",
        "analysis/dataset_definition.py",
        "-o",
        "via.csv",
        "--dummy-tables",
        "tables",
    )
    assert direct.exit_code == 0 and via.exit_code == 0, via.output
    assert (project / "direct.csv").read_text() == (project / "via.csv").read_text()


def test_edited_dummy_tables_are_used(project: Path) -> None:
    assert invoke("create-dummy-tables", "analysis/dataset_definition.py", "t").exit_code == 0
    patients = (project / "t" / "patients.csv").read_text().splitlines()
    header, first = patients[0], patients[1].split(",")
    first[header.split(",").index("sex")] = "intersex"
    edited = [header, ",".join(first), *patients[2:]]
    (project / "t" / "patients.csv").write_text("\n".join(edited) + "\n")
    result = invoke(
        "generate-dataset", "analysis/dataset_definition.py", "-o", "o.csv", "--dummy-tables", "t"
    )
    assert result.exit_code == 0, result.output
    by_id = {r["patient_id"]: r for r in rows(project / "o.csv")}
    assert by_id[first[0]]["sex"] == "intersex"


def test_dummy_data_file_is_checked_and_written(project: Path) -> None:
    (project / "mine.csv").write_text(
        "patient_id,age,sex,has_diabetes\n1,40,female,T\n2,71,male,F\n"
    )
    result = invoke(
        "generate-dataset",
        "analysis/dataset_definition.py",
        "-o",
        "out.parquet",
        "--dummy-data-file",
        "mine.csv",
    )
    assert result.exit_code == 0, result.output
    import pyarrow.parquet as pq

    table = pq.read_table(project / "out.parquet")
    assert table.to_pylist() == [
        {"patient_id": 1, "age": 40, "sex": "female", "has_diabetes": True},
        {"patient_id": 2, "age": 71, "sex": "male", "has_diabetes": False},
    ]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("patient_id,age,sex\n1,40,female\n", "missing column has_diabetes"),
        (
            "patient_id,age,sex,has_diabetes,bmi\n1,40,female,T,22\n",
            "unexpected column bmi",
        ),
        (
            "patient_id,age,sex,has_diabetes\n1,40,female,T\n2,forty,male,F\n",
            "line 3, column age",
        ),
        (
            "patient_id,age,sex,has_diabetes\n1,40,female,T\n1,41,male,F\n",
            "patient_id 1 appears more than once",
        ),
    ],
)
def test_dummy_data_file_differences_are_named(project: Path, content: str, expected: str) -> None:
    (project / "mine.csv").write_text(content)
    result = invoke(
        "generate-dataset",
        "analysis/dataset_definition.py",
        "-o",
        "out.csv",
        "--dummy-data-file",
        "mine.csv",
    )
    assert result.exit_code == 2
    assert "mine.csv" in result.stderr and expected in result.stderr, result.stderr
    assert not (project / "out.csv").exists()


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (["--dsn", "duckdb://:memory:", "--dummy-data-file", "x.csv"], "give only one of"),
        (["--dummy-tables", "t", "--dummy-profile", "p.json"], "--dummy-profile steers"),
        (["--dummy-profile", "missing.json"], "profile missing.json does not exist"),
        (["--dummy-data-file", "missing.csv"], "dummy data file missing.csv does not exist"),
    ],
)
def test_conflicting_or_missing_dummy_options(
    project: Path, extra: list[str], expected: str
) -> None:
    (project / "t").mkdir()
    result = invoke("generate-dataset", "analysis/dataset_definition.py", "-o", "o.csv", *extra)
    assert result.exit_code == 2
    assert expected in result.stderr, result.stderr
    assert not (project / "o.csv").exists()


def test_unreachable_population_is_a_clear_error(project: Path) -> None:
    (project / "analysis" / "impossible.py").write_text(
        "from ehrql import create_dataset\n"
        "from ehrql.tables.core import patients\n"
        "dataset = create_dataset()\n"
        "dataset.define_population(patients.sex.is_in(['female']) & (patients.sex == 'male'))\n"
    )
    result = invoke("generate-dataset", "analysis/impossible.py", "-o", "o.csv")
    assert result.exit_code == 2
    assert "could not find any patient in the population" in result.stderr
    assert "patients.sex == 'male'" in result.stderr
    assert not (project / "o.csv").exists()


def test_create_dummy_tables_refuses_a_file_as_folder(project: Path) -> None:
    (project / "afile").write_text("x")
    result = invoke("create-dummy-tables", "analysis/dataset_definition.py", "afile")
    assert result.exit_code == 2
    assert "afile exists and is not a folder" in result.stderr
