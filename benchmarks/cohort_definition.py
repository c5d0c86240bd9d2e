"""A typical 20-variable cohort study, written in ehrQL as a researcher would.

This is the workload of ``bench_cohort.py``: fedsafe runs it and the result is
compared, column for column, with the hand-written DuckDB query in
``cohort_baseline.py``. Any change here must be mirrored there (the test in
``tests/benchmarks`` checks that the two define the same columns).

Adults registered with a practice on 1 January 2020, with diabetes,
osteoarthritis, NSAID and strong-opioid history, death and registration
details. A few variables deliberately lean on ehrQL's documented NULL rules,
because those are what an engine most easily gets wrong:

* ``oa_events`` uses ``except_where``, which keeps rows whose condition is NULL,
  so osteoarthritis events with no date are included; and because NULL sorts
  before every date, ``oa_first_date`` is NULL for anyone with an undated one.
* ``diabetes_last_value`` sorts on date then value, so among same-day events a
  NULL value loses to any recorded one.
"""

from datetime import date
from pathlib import Path

from ehrql import codelist_from_csv, create_dataset, days, years
from ehrql.tables.core import (
    clinical_events,
    medications,
    ons_deaths,
    patients,
    practice_registrations,
)

CODELISTS = Path(__file__).parent / ".." / ".." / "shared" / "data" / "codelists"

diabetes_codes = codelist_from_csv(
    CODELISTS / "nhsd-primary-care-domain-refsets-dm_cod.csv", column="code"
)
osteoarthritis_codes = codelist_from_csv(
    CODELISTS / "user-speed-vm-osteoarthritis-snomed-ct.csv", column="code"
)
nsaid_codes = codelist_from_csv(CODELISTS / "user-speed-vm-nsaids-dmd.csv", column="dmd_id")
opioid_codes = codelist_from_csv(CODELISTS / "opensafely-strongopioidsCW-dmd.csv", column="dmd_id")

index_date = date(2020, 1, 1)

dataset = create_dataset()

# Population: registered on the index date, aged 18 to 100.
age = patients.age_on(index_date)
dataset.define_population(
    practice_registrations.exists_for_patient_on(index_date) & (age >= 18) & (age <= 100)
)

# Demographics
dataset.age = age
dataset.sex = patients.sex

# Diabetes: coded events strictly before the index date.
diabetes_events = clinical_events.where(clinical_events.snomedct_code.is_in(diabetes_codes))
diabetes_events = diabetes_events.where(diabetes_events.date.is_before(index_date))
dataset.diabetes_first_date = diabetes_events.sort_by(diabetes_events.date).first_for_patient().date
dataset.diabetes_last_date = diabetes_events.date.maximum_for_patient()
dataset.diabetes_count = diabetes_events.count_for_patient()
dataset.diabetes_last_value = (
    diabetes_events.sort_by(diabetes_events.date, diabetes_events.numeric_value)
    .last_for_patient()
    .numeric_value
)
dataset.diabetes_mean_value = diabetes_events.numeric_value.mean_for_patient()

# Osteoarthritis: any event not after the index date, undated ones included.
oa_events = clinical_events.where(clinical_events.snomedct_code.is_in(osteoarthritis_codes))
oa_events = oa_events.except_where(oa_events.date.is_after(index_date))
dataset.has_osteoarthritis = oa_events.exists_for_patient()
dataset.oa_first_date = oa_events.sort_by(oa_events.date).first_for_patient().date
dataset.oa_count_2y = oa_events.where(
    oa_events.date.is_on_or_between(index_date - years(2), index_date)
).count_for_patient()

# NSAIDs
nsaids = medications.where(medications.dmd_code.is_in(nsaid_codes))
dataset.nsaid_count_1y = nsaids.where(
    nsaids.date.is_on_or_between(index_date - days(365), index_date)
).count_for_patient()
dataset.nsaid_last_date = (
    nsaids.where(nsaids.date.is_on_or_before(index_date))
    .sort_by(nsaids.date)
    .last_for_patient()
    .date
)

# Strong opioids: history before the index date, first use from it onwards.
opioids = medications.where(medications.dmd_code.is_in(opioid_codes))
dataset.opioid_first_date = (
    opioids.where(opioids.date.is_on_or_after(index_date))
    .sort_by(opioids.date)
    .first_for_patient()
    .date
)
dataset.opioid_count = opioids.where(opioids.date.is_before(index_date)).count_for_patient()
dataset.opioid_last_90d = opioids.where(
    opioids.date.is_on_or_between(index_date - days(90), index_date)
).exists_for_patient()

# Death: primary-care date, ONS registration and cause.
dataset.date_of_death = patients.date_of_death
dataset.died = ons_deaths.exists_for_patient()
dataset.underlying_cause_of_death = ons_deaths.underlying_cause_of_death

# Registration
dataset.practice_id = practice_registrations.for_patient_on(index_date).practice_pseudo_id
dataset.registration_count = practice_registrations.count_for_patient()
