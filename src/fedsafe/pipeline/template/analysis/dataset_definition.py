"""The study's dataset: adults registered on the index date, and whether they have diabetes.

Written as an ehrQL definition would be; fedsafe serves ``from ehrql import ...``.
"""

from ehrql import case, codelist_from_csv, create_dataset, when
from ehrql.tables.core import clinical_events, patients, practice_registrations

index_date = "2024-01-01"

diabetes_codes = codelist_from_csv(
    "codelists/nhsd-primary-care-domain-refsets-dm_cod.csv", column="code"
)

dataset = create_dataset()
dataset.configure_dummy_data(population_size=1000)

age = patients.age_on(index_date)
registered = practice_registrations.for_patient_on(index_date).exists_for_patient()
dataset.define_population(registered & (age >= 18) & (age < 110))

dataset.age_band = case(
    when(age < 40).then("18-39"),
    when(age < 65).then("40-64"),
    otherwise="65+",
)
dataset.sex = patients.sex
dataset.has_diabetes = (
    clinical_events.where(clinical_events.snomedct_code.is_in(diabetes_codes))
    .where(clinical_events.date.is_on_or_before(index_date))
    .exists_for_patient()
)
