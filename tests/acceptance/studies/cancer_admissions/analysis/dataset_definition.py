"""Hospital care in the year after a cancer diagnosis recorded in primary care.

Shaped like a cancer pathway study: a cancer code in the look-back before the index date, then
emergency admissions, admissions with a colorectal cancer diagnosis anywhere in the spell
(searched with contains_any_of) and deaths from those cancers.
"""

import argparse
import datetime

from ehrql import create_dataset, days
from ehrql.tables.tpp import clinical_events, ons_deaths, patients, practice_registrations
from hospital import admissions_within, emergency

from codelists import cancer, colorectal_icd10

parser = argparse.ArgumentParser()
parser.add_argument("--index-date", type=datetime.date.fromisoformat, default="2022-01-01")
parser.add_argument("--lookback-days", type=int, default=365)
parser.add_argument("--follow-up-days", type=int, default=365)
args = parser.parse_args()

index_date = args.index_date
diagnoses = clinical_events.where(clinical_events.snomedct_code.is_in(cancer)).where(
    clinical_events.date.is_on_or_between(index_date - days(args.lookback_days), index_date)
)
first_diagnosis = diagnoses.sort_by(diagnoses.date).first_for_patient().date
admissions = admissions_within(first_diagnosis, args.follow_up_days)

dataset = create_dataset()
dataset.configure_dummy_data(population_size=120)
dataset.define_population(
    diagnoses.exists_for_patient()
    & (patients.age_on(index_date) >= 18)
    & practice_registrations.exists_for_patient_on(index_date)
)
dataset.first_diagnosis = first_diagnosis
dataset.admissions = admissions.count_for_patient()
dataset.emergency_admissions = emergency(admissions).count_for_patient()
dataset.colorectal_admission = admissions.where(
    admissions.all_diagnoses.contains_any_of(colorectal_icd10)
).exists_for_patient()
dataset.died_of_colorectal_cancer = ons_deaths.cause_of_death_is_in(colorectal_icd10)
dataset.date_of_death = ons_deaths.date
