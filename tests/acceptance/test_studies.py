"""Study-shaped acceptance tests: small projects written like published ehrQL studies.

Each folder under ``studies/`` is a project as a researcher keeps it: ``analysis/`` holds the
dataset definition, a sibling ``codelists.py`` and a helper module it imports, and
``codelists/`` holds real codelists downloaded from OpenCodelists (copied from
``/work/shared/data``). Definitions import ``ehrql`` (served by fedsafe), read their own
arguments with ``argparse``, use tpp (or smoketest) tables and their helpers, and one claims a
permission. Each is run through the command line three ways:

1. on generated dummy data, which must deliver exactly the population size asked for;
2. ``create-dummy-tables`` with the same seed, then ``--dummy-tables`` on them, which must give
   the same dataset back;
3. an independent check: the dataset recomputed from the dummy tables in plain Python.

The arguments given differ from the definitions' defaults, so a definition that ignored them
would fail its checks.
"""

from __future__ import annotations

import csv
import datetime
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fedsafe.cli.main import app

STUDIES = Path(__file__).parent / "studies"
DEFINITION = "analysis/dataset_definition.py"

Rows = list[dict[str, str]]


def read(path: Path) -> Rows:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def by_patient(rows: Rows) -> dict[str, Rows]:
    grouped: dict[str, Rows] = {}
    for row in rows:
        grouped.setdefault(row["patient_id"], []).append(row)
    return grouped


def day(text: str) -> datetime.date | None:
    return datetime.date.fromisoformat(text) if text else None


