"""Appointments attended each week, for patients registered throughout with a SystmOne practice.

Shaped like an appointments measures study, written as a dataset: it claims the appointments
permission, counts attended appointments in each of a number of weeks given on the command
line, and records flu vaccination in the period.
"""

import argparse
import datetime

from ehrql import case, claim_permissions, create_dataset, when
from ehrql.tables.tpp import appointments, patients, practice_registrations, vaccinations
from intervals import weekly

claim_permissions("appointments")

parser = argparse.ArgumentParser()
parser.add_argument("--start-date", type=datetime.date.fromisoformat, default="2023-01-02")
parser.add_argument("--intervals", type=int, default=4)
parser.add_argument("--statuses", choices=["attended", "all"], default="attended")
args = parser.parse_args()

weeks = weekly(args.start_date, args.intervals)
study_start, study_end = weeks[0][0], weeks[-1][1]
ATTENDED = ["Arrived", "In Progress", "Finished", "Visit", "Waiting", "Patient Walked Out"]
counted = appointments
if args.statuses == "attended":
    counted = appointments.where(appointments.status.is_in(ATTENDED))

age = patients.age_on(study_start)
dataset = create_dataset()
dataset.configure_dummy_data(population_size=100)
dataset.define_population(
    practice_registrations.spanning_with_systmone(study_start, study_end).exists_for_patient()
    & (age >= 18)
    & (age < 110)
)
dataset.age_group = case(when(age < 65).then("18-64"), otherwise="65+")
for number, (first, last) in enumerate(weeks, start=1):
    in_week = counted.where(counted.start_date.is_on_or_between(first, last))
    setattr(dataset, f"appointments_week_{number}", in_week.count_for_patient())
dataset.flu_vaccine = (
    vaccinations.where(vaccinations.target_disease == "INFLUENZA")
    .where(vaccinations.date.is_on_or_between(study_start, study_end))
    .exists_for_patient()
)
