"""The OMOP mapping: OMOP CDM v5.4 tables presented as fedsafe's core tables.

* patients <- person, death: date of birth is the 1st of ``month_of_birth`` (January if
  unknown) of ``year_of_birth``; sex from ``gender_concept_id`` (8507 male, 8532 female, else
  unknown); ``date_of_death`` is the earliest ``death.death_date``.
* practice_registrations <- observation_period, person: one registration per observation
  period; ``practice_pseudo_id`` is ``person.care_site_id`` (0 if none).
* clinical_events <- condition_occurrence, observation, measurement, procedure_occurrence,
  concept: the SNOMED CT code of the row's source concept, else of its standard concept; rows
  with neither are left out; ``numeric_value`` from ``value_as_number``.
* medications <- drug_exposure, concept: the dm+d code (vocabulary ``dm+d``) of the source
  concept, else of the standard concept; rows with neither are left out.
* ons_deaths <- death, concept: the earliest death per person; the underlying cause is the
  ICD-10 code of ``cause_source_concept_id``/``cause_concept_id``; the 15 mentioned-cause
  columns are NULL (OMOP records one cause).
* apcs <- visit_occurrence, condition_occurrence, concept: one spell per inpatient visit
  (``visit_concept_id`` 9201 Inpatient Visit or 262 Emergency Room and Inpatient Visit);
  ``apcs_ident`` is ``visit_occurrence_id``, admission and discharge dates are the visit's
  start and end dates. ``all_diagnoses`` joins with commas the ICD-10 codes (dots removed, one
  episode, in no set order: SQLite cannot order an aggregate) of the conditions linked by
  ``visit_occurrence_id``; ``primary_diagnosis`` is the
  ICD-10 code of the linked condition whose ``condition_status_concept_id`` is 32902 (Primary
  diagnosis). Conditions without an ICD-10 concept (SNOMED CT only) do not appear in apcs.
  The other apcs columns have no home in OMOP and are not provided (``coverage.py``).
* vaccinations <- drug_exposure, concept: drug exposures whose source concept, else standard
  concept, is a CVX vaccine; ``vaccination_id`` is ``drug_exposure_id``, ``product_name`` the
  CVX concept's name. ``target_disease`` is not provided: CVX names products, not diseases.

Caveats are listed in ``docs/backends.md``. The concept table must hold the SNOMED CT, dm+d and
ICD-10 concepts the data uses: codes are read from ``concept.concept_code``, never guessed from
``*_source_value`` text, whose content differs from one ETL to the next.
"""

from __future__ import annotations

from dataclasses import dataclass

import ibis
import ibis.expr.types as ir

from fedsafe.backends.mappings.native import logical_schema
from fedsafe.engines.compiler import PATIENT_ID

__all__ = ["OMOP_TABLES", "OmopMapping"]

MALE, FEMALE = 8507, 8532
SNOMED, DMD, ICD10, CVX = "SNOMED", "dm+d", "ICD10", "CVX"
# OMOP visit concepts of a hospital admission: Inpatient Visit, Emergency Room and Inpatient Visit.
INPATIENT_VISITS = (9201, 262)
PRIMARY_DIAGNOSIS = 32902  # OMOP condition status concept "Primary diagnosis"

# The physical columns each OMOP table must have for this mapping, and their kinds.
OMOP_TABLES: dict[str, dict[str, str]] = {
    "person": {
        "person_id": "integer",
        "gender_concept_id": "integer",
        "year_of_birth": "integer",
        "month_of_birth": "integer",
        "care_site_id": "integer",
    },
    "observation_period": {
        "person_id": "integer",
        "observation_period_start_date": "date",
        "observation_period_end_date": "date",
    },
    "visit_occurrence": {"person_id": "integer", "visit_start_date": "date"},
    "condition_occurrence": {
        "person_id": "integer",
        "condition_start_date": "date",
        "condition_concept_id": "integer",
        "condition_source_concept_id": "integer",
    },
    "observation": {
        "person_id": "integer",
        "observation_date": "date",
        "observation_concept_id": "integer",
        "observation_source_concept_id": "integer",
        "value_as_number": "float",
    },
    "measurement": {
        "person_id": "integer",
        "measurement_date": "date",
        "measurement_concept_id": "integer",
        "measurement_source_concept_id": "integer",
        "value_as_number": "float",
    },
    "procedure_occurrence": {
        "person_id": "integer",
        "procedure_date": "date",
        "procedure_concept_id": "integer",
        "procedure_source_concept_id": "integer",
    },
    "drug_exposure": {
        "person_id": "integer",
        "drug_exposure_start_date": "date",
        "drug_concept_id": "integer",
        "drug_source_concept_id": "integer",
    },
    "death": {
        "person_id": "integer",
        "death_date": "date",
        "cause_concept_id": "integer",
        "cause_source_concept_id": "integer",
    },
    "concept": {"concept_id": "integer", "vocabulary_id": "string", "concept_code": "string"},
}