def years_between(born: datetime.date, on: datetime.date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def codes(path: Path, column: str) -> set[str]:
    return {row[column] for row in read(path)}


def registered_on(registrations: Rows, on: datetime.date) -> bool:
    return any(
        day(r["start_date"]) <= on and (not r["end_date"] or day(r["end_date"]) >= on)
        for r in registrations
    )


# -- per-study checks: on the dataset alone, and recomputed from the dummy tables -------------


def diabetes_dataset(rows: Rows) -> None:
    assert all(int(r["age"]) >= 65 for r in rows)
    assert {r["age_band"] for r in rows} <= {"65-79", "80+"}
    assert {r["ethnicity"] for r in rows} <= {"", "1", "2", "3", "4", "5"}
    quintiles = {"1 (most deprived)", "2", "3", "4", "5 (least deprived)", "unknown"}
    assert {r["imd_quintile"] for r in rows} <= quintiles
    assert all(day(r["first_diabetes_date"]) <= datetime.date(2022, 3, 31) for r in rows)


def diabetes_tables(rows: Rows, tables: Path, project: Path) -> None:
    index = datetime.date(2022, 3, 31)
    wanted = codes(project / "codelists/nhsd-primary-care-domain-refsets-dm_cod.csv", "code")
    events = by_patient(read(tables / "clinical_events.csv"))
    registrations = by_patient(read(tables / "practice_registrations.csv"))
    patients = {r["patient_id"]: r for r in read(tables / "patients.csv")}
    for row in rows:
        pid = row["patient_id"]
        coded = [
            day(e["date"])
            for e in events.get(pid, [])
            if e["snomedct_code"] in wanted and e["date"] and day(e["date"]) <= index
        ]
        assert coded and min(coded) == day(row["first_diabetes_date"])
        assert int(row["age"]) == years_between(day(patients[pid]["date_of_birth"]), index)
        assert registered_on(registrations[pid], index)


def waiting_dataset(rows: Rows) -> None:
    start, end = datetime.date(2021, 6, 1), datetime.date(2022, 3, 31)
    assert all(start <= day(r["clock_stop"]) <= end for r in rows)
    assert {r["treatment_function"] for r in rows} <= {"110", "108", "111"}
    assert {r["priority"] for r in rows} <= {"", "routine", "urgent", "two week wait"}
    assert all(int(r["prescriptions"]) >= 0 for r in rows)


def waiting_tables(rows: Rows, tables: Path, project: Path) -> None:
    start, end = datetime.date(2021, 6, 1), datetime.date(2022, 3, 31)
    nsaids = codes(project / "codelists/user-speed-vm-nsaids-dmd.csv", "dmd_id")
    stops = by_patient(read(tables / "wl_clockstops.csv"))
    medications = by_patient(read(tables / "medications.csv"))
    for row in rows:
        pid = row["patient_id"]
        ends = [
            day(s["referral_to_treatment_period_end_date"])
            for s in stops[pid]
            if s["activity_treatment_function_code"] in {"110", "108", "111"}
            and s["referral_to_treatment_period_end_date"]
            and start <= day(s["referral_to_treatment_period_end_date"]) <= end
        ]
        stop = min(ends)
        assert day(row["clock_stop"]) == stop
        window = stop - datetime.timedelta(weeks=8)
        count = sum(
            1
            for m in medications.get(pid, [])
            if m["dmd_code"] in nsaids and m["date"] and window <= day(m["date"]) <= stop
        )
        assert int(row["prescriptions"]) == count


def cancer_dataset(rows: Rows) -> None:
    index = datetime.date(2021, 10, 1)
    assert all(
        index - datetime.timedelta(days=180) <= day(r["first_diagnosis"]) <= index for r in rows
    )
    assert all(int(r["emergency_admissions"]) <= int(r["admissions"]) for r in rows)
    assert {r["colorectal_admission"] for r in rows} == {"T", "F"}


def cancer_tables(rows: Rows, tables: Path, project: Path) -> None:
    wanted = codes(
        project / "codelists/opensafely-cancer-excluding-lung-and-haematological-snomed.csv", "id"
    )
    index = datetime.date(2021, 10, 1)
    events = by_patient(read(tables / "clinical_events.csv"))
    spells = by_patient(read(tables / "apcs.csv"))
    for row in rows:
        pid = row["patient_id"]
        dates = [
            day(e["date"])
            for e in events[pid]
            if e["snomedct_code"] in wanted
            and e["date"]
            and index - datetime.timedelta(days=180) <= day(e["date"]) <= index
        ]
        first = min(dates)
        assert day(row["first_diagnosis"]) == first
        followed = [
            s
            for s in spells.get(pid, [])
            if s["admission_date"]
            and first <= day(s["admission_date"]) <= first + datetime.timedelta(days=365)
        ]
        assert int(row["admissions"]) == len(followed)
        colorectal = any(
            any(code in s["all_diagnoses"] for code in ("C18", "C19", "C20")) for s in followed
        )
        assert row["colorectal_admission"] == ("T" if colorectal else "F")


ATTENDED = {"Arrived", "In Progress", "Finished", "Visit", "Waiting", "Patient Walked Out"}


def appointments_dataset(rows: Rows) -> None:
    assert all(int(r[f"appointments_week_{w}"]) >= 0 for r in rows for w in range(1, 7))
    assert "appointments_week_7" not in rows[0]
    assert {r["age_group"] for r in rows} <= {"18-64", "65+"}


def appointments_tables(rows: Rows, tables: Path, project: Path) -> None:
    start = datetime.date(2022, 10, 3)
    appointments = by_patient(read(tables / "appointments.csv"))
    registrations = by_patient(read(tables / "practice_registrations.csv"))
    end = start + datetime.timedelta(weeks=6, days=-1)
    for row in rows:
        pid = row["patient_id"]
        assert any(
            day(r["start_date"]) <= start
            and (not r["end_date"] or day(r["end_date"]) > end)
            and r["practice_systmone_go_live_date"]
            and day(r["practice_systmone_go_live_date"]) <= start
            for r in registrations[pid]
        )
        for week in range(6):
            first = start + datetime.timedelta(weeks=week)
            last = first + datetime.timedelta(days=6)
            expected = sum(
                1
                for a in appointments.get(pid, [])
                if a["status"] in ATTENDED
                and a["start_date"]
                and first <= day(a["start_date"]) <= last
            )
            assert int(row[f"appointments_week_{week + 1}"]) == expected


def ages_dataset(rows: Rows) -> None:
    assert all(0 <= int(r["age"]) < 120 for r in rows)
    for r in rows:
        low = int(r["band"].split("-")[0])
        assert low <= int(r["age"]) <= low + 9


def ages_tables(rows: Rows, tables: Path, project: Path) -> None:
    index = datetime.date(2015, 6, 30)
    born = {r["patient_id"]: day(r["date_of_birth"]) for r in read(tables / "patients.csv")}
    assert read(tables / "patients.csv")[0].keys() == {"patient_id", "date_of_birth"}
    for row in rows:
        assert int(row["age"]) == years_between(born[row["patient_id"]], index)


@dataclass(frozen=True)
class Study:
    folder: str
    args: tuple[str, ...]
    population: int
    check_dataset: Callable[[Rows], None]
    check_tables: Callable[[Rows, Path, Path], None]
    tables: tuple[str, ...]


STUDY_CASES = [
    Study(
        "diabetes_register",
        ("--index-date", "2022-03-31", "--min-age", "65", "--population-size", "60"),
        60,
        diabetes_dataset,
        diabetes_tables,
        ("addresses", "clinical_events", "patients", "practice_registrations"),
    ),
    Study(
        "waiting_list_pain",
        ("--start-date", "2021-06-01", "--end-date", "2022-03-31", "--codelist", "nsaids",
         "--weeks", "8"),
        120,
        waiting_dataset,
        waiting_tables,
        ("clinical_events", "medications", "patients", "wl_clockstops"),
    ),
    Study(
        "cancer_admissions",
        ("--index-date", "2021-10-01", "--lookback-days", "180"),
        120,
        cancer_dataset,
        cancer_tables,
        ("apcs", "clinical_events", "ons_deaths", "patients", "practice_registrations"),
    ),
    Study(
        "appointments_weekly",
        ("--start-date", "2022-10-03", "--intervals", "6"),
        100,
        appointments_dataset,
        appointments_tables,
        ("appointments", "patients", "practice_registrations", "vaccinations"),
    ),
    Study(
        "age_distribution",
        ("--index-date", "2015-06-30"),
        80,
        ages_dataset,
        ages_tables,
        ("patients",),
    ),
]  # fmt: skip


def invoke(*args: str):
    return CliRunner().invoke(app, list(args))


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request) -> Path:
    root = tmp_path / "project"
    shutil.copytree(STUDIES / request.param, root)
    monkeypatch.chdir(root)
    return root


@pytest.mark.slow
@pytest.mark.parametrize(
    ("project", "study"),
    [pytest.param(s.folder, s, id=s.folder) for s in STUDY_CASES],
    indirect=["project"],
)
def test_study_runs_on_generated_and_on_dummy_tables(project: Path, study: Study) -> None:
    generated = invoke("generate-dataset", DEFINITION, "-o", "generated.csv", "--", *study.args)
    assert generated.exit_code == 0, generated.output
    assert "warning:" not in generated.stderr  # restricted tables are claimed
    rows = read(project / "generated.csv")
    assert len(rows) == study.population
    study.check_dataset(rows)

    made = invoke("create-dummy-tables", DEFINITION, "tables", "--", *study.args)
    assert made.exit_code == 0, made.output
    written = sorted(p.stem for p in (project / "tables").iterdir())
    assert written == sorted(study.tables)

    rerun = invoke(
        "generate-dataset", DEFINITION, "--dummy-tables", "tables", "-o", "rerun.csv", "--",
        *study.args,
    )  # fmt: skip
    assert rerun.exit_code == 0, rerun.output
    assert read(project / "rerun.csv") == rows
    study.check_tables(rows, project / "tables", project)
