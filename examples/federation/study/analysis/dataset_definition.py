"""Adults registered on the index date: their age band, sex and whether they have a diabetes
code (the NHS Digital primary care domain refset) on or before it.

Without a data source (``fedsafe run`` on a laptop) it runs on dummy data; under a backend's
agent, on the backend's database, whatever its engine and schema.
"""

from ehrql import case, codelist_from_csv, create_dataset, get_parameter, when
from ehrql.tables.core import clinical_events, patients, practice_registrations

index_date = get_parameter("index_date", default="2020-01-01")

diabetes_codes = codelist_from_csv(
    "codelists/nhsd-primary-care-domain-refsets-dm_cod.csv", column="code"
)

dataset = create_dataset()
dataset.configure_dummy_data(population_size=500)

age = patients.age_on(index_date)
registered = practice_registrations.for_patient_on(index_date).exists_for_patient()
dataset.define_population(
    registered & (age >= 18) & (age <= 100) & patients.is_alive_on(index_date)
)

dataset.age_band = case(
    when(age < 40).then("18-39"),
    when(age < 65).then("40-64"),
    otherwise="65+",
)
dataset.sex = patients.sex
diabetes = clinical_events.where(clinical_events.snomedct_code.is_in(diabetes_codes)).where(
    clinical_events.date.is_on_or_before(index_date)
)
dataset.has_diabetes = diabetes.exists_for_patient()
# A patient-level value: it stays in the backend's highly sensitive store (the analysis
# releases only protected counts; the demo's test checks that the coordinator never sees it).
dataset.latest_diabetes_value = (
    diabetes.sort_by(clinical_events.date).last_for_patient().numeric_value
)
