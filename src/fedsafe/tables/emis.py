"""The EMIS schema: the primary care and linked data of an EMIS backend.

Written from ehrQL's documented ``ehrql.tables.emis`` schema reference. EMIS holds only each
patient's current registration, so ``patients`` carries it (with the practice and area
characteristics) and ``practice_registrations`` has one row per patient at most. The tables
with exactly the core schema's columns are the core tables themselves.
"""

from __future__ import annotations

import datetime

from fedsafe.codes import SNOMEDCTCode
from fedsafe.language.frames import EventFrame, PatientFrame, Series, table
from fedsafe.language.series import BoolPatientSeries, IntPatientSeries
from fedsafe.query_model.schema import Constraint
from fedsafe.tables.core import (
    DateLike,
    clinical_events,
    medications,
    ons_deaths,
    practice_registrations,
)


@table
class patients(PatientFrame):
    """Patients in primary care, with their current practice registration.

    Historical registrations are not available in EMIS. Dates of death come from the primary
    care record (see the core ``patients`` table on how it compares with ONS registrations).
    """

    date_of_birth = Series(
        datetime.date,
        description="The patient's date of birth, rounded to the first day of its month.",
        constraints=[Constraint.FirstOfMonth(), Constraint.NotNull()],
    )
    sex = Series(
        str,
        description="The patient's sex.",
        constraints=[Constraint.Categorical(("female", "male", "unknown")), Constraint.NotNull()],
    )
    date_of_death = Series(
        datetime.date, description="The patient's date of death as recorded in primary care."
    )
    registration_start_date = Series(
        datetime.date,
        description="Date the patient joined their current practice.",
        constraints=[Constraint.NotNull()],
    )
    registration_end_date = Series(
        datetime.date, description="Date the patient left the practice, if they have."
    )
    practice_pseudo_id = Series(
        str,
        description="Pseudonymised identifier of the current practice.",
        constraints=[Constraint.NotNull()],
    )
    rural_urban_classification = Series(
        int,
        description=(
            "Rural-urban classification, from 1 (urban major conurbation) to 8 (rural village "
            "and dispersed, in a sparse setting)."
        ),
        constraints=[Constraint.ClosedRange(1, 8)],
    )
    imd_rounded = Series(
        int,
        description=(
            "Index of Multiple Deprivation rank, rounded to the nearest 100; lower is more "
            "deprived."
        ),
        constraints=[Constraint.ClosedRange(0, 32800, 100)],
    )

    def age_on(self, date: DateLike) -> IntPatientSeries:
        """The patient's age in whole calendar years on ``date`` (negative before birth)."""
        return (date - self.date_of_birth).years

    def has_practice_registration_spanning(
        self, start_date: DateLike, end_date: DateLike
    ) -> BoolPatientSeries:
        """Whether the registration covers the whole of ``start_date`` to ``end_date``."""
        return self.registration_start_date.is_on_or_before(start_date) & (
            self.registration_end_date.is_after(end_date) | self.registration_end_date.is_null()
        )


@table
class vaccinations(EventFrame):
    """Vaccinations given, identified by the SNOMED CT code of the vaccination procedure.

    Products can be found in ``medications`` instead. Vaccinations given at work or in a
    pharmacy may be missing.
    """

    date = Series(datetime.date, description="Date the vaccination was given.")
    procedure_code = Series(
        SNOMEDCTCode, description="SNOMED CT code of the vaccination procedure."
    )


__all__ = [
    "clinical_events",
    "medications",
    "ons_deaths",
    "patients",
    "practice_registrations",
    "vaccinations",
]
