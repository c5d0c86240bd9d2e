"""Hospital admissions around a date, as the study's definitions use them."""

from ehrql import days
from ehrql.tables.tpp import apcs

from codelists import emergency_admission_methods


def admissions_within(start, length_days):
    return apcs.where(apcs.admission_date.is_on_or_between(start, start + days(length_days)))


def emergency(admissions):
    return admissions.where(admissions.admission_method.is_in(emergency_admission_methods))
