"""Every table and column ehrQL documents for the core, tpp, emis and smoketest schemas exists.

The expected lists below are transcribed by hand from ehrQL's public schema reference,
``docs/includes/generated_docs/schemas/{core,tpp,emis,smoketest}.md`` in opensafely-core/ehrql
(core, tpp and emis at commit 01e45b9f85205a7974d7e101e7d7e28fb514ed8f, smoketest at 31ec5739), not
generated from our code, so a column we drop, rename or retype makes this fail. Types use the
documentation's own words; ``DOC_TYPES`` maps them to fedsafe's value types. Columns shown in
the documentation with a definition (``addresses.imd_quintile``) are derived: they are checked
through the frame rather than the stored schema.
"""

from __future__ import annotations

import datetime
import importlib

import pytest

from fedsafe.codes import (
    CTV3Code,
    DMDCode,
    ICD10Code,
    ICD10MultiCodeString,
    OPCS4Code,
    OPCS4MultiCodeString,
    SNOMEDCTCode,
)
from fedsafe.language.frames import PatientFrame
from fedsafe.query_model import nodes as qm
from fedsafe.query_model.schema import Constraint

DOC_TYPES = {
    "integer": int,
    "float": float,
    "string": str,
    "boolean": bool,
    "date": datetime.date,
    "SNOMED-CT code": SNOMEDCTCode,
    "CTV3 (Read v3) code": CTV3Code,
    "ICD-10 code": ICD10Code,
    "OPCS-4 code": OPCS4Code,
    "dm+d code": DMDCode,
    "Multiple ICD-10 codes": ICD10MultiCodeString,
    "Multiple OPCS4 codes": OPCS4MultiCodeString,
}

_CAUSES = [(f"cause_of_death_{i:02d}", "ICD-10 code") for i in range(1, 16)]
_EC_DIAGNOSES = [(f"diagnosis_{i:02d}", "SNOMED-CT code") for i in range(1, 25)]
_WL_SHARED = [
    ("activity_treatment_function_code", "string"),
    ("priority_type_code", "string"),
    ("pseudo_organisation_code_patient_pathway_identifier_issuer", "string"),
    ("pseudo_patient_pathway_identifier", "string"),
    ("pseudo_referral_identifier", "string"),
    ("referral_request_received_date", "date"),
]

