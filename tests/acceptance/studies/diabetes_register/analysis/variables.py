"""Variables this study shares between its definitions."""

from ehrql import case, when
from ehrql.tables.tpp import clinical_events, practice_registrations

from codelists import ethnicity6


def registered_on(date):
    return practice_registrations.for_patient_on(date).exists_for_patient()


def age_band(age):
    return case(
        when(age < 40).then("17-39"),
        when(age < 65).then("40-64"),
        when(age < 80).then("65-79"),
        otherwise="80+",
    )


def latest_ethnicity(date):
    recorded = clinical_events.where(clinical_events.snomedct_code.is_in(ethnicity6))
    latest = recorded.where(recorded.date.is_on_or_before(date)).sort_by(recorded.date)
    return latest.last_for_patient().snomedct_code.to_category(ethnicity6)
