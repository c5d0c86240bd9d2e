"""Example study: adults registered on an index date, their diabetes and NSAID history.

Written exactly as an ehrQL definition would be (fedsafe serves ``from ehrql import ...``); run
it with ``make demo``, or by hand:

    fedsafe generate-dataset analysis/dataset_definition.py --output output/dataset.csv \\
        --dsn duckdb:///path/to/core.duckdb --param index_date=2020-01-01
"""

from ehrql import case, codelist_from_csv, create_dataset, days, get_parameter, when, years
from ehrql.tables.core import (
    clinical_events,
    medications,
    ons_deaths,
    patients,
    practice_registrations,
)

index_date = get_parameter("index_date", default="2020-01-01")

diabetes_codes = codelist_from_csv(
    "codelists/nhsd-primary-care-domain-refsets-dm_cod.csv", column="code"
)
ethnicity_codes = codelist_from_csv(
    "codelists/opensafely-ethnicity-snomed-0removed.csv",
    column="snomedcode",
    category_column="Grouping_6",
)
nsaid_codes = codelist_from_csv("codelists/user-speed-vm-nsaids-dmd.csv", column="dmd_id")

dataset = create_dataset()
dataset.configure_dummy_data(population_size=1000)

age = patients.age_on(index_date)
registered = practice_registrations.for_patient_on(index_date).exists_for_patient()
dataset.define_population(
    registered & (age >= 18) & (age <= 100) & patients.is_alive_on(index_date)
)

dataset.age = age
dataset.age_band = case(
    when(age < 40).then("18-39"),
    when(age < 65).then("40-64"),
    otherwise="65+",
)
dataset.sex = patients.sex

dataset.ethnicity = (
    clinical_events.where(clinical_events.snomedct_code.is_in(ethnicity_codes))
    .sort_by(clinical_events.date)
    .last_for_patient()
    .snomedct_code.to_category(ethnicity_codes)
)

diabetes = clinical_events.where(clinical_events.snomedct_code.is_in(diabetes_codes)).where(
    clinical_events.date.is_on_or_before(index_date)
)
dataset.has_diabetes = diabetes.exists_for_patient()
dataset.diabetes_first_date = diabetes.sort_by(clinical_events.date).first_for_patient().date
dataset.diabetes_years = (index_date - dataset.diabetes_first_date).years
dataset.last_diabetes_value = (
    diabetes.sort_by(clinical_events.date).last_for_patient().numeric_value
)

dataset.nsaids_last_year = medications.where(
    medications.dmd_code.is_in(nsaid_codes)
    & medications.date.is_on_or_between(index_date - years(1), index_date)
).count_for_patient()

dataset.died_within_a_year = ons_deaths.date.is_on_or_between(index_date, index_date + days(365))