# (table, "one row per patient" or "many rows per patient", [(column, documented type), ...])
TPP = [
    ("addresses", "many", [
        ("address_id", "integer"), ("start_date", "date"), ("end_date", "date"),
        ("address_type", "integer"), ("rural_urban_classification", "integer"),
        ("imd_rounded", "integer"), ("imd_quintile", "string"), ("imd_decile", "string"),
        ("msoa_code", "string"), ("has_postcode", "boolean"),
        ("care_home_is_potential_match", "boolean"), ("care_home_requires_nursing", "boolean"),
        ("care_home_does_not_require_nursing", "boolean"),
    ]),
    ("apcs", "many", [
        ("apcs_ident", "integer"), ("admission_date", "date"), ("discharge_date", "date"),
        ("discharge_destination", "string"), ("discharge_method", "string"),
        ("spell_core_hrg_sus", "string"), ("admission_method", "string"),
        ("primary_diagnosis", "ICD-10 code"), ("secondary_diagnosis", "ICD-10 code"),
        ("all_diagnoses", "Multiple ICD-10 codes"), ("all_procedures", "Multiple OPCS4 codes"),
        ("days_in_critical_care", "integer"), ("patient_classification", "string"),
    ]),
    ("apcs_cost", "many", [
        ("apcs_ident", "integer"), ("grand_total_payment_mff", "float"),
        ("tariff_initial_amount", "float"), ("tariff_total_payment", "float"),
        ("admission_date", "date"), ("discharge_date", "date"),
    ]),
    ("appointments", "many", [
        ("booked_date", "date"), ("start_date", "date"), ("seen_date", "date"),
        ("status", "string"),
    ]),
    ("clinical_events", "many", [
        ("date", "date"), ("snomedct_code", "SNOMED-CT code"),
        ("ctv3_code", "CTV3 (Read v3) code"), ("numeric_value", "float"),
        ("consultation_id", "integer"),
    ]),
    ("clinical_events_ranges", "many", [
        ("date", "date"), ("snomedct_code", "SNOMED-CT code"),
        ("ctv3_code", "CTV3 (Read v3) code"), ("numeric_value", "float"),
        ("lower_bound", "float"), ("upper_bound", "float"), ("comparator", "string"),
        ("consultation_id", "integer"),
    ]),
    ("covid_therapeutics", "many", [
        ("covid_indication", "string"), ("current_status", "string"),
        ("intervention", "string"), ("received", "date"), ("region", "string"),
        ("risk_cohort", "string"), ("treatment_start_date", "date"),
    ]),
    ("decision_support_values", "many", [
        ("calculation_date", "date"), ("numeric_value", "float"),
        ("algorithm_description", "string"), ("algorithm_version", "string"),
    ]),
    ("ec", "many", [
        ("ec_ident", "integer"), ("arrival_date", "date"), ("sus_hrg_code", "string"),
    ]),
    ("ec_cost", "many", [
        ("ec_ident", "integer"), ("grand_total_payment_mff", "float"),
        ("tariff_total_payment", "float"), ("arrival_date", "date"),
        ("ec_decision_to_admit_date", "date"), ("ec_injury_date", "date"),
    ]),
    ("emergency_care_attendances", "many", [
        ("id", "integer"), ("arrival_date", "date"),
        ("discharge_destination", "SNOMED-CT code"), *_EC_DIAGNOSES,
    ]),
    ("ethnicity_from_sus", "one", [("code", "string")]),
    ("household_memberships_2020", "one", [
        ("household_pseudo_id", "integer"), ("household_size", "integer"),
    ]),
    ("medications", "many", [
        ("date", "date"), ("dmd_code", "dm+d code"), ("consultation_id", "integer"),
    ]),
    ("occupation_on_covid_vaccine_record", "many", [("is_healthcare_worker", "boolean")]),
    ("ons_deaths", "one", [
        ("date", "date"), ("underlying_cause_of_death", "ICD-10 code"), *_CAUSES,
        ("place", "string"),
    ]),
    ("opa", "many", [
        ("opa_ident", "integer"), ("appointment_date", "date"),
        ("attendance_status", "string"), ("consultation_medium_used", "string"),
        ("first_attendance", "string"), ("hrg_code", "string"),
        ("outcome_of_attendance", "string"), ("referral_request_received_date", "date"),
        ("treatment_function_code", "string"),
    ]),
    ("opa_cost", "many", [
        ("opa_ident", "integer"), ("tariff_opp", "float"), ("grand_total_payment_mff", "float"),
        ("tariff_total_payment", "float"), ("appointment_date", "date"),
        ("referral_request_received_date", "date"),
    ]),
    ("opa_diag", "many", [
        ("opa_ident", "integer"), ("primary_diagnosis_code", "ICD-10 code"),
        ("primary_diagnosis_code_read", "CTV3 (Read v3) code"),
        ("secondary_diagnosis_code_1", "ICD-10 code"),
        ("secondary_diagnosis_code_1_read", "CTV3 (Read v3) code"),
        ("appointment_date", "date"), ("referral_request_received_date", "date"),
    ]),
    ("opa_proc", "many", [
        ("opa_ident", "integer"), ("primary_procedure_code", "OPCS-4 code"),
        ("primary_procedure_code_read", "CTV3 (Read v3) code"),
        ("procedure_code_2", "OPCS-4 code"), ("procedure_code_2_read", "CTV3 (Read v3) code"),
        ("appointment_date", "date"), ("referral_request_received_date", "date"),
    ]),
    ("open_prompt", "many", [
        ("ctv3_code", "CTV3 (Read v3) code"), ("snomedct_code", "SNOMED-CT code"),
        ("creation_date", "date"), ("consultation_date", "date"),
        ("consultation_id", "integer"), ("numeric_value", "float"),
    ]),
    ("parents", "one", [("mother_id", "integer")]),
    ("patients", "one", [
        ("date_of_birth", "date"), ("sex", "string"), ("date_of_death", "date"),
    ]),
    ("practice_registrations", "many", [
        ("start_date", "date"), ("end_date", "date"), ("practice_pseudo_id", "integer"),
        ("practice_stp", "string"), ("practice_nuts1_region_name", "string"),
        ("practice_systmone_go_live_date", "date"),
    ]),
    ("sgss_covid_all_tests", "many", [
        ("specimen_taken_date", "date"), ("is_positive", "boolean"),
        ("lab_report_date", "date"), ("was_symptomatic", "boolean"),
        ("sgtf_status", "integer"), ("variant", "string"),
        ("variant_detection_method", "string"),
    ]),
    ("ukrr", "many", [
        ("dataset", "string"), ("renal_centre", "string"), ("rrt_start_date", "date"),
        ("latest_creatinine", "float"), ("latest_egfr", "float"),
        ("treatment_modality_start", "string"), ("treatment_modality_prevalence", "string"),
    ]),
    ("vaccinations", "many", [
        ("vaccination_id", "integer"), ("date", "date"), ("target_disease", "string"),
        ("product_name", "string"),
    ]),
    ("wl_clockstops", "many", [
        *_WL_SHARED,
        ("referral_to_treatment_period_end_date", "date"),
        ("referral_to_treatment_period_start_date", "date"),
        ("source_of_referral_for_outpatients", "string"), ("waiting_list_type", "string"),
        ("week_ending_date", "date"),
    ]),
    ("wl_openpathways", "many", [
        *_WL_SHARED, ("current_pathway_period_start_date", "date"),
        ("referral_to_treatment_period_end_date", "date"),
        ("referral_to_treatment_period_start_date", "date"),
        ("source_of_referral", "string"), ("waiting_list_type", "string"),
        ("week_ending_date", "date"),
    ]),
]  # fmt: skip

