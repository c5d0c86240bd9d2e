"""The core schema: tables every backend holding primary care data provides.

A dataset definition that uses only these tables runs unchanged on any such backend. The tables,
their columns and their helper methods follow the documented ehrQL ``ehrql.tables.core`` schema,
so a published definition can swap ``from ehrql.tables.core import ...`` for
``from fedsafe.tables.core import ...`` (or keep the ehrQL name, where that alias is installed)
and mean the same thing.

Helper methods build on ``self`` rather than on the module-level table, so they also work on a
filtered frame: ``practice_registrations.where(...).for_patient_on(date)`` considers only the
rows the filter kept.
"""

from __future__ import annotations

import datetime
import functools
import operator
from typing import Any, TypeAlias

from fedsafe.codes import DMDCode, ICD10Code, SNOMEDCTCode
from fedsafe.language.frames import EventFrame, PatientFrame, Series, table
from fedsafe.language.series import (
    BoolEventSeries,
    BoolPatientSeries,
    DateEventSeries,
    DatePatientSeries,
    IntEventSeries,
    IntPatientSeries,
)
from fedsafe.query_model.schema import Constraint

DateLike: TypeAlias = str | datetime.date | DatePatientSeries | DateEventSeries
"""What a helper accepts as a date: ``"YYYY-MM-DD"``, a ``datetime.date`` or a date series."""

SEXES = ("female", "male", "intersex", "unknown")

CAUSE_OF_DEATH_COLUMNS = tuple(f"cause_of_death_{i:02d}" for i in range(1, 16))
"""The 15 columns of conditions mentioned on a death certificate, in no meaningful order."""

_MENTIONED = "A condition mentioned on the death certificate (in no meaningful order)."


@table
class clinical_events(EventFrame):
    """Clinical and consultation events: one row per event, many per patient.

    A code is stored as it was recorded and is never updated, so an event coded with a code
    that has since been made inactive keeps the inactive code. Codelists should therefore
    include the relevant inactive codes.
    """

    date = Series(datetime.date, description="The date the event was recorded as happening.")
    snomedct_code = Series(SNOMEDCTCode, description="The SNOMED CT code of the event.")
    numeric_value = Series(
        float,
        description="The value recorded with the event, when it has one (e.g. a measurement).",
    )


@table
class medications(EventFrame):
    """Medications prescribed in primary care: one row per prescription issued.

    Laid out like ``clinical_events``: each row has a dm+d code for the medication issued and
    the date the prescription was issued. Prescribing data is standardised across clinical
    systems because prescriptions travel to pharmacies through the Electronic Prescription
    Service.

    A study may want to leave out prescriptions shortly after a patient joins a practice or
    shortly before they leave one, or to require continuous registration at one practice over
    the study period; ``practice_registrations`` gives the dates to do so.
    """

    date = Series(datetime.date, description="The date the prescription was issued.")
    dmd_code = Series(DMDCode, description="The dm+d code of the medication prescribed.")


@table
class ons_deaths(PatientFrame):
    """Deaths registered in England and Wales, from the Office for National Statistics (ONS).

    Covers deaths certified and registered from February 2019, with the date of death, the
    underlying cause and up to 15 conditions mentioned on the death certificate
    (``cause_of_death_01`` to ``cause_of_death_15``, whose order carries no meaning).

    One row per patient: the few patients with more than one registered death keep the earliest.
    Registration can lag behind the death by weeks or more (inquests and post-mortems delay it),
    so recent deaths may be missing.
    """

    date = Series(datetime.date, description="The patient's date of death.")
    underlying_cause_of_death = Series(
        ICD10Code, description="The underlying cause of the patient's death."
    )
    cause_of_death_01 = Series(ICD10Code, description=_MENTIONED)
    cause_of_death_02 = Series(ICD10Code, description=_MENTIONED)
    cause_of_death_03 = Series(ICD10Code, description=_MENTIONED)
    cause_of_death_04 = Series(ICD10Code, description=_MENTIONED)
    cause_of_death_05 = Series(ICD10Code, description=_MENTIONED)
    cause_of_death_06 = Series(ICD10Code, description=_MENTIONED)
    cause_of_death_07 = Series(ICD10Code, description=_MENTIONED)
    cause_of_death_08 = Series(ICD10Code, description=_MENTIONED)
    cause_of_death_09 = Series(ICD10Code, description=_MENTIONED)
    cause_of_death_10 = Series(ICD10Code, description=_MENTIONED)
    cause_of_death_11 = Series(ICD10Code, description=_MENTIONED)
    cause_of_death_12 = Series(ICD10Code, description=_MENTIONED)
    cause_of_death_13 = Series(ICD10Code, description=_MENTIONED)
    cause_of_death_14 = Series(ICD10Code, description=_MENTIONED)
    cause_of_death_15 = Series(ICD10Code, description=_MENTIONED)

    def cause_of_death_is_in(self, codelist: Any) -> BoolPatientSeries:
        """True where any code in ``codelist`` is the underlying cause or a mentioned condition.

        Checks ``underlying_cause_of_death`` and all 15 ``cause_of_death_NN`` columns, and is
        True when any of them is in the codelist (a list of codes or a codelist).
        """
        columns = ("underlying_cause_of_death", *CAUSE_OF_DEATH_COLUMNS)
        matches = [getattr(self, column).is_in(codelist) for column in columns]
        return functools.reduce(operator.or_, matches)


