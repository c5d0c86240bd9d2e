"""A small study using every core table, for running the same definition on every backend."""

from datetime import date

from ehrql import create_dataset, days
from ehrql.tables.core import (
    clinical_events,
    medications,
    ons_deaths,
    patients,
    practice_registrations,
)

index_date = date(2020, 1, 1)
diabetes = ["111552007", "112991000000101", "11530004"]
nsaids = ["42112011000001107", "92511000001106"]

dataset = create_dataset()
age = patients.age_on(index_date)
dataset.define_population(practice_registrations.exists_for_patient_on(index_date) & (age >= 18))
dataset.age = age
dataset.sex = patients.sex
dataset.dead_by_2021 = patients.is_dead_on(date(2021, 1, 1))

events = clinical_events.where(clinical_events.date.is_before(index_date))
diabetic = events.where(events.snomedct_code.is_in(diabetes))
dataset.diabetes_first = diabetic.sort_by(diabetic.date).first_for_patient().date
dataset.diabetes_count = diabetic.count_for_patient()
measured = events.where(events.numeric_value.is_not_null())
latest = measured.sort_by(measured.date, measured.numeric_value).last_for_patient()
dataset.latest_value = latest.numeric_value
dataset.latest_code = latest.snomedct_code
dataset.mean_value = measured.numeric_value.mean_for_patient()

recent = medications.where(medications.date.is_on_or_between(index_date - days(365), index_date))
dataset.nsaid_count = recent.where(recent.dmd_code.is_in(nsaids)).count_for_patient()
dataset.last_medication = recent.sort_by(recent.date).last_for_patient().dmd_code
dataset.registered_since = practice_registrations.for_patient_on(index_date).start_date
dataset.death_date = ons_deaths.date
dataset.death_cause = ons_deaths.underlying_cause_of_death