EMIS = [
    ("clinical_events", "many", [
        ("date", "date"), ("snomedct_code", "SNOMED-CT code"), ("numeric_value", "float"),
    ]),
    ("medications", "many", [("date", "date"), ("dmd_code", "dm+d code")]),
    ("ons_deaths", "one", [
        ("date", "date"), ("underlying_cause_of_death", "ICD-10 code"), *_CAUSES,
    ]),
    ("patients", "one", [
        ("date_of_birth", "date"), ("sex", "string"), ("date_of_death", "date"),
        ("registration_start_date", "date"), ("registration_end_date", "date"),
        ("practice_pseudo_id", "string"), ("rural_urban_classification", "integer"),
        ("imd_rounded", "integer"),
    ]),
    ("practice_registrations", "many", [
        ("start_date", "date"), ("end_date", "date"), ("practice_pseudo_id", "integer"),
    ]),
    ("vaccinations", "many", [("date", "date"), ("procedure_code", "SNOMED-CT code")]),
]  # fmt: skip

SMOKETEST = [("patients", "one", [("date_of_birth", "date")])]

CORE = [
    ("clinical_events", "many", [
        ("date", "date"), ("snomedct_code", "SNOMED-CT code"), ("numeric_value", "float"),
    ]),
    ("medications", "many", [("date", "date"), ("dmd_code", "dm+d code")]),
    ("ons_deaths", "one", [
        ("date", "date"), ("underlying_cause_of_death", "ICD-10 code"), *_CAUSES,
    ]),
    ("patients", "one", [
        ("date_of_birth", "date"), ("sex", "string"), ("date_of_death", "date"),
    ]),
    ("practice_registrations", "many", [
        ("start_date", "date"), ("end_date", "date"), ("practice_pseudo_id", "integer"),
    ]),
]  # fmt: skip

SCHEMAS = {"core": CORE, "tpp": TPP, "emis": EMIS, "smoketest": SMOKETEST}