# (table, date column, concept column stem, value column or None)
EVENT_SOURCES = (
    ("condition_occurrence", "condition_start_date", "condition", None),
    ("observation", "observation_date", "observation", "value_as_number"),
    ("measurement", "measurement_date", "measurement", "value_as_number"),
    ("procedure_occurrence", "procedure_date", "procedure", None),
)

NEEDS: dict[str, tuple[str, ...]] = {
    "patients": ("person", "death"),
    "practice_registrations": ("observation_period", "person"),
    "clinical_events": (*(t for t, *_ in EVENT_SOURCES), "concept"),
    "medications": ("drug_exposure", "concept"),
    "ons_deaths": ("death", "concept"),
    "apcs": ("visit_occurrence", "condition_occurrence", "concept"),
    "vaccinations": ("drug_exposure", "concept"),
}

# Columns a logical table needs beyond OMOP_TABLES' (kept apart so that a database serving only
# the core tables is not asked for columns it never uses).
EXTRA: dict[str, dict[str, dict[str, str]]] = {
    "apcs": {
        "visit_occurrence": {
            "visit_occurrence_id": "integer",
            "visit_concept_id": "integer",
            "visit_end_date": "date",
        },
        "condition_occurrence": {
            "visit_occurrence_id": "integer",
            "condition_status_concept_id": "integer",
        },
    },
    "vaccinations": {
        "drug_exposure": {"drug_exposure_id": "integer"},
        "concept": {"concept_name": "string"},
    },
}


