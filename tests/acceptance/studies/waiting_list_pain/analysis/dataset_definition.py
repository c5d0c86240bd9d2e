"""Pain medicines prescribed to people waiting for orthopaedic treatment.

Shaped like a waiting-list study: a completed referral-to-treatment pathway ending in the study
period, the time waited, the priority, a previous osteoarthritis diagnosis, and how many
prescriptions from a chosen codelist fell in the weeks before the clock stopped.
"""

from config import args
from ehrql import create_dataset, weeks
from ehrql.tables.tpp import clinical_events, medications, patients, wl_clockstops

from codelists import medicines, orthopaedic_functions, osteoarthritis

completed = wl_clockstops.where(
    wl_clockstops.activity_treatment_function_code.is_in(orthopaedic_functions)
    & wl_clockstops.referral_to_treatment_period_end_date.is_on_or_between(
        args.start_date, args.end_date
    )
)
pathway = completed.sort_by(completed.referral_to_treatment_period_end_date).first_for_patient()
clock_start = pathway.referral_to_treatment_period_start_date
clock_stop = pathway.referral_to_treatment_period_end_date
chosen = medicines[args.codelist]

dataset = create_dataset()
dataset.configure_dummy_data(population_size=120)
dataset.define_population(pathway.exists_for_patient() & (patients.age_on(clock_stop) >= 18))
dataset.clock_stop = clock_stop
dataset.weeks_waited = (clock_stop - clock_start).days // 7
dataset.priority = pathway.priority_type_code
dataset.treatment_function = pathway.activity_treatment_function_code
dataset.osteoarthritis = (
    clinical_events.where(clinical_events.snomedct_code.is_in(osteoarthritis))
    .where(clinical_events.date.is_before(clock_stop))
    .exists_for_patient()
)
dataset.prescriptions = (
    medications.where(medications.dmd_code.is_in(chosen))
    .where(medications.date.is_on_or_between(clock_stop - weeks(args.weeks), clock_stop))
    .count_for_patient()
)