# Documented helper methods, by schema and table.
HELPERS = {
    "core": {
        "ons_deaths": ["cause_of_death_is_in"],
        "patients": ["age_on", "is_alive_on", "is_dead_on"],
        "practice_registrations": ["for_patient_on", "exists_for_patient_on", "spanning"],
    },
    "tpp": {
        "addresses": ["for_patient_on"],
        "decision_support_values": ["electronic_frailty_index"],
        "ons_deaths": ["cause_of_death_is_in"],
        "patients": ["age_on", "is_alive_on", "is_dead_on"],
        "practice_registrations": [
            "for_patient_on",
            "exists_for_patient_on",
            "spanning",
            "spanning_with_systmone",
        ],
    },
    "emis": {
        "ons_deaths": ["cause_of_death_is_in"],
        "patients": ["age_on", "has_practice_registration_spanning"],
        "practice_registrations": ["for_patient_on", "exists_for_patient_on", "spanning"],
    },
}

CASES = [
    pytest.param(schema, table, rows, columns, id=f"{schema}.{table}")
    for schema, tables in SCHEMAS.items()
    for table, rows, columns in tables
]


@pytest.mark.parametrize(("schema", "table", "rows", "columns"), CASES)
def test_documented_table_has_its_columns_with_their_types(schema, table, rows, columns):
    module = importlib.import_module(f"fedsafe.tables.{schema}")
    frame = getattr(module, table)
    node = frame._node
    expected_node = qm.SelectPatientTable if rows == "one" else qm.SelectTable
    assert isinstance(node, expected_node)
    assert node.name == table
    stored = node.schema
    for column, doc_type in columns:
        expected = DOC_TYPES[doc_type]
        if stored.has_column(column):
            assert stored.get_column(column).type is expected, f"{schema}.{table}.{column}"
        else:
            # A derived column: read it from the table and from one row per patient.
            series = getattr(frame, column)
            assert series._type is expected, f"{schema}.{table}.{column}"
    documented = [c for c, _ in columns]
    extra = [c for c in stored.column_names if c not in documented]
    assert extra == [], f"{schema}.{table} has columns the documentation does not: {extra}"


@pytest.mark.parametrize("schema", list(SCHEMAS))
def test_schema_exports_exactly_the_documented_tables(schema):
    module = importlib.import_module(f"fedsafe.tables.{schema}")
    assert sorted(module.__all__) == sorted(table for table, _, _ in SCHEMAS[schema])


@pytest.mark.parametrize(
    ("schema", "table", "method"),
    [(s, t, m) for s, tables in HELPERS.items() for t, methods in tables.items() for m in methods],
)
def test_documented_helper_methods_exist(schema, table, method):
    frame = getattr(importlib.import_module(f"fedsafe.tables.{schema}"), table)
    assert callable(getattr(frame, method))


def test_documented_constraints_are_declared():
    from fedsafe.tables import emis, smoketest, tpp

    def constraints(frame, column):
        return frame._node.schema.get_column(column).constraints

    assert Constraint.Categorical((0, 1, 3)) in constraints(tpp.addresses, "address_type")
    assert Constraint.ClosedRange(0, 32800, 100) in constraints(tpp.addresses, "imd_rounded")
    assert Constraint.Regex("E020[0-9]{5}") in constraints(tpp.addresses, "msoa_code")
    assert Constraint.NotNull() in constraints(tpp.apcs, "apcs_ident")
    assert Constraint.ClosedRange(0, 9) in constraints(tpp.sgss_covid_all_tests, "sgtf_status")
    assert Constraint.Categorical(("female", "male", "unknown")) in constraints(
        emis.patients, "sex"
    )
    assert Constraint.FirstOfMonth() in constraints(smoketest.patients, "date_of_birth")
    statuses = constraints(tpp.appointments, "status")[0].values
    assert len(statuses) == 15 and "Did Not Attend" in statuses


def test_tables_equal_to_core_are_the_core_tables():
    """A definition may mix core and tpp imports of the same table without a clash."""
    from fedsafe.tables import core, emis, tpp

    assert tpp.patients is core.patients
    assert emis.practice_registrations is core.practice_registrations
    assert tpp.clinical_events is not core.clinical_events  # tpp adds ctv3_code


def test_imd_quintile_follows_one_row_per_patient():
    from fedsafe.tables import tpp

    picked = tpp.addresses.for_patient_on("2020-01-01")
    assert isinstance(picked, PatientFrame)
    assert picked.imd_quintile._type is str
    assert picked.imd_decile.is_patient_level