@dataclass(frozen=True)
class OmopMapping:
    name: str = "omop"

    def requirements(self, logical: list[str]) -> dict[str, dict[str, str]]:
        tables = {physical for table in logical for physical in NEEDS[table]}
        needs = {name: dict(OMOP_TABLES[name]) for name in OMOP_TABLES if name in tables}
        for table in logical:
            for physical, columns in EXTRA.get(table, {}).items():
                needs[physical].update(columns)
        return needs

    def load(self, con: ibis.BaseBackend, logical: str) -> ibis.Table:
        table = getattr(self, f"_{logical}")(con)
        schema = logical_schema(logical)
        names = [PATIENT_ID, *schema.column_names]
        return table.select(*names)

    # --- one builder per core table -----------------------------------------------------

    def _patients(self, con: ibis.BaseBackend) -> ir.Table:
        person = con.table("person")
        deaths = _first_deaths(con)
        joined = person.left_join(deaths, person.person_id == deaths.d_person_id)
        gender = joined.gender_concept_id
        return joined.select(
            patient_id=joined.person_id.cast("int64"),
            date_of_birth=ibis.date(
                joined.year_of_birth.cast("int64"),
                joined.month_of_birth.cast("int64").fill_null(1),
                ibis.literal(1),
            ),
            sex=ibis.cases((gender == MALE, "male"), (gender == FEMALE, "female"), else_="unknown"),
            date_of_death=joined.d_date,
        )

    def _practice_registrations(self, con: ibis.BaseBackend) -> ir.Table:
        period = con.table("observation_period")
        person = con.table("person").select(p_id="person_id", care_site_id="care_site_id")
        joined = period.left_join(person, period.person_id == person.p_id)
        return joined.select(
            patient_id=joined.person_id.cast("int64"),
            start_date=joined.observation_period_start_date,
            end_date=joined.observation_period_end_date,
            practice_pseudo_id=joined.care_site_id.cast("int64").fill_null(0),
        )

    def _clinical_events(self, con: ibis.BaseBackend) -> ir.Table:
        parts = []
        for name, date, stem, value in EVENT_SOURCES:
            table = con.table(name)
            coded = _with_code(con, table, stem, SNOMED)
            parts.append(
                coded.select(
                    patient_id=coded.person_id.cast("int64"),
                    date=coded[date],
                    snomedct_code=coded.code,
                    numeric_value=(coded[value].cast("float64") if value else ibis.null("float64")),
                )
            )
        return ibis.union(*parts, distinct=False)

    def _medications(self, con: ibis.BaseBackend) -> ir.Table:
        coded = _with_code(con, con.table("drug_exposure"), "drug", DMD)
        return coded.select(
            patient_id=coded.person_id.cast("int64"),
            date=coded.drug_exposure_start_date,
            dmd_code=coded.code,
        )

    def _ons_deaths(self, con: ibis.BaseBackend) -> ir.Table:
        death = con.table("death")
        coded = _with_code(con, death, "cause", ICD10, keep_uncoded=True)
        first = coded.mutate(
            rank=ibis.row_number().over(
                group_by=coded.person_id, order_by=[coded.death_date, coded.code]
            )
        )
        first = first.filter(first["rank"] == 0)
        columns = {
            "patient_id": first.person_id.cast("int64"),
            "date": first.death_date,
            "underlying_cause_of_death": first.code,
        }
        columns.update({f"cause_of_death_{i:02d}": ibis.null("string") for i in range(1, 16)})
        return first.select(**columns)

    def _apcs(self, con: ibis.BaseBackend) -> ir.Table:
        visit = con.table("visit_occurrence")
        spells = visit.filter(visit.visit_concept_id.isin(INPATIENT_VISITS))
        condition = con.table("condition_occurrence")
        coded = _with_code(
            con, condition.filter(condition.visit_occurrence_id.notnull()), "condition", ICD10
        )
        coded = coded.mutate(code=coded.code.replace(".", ""))
        diagnoses = coded.group_by(v_id=coded.visit_occurrence_id).aggregate(
            all_diagnoses=coded.code.group_concat(","),
            primary_diagnosis=coded.code.min(
                where=coded.condition_status_concept_id == PRIMARY_DIAGNOSIS
            ),
        )
        joined = spells.left_join(diagnoses, spells.visit_occurrence_id == diagnoses.v_id)
        return joined.select(
            patient_id=joined.person_id.cast("int64"),
            apcs_ident=joined.visit_occurrence_id.cast("int64"),
            admission_date=joined.visit_start_date,
            discharge_date=joined.visit_end_date,
            primary_diagnosis=joined.primary_diagnosis,
            all_diagnoses=joined.all_diagnoses,
        )

    def _vaccinations(self, con: ibis.BaseBackend) -> ir.Table:
        drug = con.table("drug_exposure")
        concept = con.table("concept")
        cvx = concept.filter(concept.vocabulary_id == CVX)
        source = cvx.select(src_id=cvx.concept_id, src_name=cvx.concept_name)
        standard = cvx.select(std_id=cvx.concept_id, std_name=cvx.concept_name)
        joined = drug.left_join(source, drug.drug_source_concept_id == source.src_id)
        joined = joined.left_join(standard, joined.drug_concept_id == standard.std_id)
        named = joined.mutate(name=ibis.coalesce(joined.src_name, joined.std_name))
        named = named.filter(named.name.notnull())
        return named.select(
            patient_id=named.person_id.cast("int64"),
            vaccination_id=named.drug_exposure_id.cast("int64"),
            date=named.drug_exposure_start_date,
            product_name=named.name,
        )


def _first_deaths(con: ibis.BaseBackend) -> ir.Table:
    death = con.table("death")
    return death.group_by(d_person_id=death.person_id).aggregate(d_date=death.death_date.min())


def _codes(con: ibis.BaseBackend, vocabulary: str, prefix: str) -> ir.Table:
    concept = con.table("concept")
    chosen = concept.filter(concept.vocabulary_id == vocabulary)
    return chosen.select(
        **{f"{prefix}_id": chosen.concept_id, f"{prefix}_code": chosen.concept_code}
    )


def _with_code(
    con: ibis.BaseBackend,
    table: ir.Table,
    stem: str,
    vocabulary: str,
    *,
    keep_uncoded: bool = False,
) -> ir.Table:
    """Add ``code``: the source concept's code in ``vocabulary``, else the standard concept's."""
    source = _codes(con, vocabulary, "src")
    standard = _codes(con, vocabulary, "std")
    joined = table.left_join(source, table[f"{stem}_source_concept_id"] == source.src_id)
    joined = joined.left_join(standard, joined[f"{stem}_concept_id"] == standard.std_id)
    joined = joined.mutate(code=ibis.coalesce(joined.src_code, joined.std_code))
    return joined if keep_uncoded else joined.filter(joined.code.notnull())
