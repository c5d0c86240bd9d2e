"""Who is on the diabetes register on an index date, and how they are spread.

Shaped like a QOF register study: registered and alive on the index date, old enough, with a
diabetes code recorded by then; described by age band, sex, ethnicity, deprivation and region.
"""

import argparse

from ehrql import create_dataset
from ehrql.tables.tpp import addresses, clinical_events, patients, practice_registrations
from variables import age_band, latest_ethnicity, registered_on

from codelists import diabetes

parser = argparse.ArgumentParser()
parser.add_argument("--index-date", default="2023-03-31")
parser.add_argument("--min-age", type=int, default=17)
parser.add_argument("--population-size", type=int, default=150)
args = parser.parse_args()

index_date = args.index_date
age = patients.age_on(index_date)
diabetes_codes = clinical_events.where(clinical_events.snomedct_code.is_in(diabetes)).where(
    clinical_events.date.is_on_or_before(index_date)
)

dataset = create_dataset()
dataset.configure_dummy_data(population_size=args.population_size)
dataset.define_population(
    registered_on(index_date)
    & patients.is_alive_on(index_date)
    & (age >= args.min_age)
    & diabetes_codes.exists_for_patient()
)
dataset.age = age
dataset.age_band = age_band(age)
dataset.sex = patients.sex
dataset.ethnicity = latest_ethnicity(index_date)
dataset.imd_quintile = addresses.for_patient_on(index_date).imd_quintile
dataset.region = practice_registrations.for_patient_on(index_date).practice_nuts1_region_name
dataset.first_diabetes_date = diabetes_codes.sort_by(diabetes_codes.date).first_for_patient().date