@table
class patients(PatientFrame):
    """Patients in primary care: one row per patient.

    Records of patients who moved away and did not register with a new practice within a few
    weeks are kept as "orphan" records.

    ``date_of_death`` comes from the primary care record. Deaths usually reach it later than
    they reach the ONS death registrations (``ons_deaths``, the reference source), but almost
    all of them do and their dates are usually reliable. The cause of death recorded in primary
    care is often inaccurate and is not provided.
    """

    date_of_birth = Series(
        datetime.date,
        description="The patient's date of birth, rounded to the first day of its month.",
        constraints=[Constraint.FirstOfMonth(), Constraint.NotNull()],
    )
    sex = Series(
        str,
        description="The patient's sex.",
        constraints=[Constraint.Categorical(SEXES), Constraint.NotNull()],
    )
    date_of_death = Series(
        datetime.date,
        description="The patient's date of death as recorded in primary care, if any.",
    )

    def age_on(self, date: DateLike) -> IntPatientSeries | IntEventSeries:
        """The patient's age in whole calendar years on ``date``.

        Whether the patient is alive on ``date`` is not considered, and the age is negative when
        ``date`` is before the date of birth.
        """
        return (date - self.date_of_birth).years

    def is_alive_on(self, date: DateLike) -> BoolPatientSeries | BoolEventSeries:
        """True unless the primary care record has the patient dying on or before ``date``.

        Only the primary care record is consulted. A patient not yet born on ``date`` counts as
        alive.
        """
        return self.date_of_death.is_after(date) | self.date_of_death.is_null()

    def is_dead_on(self, date: DateLike) -> BoolPatientSeries | BoolEventSeries:
        """True where the primary care record has the patient dying strictly before ``date``.

        Only the primary care record is consulted.
        """
        return self.date_of_death.is_not_null() & self.date_of_death.is_before(date)


@table
class practice_registrations(EventFrame):
    """Patients' registrations with GP practices: one row per registration."""

    start_date = Series(
        datetime.date,
        description="The date the patient joined the practice.",
        constraints=[Constraint.NotNull()],
    )
    end_date = Series(
        datetime.date,
        description="The date the patient left the practice (NULL while still registered).",
    )
    practice_pseudo_id = Series(
        int,
        description="The practice's pseudonymised identifier.",
        constraints=[Constraint.NotNull()],
    )

    def for_patient_on(self, date: DateLike) -> PatientFrame:
        """Each patient's registration on ``date``, as one row per patient.

        The candidates are registrations that started on or before ``date`` and did not end
        before it (a registration ending on ``date`` still counts). Of several, the one that
        started last wins; among those starting the same day, the one ending last; then the
        highest practice ID. As in every sort, a NULL end date sorts lowest, so it loses this
        tie-break to a registration with an end date.
        """
        spanning = self.where(self.start_date <= date).except_where(self.end_date < date)
        ordered = spanning.sort_by(self.start_date, self.end_date, self.practice_pseudo_id)
        return ordered.last_for_patient()

    def exists_for_patient_on(self, date: DateLike) -> BoolPatientSeries:
        """True for patients with a registration spanning ``date`` (see :meth:`spanning`).

        Note that, unlike :meth:`for_patient_on`, a registration ending on ``date`` does not
        count here.
        """
        return self.spanning(date, date).exists_for_patient()

    def spanning(self, start_date: DateLike, end_date: DateLike) -> EventFrame:
        """The registrations covering the whole of ``start_date`` to ``end_date``.

        That is, those that started on or before ``start_date`` and either ended after
        ``end_date`` or have not ended.
        """
        return self.where(
            self.start_date.is_on_or_before(start_date)
            & (self.end_date.is_after(end_date) | self.end_date.is_null())
        )


__all__ = [
    "clinical_events",
    "medications",
    "ons_deaths",
    "patients",
    "practice_registrations",
]
