"""Definitions for the dummy data tests, built with the language in-process."""

from __future__ import annotations

from pathlib import Path

import pytest

from fedsafe.codes import codelist_from_csv
from fedsafe.language import case, create_dataset, when
from fedsafe.language.dataset import compile_dataset
from fedsafe.query_model import nodes as qm
from fedsafe.tables.core import (
    clinical_events,
    medications,
    ons_deaths,
    patients,
    practice_registrations,
)

CODELISTS = Path(__file__).parents[2] / "examples" / "demo" / "codelists"
INDEX_DATE = "2020-01-01"


def diabetes_codes():
    return codelist_from_csv(
        CODELISTS / "nhsd-primary-care-domain-refsets-dm_cod.csv", column="code"
    )


def nsaid_codes():
    return codelist_from_csv(CODELISTS / "user-speed-vm-nsaids-dmd.csv", column="dmd_id")


def cohort_definition() -> qm.Dataset:
    """The example study's shape: registered adults, alive, with codelist variables."""
    dataset = create_dataset()
    age = patients.age_on(INDEX_DATE)
    registered = practice_registrations.for_patient_on(INDEX_DATE).exists_for_patient()
    dataset.define_population(
        registered & (age >= 18) & (age <= 100) & patients.is_alive_on(INDEX_DATE)
    )
    dataset.age = age
    dataset.age_band = case(when(age < 40).then("18-39"), otherwise="40+")
    dataset.sex = patients.sex
    diabetes = clinical_events.where(clinical_events.snomedct_code.is_in(diabetes_codes()))
    diabetes = diabetes.where(clinical_events.date.is_on_or_before(INDEX_DATE))
    dataset.has_diabetes = diabetes.exists_for_patient()
    dataset.diabetes_date = diabetes.sort_by(clinical_events.date).first_for_patient().date
    dataset.nsaids = medications.where(
        medications.dmd_code.is_in(nsaid_codes())
        & medications.date.is_on_or_between("2019-01-01", INDEX_DATE)
    ).count_for_patient()
    dataset.died_in_year = ons_deaths.date.is_on_or_between(INDEX_DATE, "2020-12-31")
    return compile_dataset(dataset)


@pytest.fixture(scope="session")
def cohort() -> qm.Dataset:
    return cohort_definition()
