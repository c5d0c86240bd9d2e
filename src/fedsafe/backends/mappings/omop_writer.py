"""Core-table data written as OMOP CDM v5.4 tables: the OMOP mapping run backwards.

Tests, benchmarks and demos use this to put one synthetic population into both forms and show
that a definition gives the same answer on each. What OMOP cannot hold is lost exactly as the
mapping documents: sex other than male/female becomes unknown, one care site per person (the
latest registration's practice), one death table serving both ``patients.date_of_death`` and
``ons_deaths``, one cause of death.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping

import pyarrow as pa

from fedsafe.backends.mappings.omop import DMD, FEMALE, ICD10, MALE, SNOMED

__all__ = ["UNKNOWN_GENDER", "to_omop"]

UNKNOWN_GENDER = 8551
FIRST_CONCEPT_ID = 2_000_000_001


def to_omop(core: Mapping[str, pa.Table]) -> dict[str, pa.Table]:
    """OMOP tables holding the same facts as these core tables (all five must be given)."""
    concepts: dict[tuple[str, str], int] = {}

    def concept(vocabulary: str, code: str | None) -> int | None:
        if code is None:
            return None
        key = (vocabulary, code)
        if key not in concepts:
            concepts[key] = FIRST_CONCEPT_ID + len(concepts)
        return concepts[key]

    patients = core["patients"].to_pylist()
    registrations = core["practice_registrations"].to_pylist()
    latest_practice: dict[int, tuple[datetime.date, int]] = {}
    for r in registrations:
        best = latest_practice.get(r["patient_id"])
        if best is None or r["start_date"] >= best[0]:
            latest_practice[r["patient_id"]] = (r["start_date"], r["practice_pseudo_id"])
    gender = {"male": MALE, "female": FEMALE}
    person = [
        {
            "person_id": p["patient_id"],
            "gender_concept_id": gender.get(p["sex"], UNKNOWN_GENDER),
            "year_of_birth": p["date_of_birth"].year,
            "month_of_birth": p["date_of_birth"].month,
            "care_site_id": latest_practice.get(p["patient_id"], (None, None))[1],
        }
        for p in patients
    ]
    period = [
        {
            "observation_period_id": i,
            "person_id": r["patient_id"],
            "observation_period_start_date": r["start_date"],
            "observation_period_end_date": r["end_date"],
        }
        for i, r in enumerate(registrations, 1)
    ]
    conditions, measurements = [], []
    for i, e in enumerate(core["clinical_events"].to_pylist(), 1):
        concept_id = concept(SNOMED, e["snomedct_code"])
        if e["numeric_value"] is None:
            conditions.append(
                {
                    "condition_occurrence_id": i,
                    "person_id": e["patient_id"],
                    "condition_start_date": e["date"],
                    "condition_concept_id": 0,
                    "condition_source_concept_id": concept_id,
                }
            )
        else:
            measurements.append(
                {
                    "measurement_id": i,
                    "person_id": e["patient_id"],
                    "measurement_date": e["date"],
                    "measurement_concept_id": 0,
                    "measurement_source_concept_id": concept_id,
                    "value_as_number": e["numeric_value"],
                }
            )
    drugs = [
        {
            "drug_exposure_id": i,
            "person_id": m["patient_id"],
            "drug_exposure_start_date": m["date"],
            "drug_concept_id": 0,
            "drug_source_concept_id": concept(DMD, m["dmd_code"]),
        }
        for i, m in enumerate(core["medications"].to_pylist(), 1)
    ]
    registered = {d["patient_id"]: d for d in core["ons_deaths"].to_pylist()}
    death = []
    for p in patients:
        ons = registered.get(p["patient_id"])
        date = ons["date"] if ons else p["date_of_death"]
        if date is None:
            continue
        cause = ons["underlying_cause_of_death"] if ons else None
        death.append(
            {
                "person_id": p["patient_id"],
                "death_date": date,
                "cause_concept_id": 0,
                "cause_source_concept_id": concept(ICD10, cause),
            }
        )
    concept_rows = [
        {"concept_id": cid, "vocabulary_id": vocabulary, "concept_code": code}
        for (vocabulary, code), cid in concepts.items()
    ]
    return {
        name: pa.Table.from_pylist(rows, schema=SCHEMAS[name])
        for name, rows in {
            "person": person,
            "observation_period": period,
            "visit_occurrence": [],
            "condition_occurrence": conditions,
            "observation": [],
            "measurement": measurements,
            "procedure_occurrence": [],
            "drug_exposure": drugs,
            "death": death,
            "concept": concept_rows,
        }.items()
    }


_I, _D, _F, _S = pa.int64(), pa.date32(), pa.float64(), pa.string()
SCHEMAS: dict[str, pa.Schema] = {
    "person": pa.schema(
        [
            ("person_id", _I),
            ("gender_concept_id", _I),
            ("year_of_birth", _I),
            ("month_of_birth", _I),
            ("care_site_id", _I),
        ]
    ),
    "observation_period": pa.schema(
        [
            ("observation_period_id", _I),
            ("person_id", _I),
            ("observation_period_start_date", _D),
            ("observation_period_end_date", _D),
        ]
    ),
    "visit_occurrence": pa.schema(
        [("visit_occurrence_id", _I), ("person_id", _I), ("visit_start_date", _D)]
    ),
    "condition_occurrence": pa.schema(
        [
            ("condition_occurrence_id", _I),
            ("person_id", _I),
            ("condition_start_date", _D),
            ("condition_concept_id", _I),
            ("condition_source_concept_id", _I),
        ]
    ),
    "observation": pa.schema(
        [
            ("observation_id", _I),
            ("person_id", _I),
            ("observation_date", _D),
            ("observation_concept_id", _I),
            ("observation_source_concept_id", _I),
            ("value_as_number", _F),
        ]
    ),
    "measurement": pa.schema(
        [
            ("measurement_id", _I),
            ("person_id", _I),
            ("measurement_date", _D),
            ("measurement_concept_id", _I),
            ("measurement_source_concept_id", _I),
            ("value_as_number", _F),
        ]
    ),
    "procedure_occurrence": pa.schema(
        [
            ("procedure_occurrence_id", _I),
            ("person_id", _I),
            ("procedure_date", _D),
            ("procedure_concept_id", _I),
            ("procedure_source_concept_id", _I),
        ]
    ),
    "drug_exposure": pa.schema(
        [
            ("drug_exposure_id", _I),
            ("person_id", _I),
            ("drug_exposure_start_date", _D),
            ("drug_concept_id", _I),
            ("drug_source_concept_id", _I),
        ]
    ),
    "death": pa.schema(
        [
            ("person_id", _I),
            ("death_date", _D),
            ("cause_concept_id", _I),
            ("cause_source_concept_id", _I),
        ]
    ),
    "concept": pa.schema([("concept_id", _I), ("vocabulary_id", _S), ("concept_code", _S)]),
}
