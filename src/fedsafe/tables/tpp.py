"""The TPP schema: the primary care and linked data of a SystmOne (TPP) backend.

Written from ehrQL's documented ``ehrql.tables.tpp`` schema reference (tables, columns, types,
constraints and helper methods), so that a published definition importing
``from ehrql.tables.tpp import ...`` means the same thing here. Tables whose columns are exactly
those of the core schema are the core tables themselves, so a definition may mix
``ehrql.tables.core.patients`` with ``ehrql.tables.tpp.addresses`` freely; tables that add
columns (``clinical_events`` with ``ctv3_code``) are declared here under the same name, and a
definition must take such a table from one schema only.

Tables some projects may not use without permission are listed in
:mod:`fedsafe.tables.permissions`; claim them with ``claim_permissions(...)``.
"""

from __future__ import annotations

import datetime

from fedsafe.codes import (
    CTV3Code,
    DMDCode,
    ICD10Code,
    ICD10MultiCodeString,
    OPCS4Code,
    OPCS4MultiCodeString,
    SNOMEDCTCode,
)
from fedsafe.language.frames import EventFrame, PatientFrame, Series, table
from fedsafe.language.functions import case, when
from fedsafe.query_model.schema import Constraint
from fedsafe.tables.core import (
    _MENTIONED,
    DateLike,
    patients,
)
from fedsafe.tables.core import (
    ons_deaths as _core_ons_deaths,
)
from fedsafe.tables.core import (
    practice_registrations as _core_practice_registrations,
)

_NHS_REGIONS = (
    "North East",
    "North West",
    "Yorkshire and The Humber",
    "East Midlands",
    "West Midlands",
    "East",
    "London",
    "South East",
    "South West",
)
_HRG = Constraint.Regex("[a-zA-Z]{2}[0-9]{2}[a-zA-Z]")
_TREATMENT_FUNCTION = Constraint.Regex("[a-zA-Z0-9]{3}")
_PRIORITY = Constraint.Categorical(("routine", "urgent", "two week wait"))
_IMD_LSOAS = 32844
"""Lower layer super output areas ranked by the 2019 English Index of Multiple Deprivation."""

_SPELL_ID = "Identifies the spell across the APCS tables."
_ATTENDANCE_ID = "Identifies the attendance across the EC tables."
_APPOINTMENT_ID = "Identifies the appointment across the OPA tables."
_GRAND_TOTAL = (
    "Grand total payment for the activity: contractual (service level agreement) payments "
    "plus the tariff adjusted by the Market Forces Factor."
)
_ADMISSION = "Admission date of the hospital provider spell."
_DISCHARGE = "Date of discharge from the hospital provider spell."
_ARRIVAL = "Date the patient arrived at, or presented to, the emergency department."
_OPA_DATE = "Date of the appointment."
_REFERRAL_RECEIVED = "Date the provider received the referral request."
_EC_DIAGNOSIS = (
    "A SNOMED CT diagnosis from the limited emergency care diagnosis subset of SNOMED CT."
)
_CONSULTATION = "Identifies the SystmOne consultation this record belongs to."


def _quantile_label(imd_rounded, groups: int):
    """Map a rounded IMD rank to '1 (most deprived)' ... 'N (least deprived)' or 'unknown'.

    Boundaries are the documented ``int(32844 * k / groups)``; the lower bound is 0 rather than
    1 because the ranks are rounded to hundreds.
    """
    labels = [str(k) for k in range(1, groups + 1)]
    labels[0] += " (most deprived)"
    labels[-1] += " (least deprived)"
    first = when((imd_rounded >= 0) & (imd_rounded <= int(_IMD_LSOAS * 1 / groups))).then(labels[0])
    rest = [
        when(imd_rounded <= int(_IMD_LSOAS * k / groups)).then(labels[k - 1])
        for k in range(2, groups + 1)
    ]
    return case(first, *rest, otherwise="unknown")


@table
class addresses(EventFrame):
    """Geographic characteristics of the home addresses a patient registers with a practice.

    One row per address registration period; a patient occasionally has several active on one
    date. The postcode (never released) is mapped to an Output Area, from which the larger
    geographies below are derived.
    """

    address_id = Series(int, description="Unique identifier of the address.")
    start_date = Series(datetime.date, description="Date the patient moved to the address.")
    end_date = Series(datetime.date, description="Date the patient moved out of the address.")
    address_type = Series(
        int,
        description="Type of address: 0 permanent, 1 temporary, 3 correspondence only.",
        constraints=[Constraint.Categorical((0, 1, 3))],
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
            "Index of Multiple Deprivation rank of the address's LSOA, rounded to the nearest "
            "100; lower is more deprived."
        ),
        constraints=[Constraint.ClosedRange(0, 32800, 100)],
    )
    msoa_code = Series(
        str,
        description="Middle Layer Super Output Area (MSOA) code.",
        constraints=[Constraint.Regex("E020[0-9]{5}")],
    )
    has_postcode = Series(bool, description="Whether a valid postcode is recorded.")
    care_home_is_potential_match = Series(
        bool, description="Whether TPP's algorithm matched the address with a care home."
    )
    care_home_requires_nursing = Series(
        bool, description="Whether the address matched a care home that requires nursing."
    )
    care_home_does_not_require_nursing = Series(
        bool,
        description="Whether the address matched a care home that does not require nursing.",
    )

    @property
    def imd_quintile(self):
        """IMD rank as quintiles: '1 (most deprived)', '2', '3', '4', '5 (least deprived)' or
        'unknown'. Text, so that the direction of deprivation cannot be mistaken."""
        return _quantile_label(self.imd_rounded, 5)

    @property
    def imd_decile(self):
        """IMD rank as deciles: '1 (most deprived)', '2', ..., '10 (least deprived)' or
        'unknown'."""
        return _quantile_label(self.imd_rounded, 10)

    def for_patient_on(self, date: DateLike) -> PatientFrame:
        """Each patient's address on ``date``, as one row per patient.

        Of the addresses that started on or before ``date`` and did not end before it, prefer
        one with a postcode (other geographic data hangs off it), then the latest to start,
        then the latest to end, then the highest address ID.
        """
        spanning = self.where(self.start_date <= date).except_where(self.end_date < date)
        ordered = spanning.sort_by(
            case(when(self.has_postcode).then(1), otherwise=0),
            self.start_date,
            self.end_date,
            self.address_id,
        )
        return ordered.last_for_patient()


@table
class apcs(EventFrame):
    """Admitted Patient Care Spells from the NHS Secondary Uses Service: one row per spell.

    A spell is a period of continuous in-hospital care within one trust, made of one or more
    episodes. ``all_diagnoses`` and ``all_procedures`` hold every episode's codes in one value;
    search them with ``contains`` and ``contains_any_of``.
    """

    apcs_ident = Series(int, description=_SPELL_ID, constraints=[Constraint.NotNull()])
    admission_date = Series(datetime.date, description=_ADMISSION)
    discharge_date = Series(datetime.date, description=_DISCHARGE)
    discharge_destination = Series(
        str,
        description=(
            "Where the patient went at the end of the spell, or that they died (a 2-character "
            "code, e.g. 19 usual place of residence)."
        ),
    )
    discharge_method = Series(
        str, description="How the patient was discharged (a 1-character code, e.g. 4 died)."
    )
    spell_core_hrg_sus = Series(
        str, description="Core Healthcare Resource Group (HRG) code of the spell, used for tariffs."
    )
    admission_method = Series(str, description="Code of the admission method.")
    primary_diagnosis = Series(
        ICD10Code,
        description=(
            "Primary diagnosis: not necessarily the reason for admission, it may be a "
            "complication of it."
        ),
    )
    secondary_diagnosis = Series(
        ICD10Code,
        description="The first listed secondary diagnosis (see all_diagnoses for the others).",
    )
    all_diagnoses = Series(
        ICD10MultiCodeString,
        description=(
            "Every diagnosis of the spell as ICD-10 codes without dots, separated by commas "
            "within an episode and by '||' between episodes."
        ),
    )
    all_procedures = Series(
        OPCS4MultiCodeString,
        description=(
            "Every procedure of the spell as OPCS-4 codes without dots, separated by commas "
            "within an episode and by '||' between episodes."
        ),
    )
    days_in_critical_care = Series(int, description="Days (or part days) spent in critical care.")
    patient_classification = Series(str, description="Patient classification code.")


@table
class apcs_cost(EventFrame):
    """Costs of Admitted Patient Care Spells: one row per spell. Covers recent years only."""

    apcs_ident = Series(int, description=_SPELL_ID, constraints=[Constraint.NotNull()])
    grand_total_payment_mff = Series(float, description=_GRAND_TOTAL)
    tariff_initial_amount = Series(float, description="The base national tariff.")
    tariff_total_payment = Series(float, description="Total payment under the national tariff.")
    admission_date = Series(datetime.date, description=_ADMISSION)
    discharge_date = Series(datetime.date, description=_DISCHARGE)


@table
class appointments(EventFrame):
    """Appointments in primary care, from SystmOne's appointment records.

    Not yet well characterised: it may miss some GP-patient contacts and holds duplicates, so
    its use needs the ``appointments`` permission. Records from before a practice moved to
    SystmOne may be incomplete; ``practice_registrations.spanning_with_systmone()`` finds
    patients registered throughout with a SystmOne practice. Appointments link to
    consultations only through their dates.
    """

    booked_date = Series(datetime.date, description="Date the appointment was booked.")
    start_date = Series(datetime.date, description="Date the appointment was due to start.")
    seen_date = Series(datetime.date, description="Date the patient was seen.")
    status = Series(
        str,
        description="Status of the appointment.",
        constraints=[
            Constraint.Categorical(
                (
                    "Booked",
                    "Arrived",
                    "Did Not Attend",
                    "In Progress",
                    "Finished",
                    "Requested",
                    "Blocked",
                    "Visit",
                    "Waiting",
                    "Cancelled by Patient",
                    "Cancelled by Unit",
                    "Cancelled by Other Service",
                    "No Access Visit",
                    "Cancelled Due To Death",
                    "Patient Walked Out",
                )
            )
        ],
    )


@table
class clinical_events(EventFrame):
    """Clinical and consultation events: one row per event and coding system.

    Each event is recorded twice, once with a CTV3 code and once with its SNOMED CT
    equivalent; each row has exactly one of ``ctv3_code`` and ``snomedct_code``, so a query in
    either system sees each event once. Codes are never updated, so codelists should include
    inactive codes. Referrals are only partly recorded here.
    """

    date = Series(datetime.date, description="Date of the event.")
    snomedct_code = Series(SNOMEDCTCode, description="SNOMED CT code of the event, if any.")
    ctv3_code = Series(CTV3Code, description="CTV3 code of the event, if any.")
    numeric_value = Series(float, description="Value recorded with the event, if any.")
    consultation_id = Series(int, description=_CONSULTATION)


@table
class clinical_events_ranges(EventFrame):
    """``clinical_events`` with the comparator and reference range of each numeric value.

    Much slower to query than ``clinical_events``: use it only for these extra columns.
    """

    date = Series(datetime.date, description="Date of the event.")
    snomedct_code = Series(SNOMEDCTCode, description="SNOMED CT code of the event, if any.")
    ctv3_code = Series(CTV3Code, description="CTV3 code of the event, if any.")
    numeric_value = Series(float, description="Value recorded with the event, if any.")
    lower_bound = Series(float, description="Lower bound of the reference range of numeric_value.")
    upper_bound = Series(float, description="Upper bound of the reference range of numeric_value.")
    comparator = Series(
        str,
        description="Comparator recorded with numeric_value (as in '<9.5'), if any.",
        constraints=[Constraint.Categorical(("~", "=", ">=", ">", "<", "<="))],
    )
    consultation_id = Series(int, description=_CONSULTATION)


@table
class covid_therapeutics(EventFrame):
    """COVID-19 antiviral and neutralising antibody treatments, from NHS England.

    One row per completed form for a course of treatment (mostly from the BlueTeq system);
    partial duplicates remain. Treatment dates may be before or after the form's date.
    """

    covid_indication = Series(
        str,
        description="Treatment setting or indication.",
        constraints=[
            Constraint.Categorical(("non_hospitalised", "hospitalised_with", "hospital_onset"))
        ],
    )
    current_status = Series(
        str,
        description="Status of the form.",
        constraints=[
            Constraint.Categorical(
                ("Approved", "Treatment Complete", "Treatment Not Started", "Treatment Stopped")
            )
        ],
    )
    intervention = Series(
        str,
        description=(
            "Name of the therapeutic (e.g. Molnupiravir, Paxlovid, Remdesivir, Sotrovimab)."
        ),
    )
    received = Series(datetime.date, description="Date the form was submitted.")
    region = Series(str, description="NHS England region of the submitting unit.")
    risk_cohort = Series(
        str,
        description=(
            "Comma-separated high-risk groups the patient was considered to be in (wording "
            "has changed over time)."
        ),
    )
    treatment_start_date = Series(
        datetime.date, description="Planned or actual start date entered by the clinician."
    )


@table
class decision_support_values(EventFrame):
    """Values computed by decision support algorithms, such as the Electronic Frailty Index."""

    calculation_date = Series(datetime.date, description="Date the value was calculated.")
    numeric_value = Series(float, description="Value computed by the algorithm.")
    algorithm_description = Series(str, description="Description of the algorithm.")
    algorithm_version = Series(str, description="Version of the algorithm.")

    def electronic_frailty_index(self) -> EventFrame:
        """Every calculated Electronic Frailty Index (version 1) for each patient."""
        return self.where(self.algorithm_description == "UK Electronic Frailty Index (eFI)").where(
            self.algorithm_version == "1.0"
        )


@table
class ec(EventFrame):
    """Emergency Care Data Set attendances from the NHS Secondary Uses Service: core details."""

    ec_ident = Series(int, description=_ATTENDANCE_ID, constraints=[Constraint.NotNull()])
    arrival_date = Series(datetime.date, description=_ARRIVAL)
    sus_hrg_code = Series(
        str,
        description="Core Healthcare Resource Group (HRG) code derived by SUS+, for tariffs.",
        constraints=[_HRG],
    )


@table
class ec_cost(EventFrame):
    """Costs of emergency care attendances."""

    ec_ident = Series(int, description=_ATTENDANCE_ID, constraints=[Constraint.NotNull()])
    grand_total_payment_mff = Series(float, description=_GRAND_TOTAL)
    tariff_total_payment = Series(float, description="Total payment under the national tariff.")
    arrival_date = Series(datetime.date, description=_ARRIVAL)
    ec_decision_to_admit_date = Series(
        datetime.date, description="Date a decision to admit was made, if any."
    )
    ec_injury_date = Series(datetime.date, description="Date of the injury, if any.")


@table
class emergency_care_attendances(EventFrame):
    """Emergency care attendances with their discharge destination and diagnoses.

    Only a limited set of diagnoses may be recorded, so they do not match the range of other
    sources such as the primary care record.
    """

    id = Series(int, description=_ATTENDANCE_ID, constraints=[Constraint.NotNull()])
    arrival_date = Series(datetime.date, description=_ARRIVAL)
    discharge_destination = Series(
        SNOMEDCTCode, description="SNOMED CT concept of where the patient went on discharge."
    )
    locals().update(
        {
            f"diagnosis_{i:02d}": Series(SNOMEDCTCode, description=_EC_DIAGNOSIS)
            for i in range(1, 25)
        }
    )


@table
class ethnicity_from_sus(PatientFrame):
    """Each patient's most frequent national ethnicity code across SUS (APCS, EC and OPA).

    Codes for "not stated" (Z) and "not known" (99) are left out; ties go to the lexically
    greatest code.
    """

    code = Series(
        str,
        description="First character of the national (2001 census) ethnic category code.",
        constraints=[Constraint.Categorical(tuple("ABCDEFGHJKLMNPRS"))],
    )


@table
class household_memberships_2020(PatientFrame):
    """Household membership on 2020-02-01, as inferred by TPP."""

    household_pseudo_id = Series(int, description="Pseudonymised household identifier.")
    household_size = Series(int, description="Number of people in the household.")


@table
class medications(EventFrame):
    """Medications prescribed in primary care: one row per prescription issued (dm+d coded).

    See the core ``medications`` table for what to consider when using prescribing data.
    """

    date = Series(datetime.date, description="Date the prescription was issued.")
    dmd_code = Series(DMDCode, description="dm+d code of the medication prescribed.")
    consultation_id = Series(int, description=_CONSULTATION)


@table
class occupation_on_covid_vaccine_record(EventFrame):
    """Whether people said they were health or care workers when given a COVID-19 vaccine.

    From the NHS England COVID-19 data store.
    """

    is_healthcare_worker = Series(bool, description="Whether recorded as a health care worker.")


@table
class ons_deaths(PatientFrame):
    """Deaths registered with the ONS (see the core ``ons_deaths``), with the place of death."""

    date = Series(datetime.date, description="The patient's date of death.")
    underlying_cause_of_death = Series(
        ICD10Code, description="The underlying cause of the patient's death."
    )
    locals().update(
        {f"cause_of_death_{i:02d}": Series(ICD10Code, description=_MENTIONED) for i in range(1, 16)}
    )
    place = Series(
        str,
        description="Place of death.",
        constraints=[
            Constraint.Categorical(
                (
                    "Care Home",
                    "Elsewhere",
                    "Home",
                    "Hospice",
                    "Hospital",
                    "Other communal establishment",
                )
            )
        ],
    )

    cause_of_death_is_in = type(_core_ons_deaths).cause_of_death_is_in


@table
class opa(EventFrame):
    """Outpatient appointments from the NHS Secondary Uses Service: core details."""

    opa_ident = Series(int, description=_APPOINTMENT_ID, constraints=[Constraint.NotNull()])
    appointment_date = Series(datetime.date, description=_OPA_DATE)
    attendance_status = Series(
        str,
        description="Whether the appointment took place and, if not, whether notice was given.",
        constraints=[Constraint.Categorical(("5", "6", "7", "2", "3", "4", "0"))],
    )
    consultation_medium_used = Series(
        str,
        description="How the professional and patient communicated (e.g. face to face, phone).",
        constraints=[
            Constraint.Categorical(("01", "02", "03", "04", "05", "09", "10", "11", "98"))
        ],
    )
    first_attendance = Series(
        str,
        description="Whether a first or follow-up attendance, and by what medium.",
        constraints=[Constraint.Categorical(("1", "2", "3", "4", "5", "9"))],
    )
    hrg_code = Series(
        str,
        description="Healthcare Resource Group (HRG) code of the activity, for tariffs.",
        constraints=[_HRG],
    )
    outcome_of_attendance = Series(
        str,
        description="Outcome of the attendance.",
        constraints=[Constraint.Categorical(("1", "2", "3", "4", "5"))],
    )
    referral_request_received_date = Series(datetime.date, description=_REFERRAL_RECEIVED)
    treatment_function_code = Series(
        str, description="Treatment function under which the patient was treated."
    )


@table
class opa_cost(EventFrame):
    """Costs of outpatient appointments. Covers recent years only."""

    opa_ident = Series(int, description=_APPOINTMENT_ID, constraints=[Constraint.NotNull()])
    tariff_opp = Series(float, description="Base national tariff where a procedure tariff applies.")
    grand_total_payment_mff = Series(float, description=_GRAND_TOTAL)
    tariff_total_payment = Series(float, description="Total payment under the national tariff.")
    appointment_date = Series(datetime.date, description=_OPA_DATE)
    referral_request_received_date = Series(datetime.date, description=_REFERRAL_RECEIVED)


@table
class opa_diag(EventFrame):
    """Diagnoses of outpatient appointments; usually absent."""

    opa_ident = Series(int, description=_APPOINTMENT_ID, constraints=[Constraint.NotNull()])
    primary_diagnosis_code = Series(ICD10Code, description="Primary diagnosis (ICD-10).")
    primary_diagnosis_code_read = Series(CTV3Code, description="Primary diagnosis (Read).")
    secondary_diagnosis_code_1 = Series(ICD10Code, description="Secondary diagnosis (ICD-10).")
    secondary_diagnosis_code_1_read = Series(CTV3Code, description="Secondary diagnosis (Read).")
    appointment_date = Series(datetime.date, description=_OPA_DATE)
    referral_request_received_date = Series(datetime.date, description=_REFERRAL_RECEIVED)


@table
class opa_proc(EventFrame):
    """Procedures of outpatient appointments, recorded mostly where they attract a payment."""

    opa_ident = Series(int, description=_APPOINTMENT_ID, constraints=[Constraint.NotNull()])
    primary_procedure_code = Series(OPCS4Code, description="Primary procedure (OPCS-4).")
    primary_procedure_code_read = Series(CTV3Code, description="Primary procedure (Read).")
    procedure_code_2 = Series(OPCS4Code, description="A further procedure (OPCS-4).")
    procedure_code_2_read = Series(CTV3Code, description="A further procedure (Read).")
    appointment_date = Series(datetime.date, description=_OPA_DATE)
    referral_request_received_date = Series(datetime.date, description=_REFERRAL_RECEIVED)


@table
class open_prompt(EventFrame):
    """Responses to the OpenPROMPT project's questionnaires."""

    ctv3_code = Series(
        CTV3Code,
        description="The response, or the question if the response is not a code (CTV3).",
        constraints=[Constraint.NotNull()],
    )
    snomedct_code = Series(
        SNOMEDCTCode,
        description="The response, or the question if the response is not a code (SNOMED CT).",
    )
    creation_date = Series(
        datetime.date,
        description="Date the survey was administered.",
        constraints=[Constraint.NotNull()],
    )
    consultation_date = Series(
        datetime.date,
        description="The response as a date, or else the date the survey was administered.",
        constraints=[Constraint.NotNull()],
    )
    consultation_id = Series(
        int, description="Identifies the survey.", constraints=[Constraint.NotNull()]
    )
    numeric_value = Series(float, description="The response as a number, if it is one.")


@table
class parents(PatientFrame):
    """The patient's mother, where SystmOne records one unambiguously.

    Ended, implausible (male mother, mother not older) and conflicting records are removed.
    """

    mother_id = Series(int, description="The patient_id of the patient's mother.")


@table
class practice_registrations(EventFrame):
    """Patients' registrations with GP practices, with the practice's region and SystmOne date."""

    start_date = Series(
        datetime.date,
        description="Date the patient joined the practice.",
        constraints=[Constraint.NotNull()],
    )
    end_date = Series(datetime.date, description="Date the patient left the practice.")
    practice_pseudo_id = Series(
        int,
        description="Pseudonymised practice identifier.",
        constraints=[Constraint.NotNull()],
    )
    practice_stp = Series(
        str,
        description="ONS code of the practice's Sustainability and Transformation Partnership.",
        constraints=[Constraint.Regex("E540000[0-9]{2}")],
    )
    practice_nuts1_region_name = Series(
        str,
        description="NUTS level 1 region of England the practice is in.",
        constraints=[Constraint.Categorical(_NHS_REGIONS)],
    )
    practice_systmone_go_live_date = Series(
        datetime.date,
        description=(
            "Date the practice started using SystmOne; SystmOne-only records (such as "
            "appointments) are complete only after it."
        ),
    )

    for_patient_on = type(_core_practice_registrations).for_patient_on
    exists_for_patient_on = type(_core_practice_registrations).exists_for_patient_on
    spanning = type(_core_practice_registrations).spanning

    def spanning_with_systmone(self, start_date: DateLike, end_date: DateLike) -> EventFrame:
        """Registrations covering ``start_date`` to ``end_date`` at a practice that was using
        SystmOne throughout (it went live on or before ``start_date``)."""
        return self.spanning(start_date, end_date).where(
            self.practice_systmone_go_live_date <= start_date
        )


@table
class sgss_covid_all_tests(EventFrame):
    """COVID-19 test results from SGSS, the Second Generation Surveillance System."""

    specimen_taken_date = Series(
        datetime.date,
        description="Date the specimen was collected.",
        constraints=[Constraint.NotNull()],
    )
    is_positive = Series(
        bool,
        description="Whether the specimen tested positive for SARS-CoV-2.",
        constraints=[Constraint.NotNull()],
    )
    lab_report_date = Series(
        datetime.date,
        description="Date the laboratory reported the result.",
        constraints=[Constraint.NotNull()],
    )
    was_symptomatic = Series(
        bool, description="Whether the patient reported symptoms when tested (NULL if unknown)."
    )
    sgtf_status = Series(
        int,
        description=(
            "S-gene target failure result of a PCR test (0 detected, 1 confirmed failure, "
            "9 unclassifiable; 2, 4 and 8 are undocumented)."
        ),
        constraints=[Constraint.ClosedRange(0, 9)],
    )
    variant = Series(str, description="The SARS-CoV-2 variant identified, as free text.")
    variant_detection_method = Series(
        str,
        description="How the variant was identified.",
        constraints=[
            Constraint.Categorical(
                ("Private Lab Sequencing", "Reflex Assay", "Sanger Provisional Result")
            )
        ],
    )


@table
class ukrr(EventFrame):
    """The UK Renal Registry: patients in secondary renal care (CKD 4-5, dialysis, transplant)."""

    dataset = Series(
        str,
        description="The registry cohort the row belongs to.",
        constraints=[
            Constraint.Categorical(
                (
                    "2019_prevalence",
                    "2020_prevalence",
                    "2021_prevalence",
                    "2020_incidence",
                    "2020_ckd",
                )
            )
        ],
    )
    renal_centre = Series(str, description="Code of the patient's main renal centre.")
    rrt_start_date = Series(
        datetime.date, description="Latest start date of renal replacement therapy."
    )
    latest_creatinine = Series(float, description="Most recent creatinine held by the UKRR.")
    latest_egfr = Series(float, description="Most recent eGFR held by the UKRR.")
    treatment_modality_start = Series(
        str, description="Treatment modality at rrt_start_date (e.g. ICHD, HHD, HD, PD, Tx)."
    )
    treatment_modality_prevalence = Series(
        str, description="Treatment modality in the prevalence data."
    )


@table
class vaccinations(EventFrame):
    """Vaccinations given, by target disease and product name (many-to-many).

    Vaccinations given at work or in a pharmacy may be missing.
    """

    vaccination_id = Series(int, description="Vaccination identifier.")
    date = Series(datetime.date, description="Date the vaccination was given.")
    target_disease = Series(str, description="The disease the vaccine targets.")
    product_name = Series(str, description="The vaccine's product name.")


_WL_TYPE_NOTE = " A few values outside the list are NULL here."


class _WaitingList(EventFrame):
    """Columns both Waiting List Minimum Data Set tables share."""

    activity_treatment_function_code = Series(
        str, description="The treatment function.", constraints=[_TREATMENT_FUNCTION]
    )
    priority_type_code = Series(
        str, description="The priority type." + _WL_TYPE_NOTE, constraints=[_PRIORITY]
    )
    pseudo_organisation_code_patient_pathway_identifier_issuer = Series(
        str, description="Pseudonymised organisation that issued the pathway identifier."
    )
    pseudo_patient_pathway_identifier = Series(
        str, description="Pseudonymised patient pathway identifier."
    )
    pseudo_referral_identifier = Series(str, description="Pseudonymised referral identifier.")
    referral_request_received_date = Series(
        datetime.date,
        description="Date the referral that started the original pathway was received.",
    )
    week_ending_date = Series(
        datetime.date, description="The Sunday of the week the row relates to."
    )


@table
class wl_clockstops(_WaitingList):
    """Completed referral-to-treatment pathways from the Waiting List Minimum Data Set.

    Pathways with a clock stop between May 2021 and May 2022, one row per pathway; a pathway
    is identified by the organisation, pathway and referral identifiers with its start date.
    """

    referral_to_treatment_period_end_date = Series(
        datetime.date, description="Clock stop of the completed pathway."
    )
    referral_to_treatment_period_start_date = Series(
        datetime.date, description="Clock start of the completed pathway."
    )
    source_of_referral_for_outpatients = Series(
        str, description="Source of referral for outpatients."
    )
    waiting_list_type = Series(
        str,
        description="Waiting list type on completion." + _WL_TYPE_NOTE,
        constraints=[Constraint.Categorical(("ORTT", "IRTT", "PTLO", "PTLI", "RTTO", "RTTI"))],
    )


@table
class wl_openpathways(_WaitingList):
    """Open referral-to-treatment (and non-RTT) pathways as of May 2022, from the WLMDS.

    One row per pathway for every week the patient is still waiting.
    """

    current_pathway_period_start_date = Series(
        datetime.date, description="Latest clock start of this pathway period."
    )
    referral_to_treatment_period_end_date = Series(
        datetime.date, description="NULL while the pathway is open."
    )
    referral_to_treatment_period_start_date = Series(
        datetime.date, description="Latest clock start; NULL if not a current pathway."
    )
    source_of_referral = Series(
        str,
        description="National referral source code of the referral that created the pathway.",
        constraints=[Constraint.Regex("[a-zA-Z0-9]{2}")],
    )
    waiting_list_type = Series(
        str,
        description="The waiting list type." + _WL_TYPE_NOTE,
        constraints=[
            Constraint.Categorical(("ORTT", "IRTT", "ONON", "INON", "PTLO", "PTLI", "RTTO", "RTTI"))
        ],
    )


__all__ = [
    "addresses",
    "apcs",
    "apcs_cost",
    "appointments",
    "clinical_events",
    "clinical_events_ranges",
    "covid_therapeutics",
    "decision_support_values",
    "ec",
    "ec_cost",
    "emergency_care_attendances",
    "ethnicity_from_sus",
    "household_memberships_2020",
    "medications",
    "occupation_on_covid_vaccine_record",
    "ons_deaths",
    "opa",
    "opa_cost",
    "opa_diag",
    "opa_proc",
    "open_prompt",
    "parents",
    "patients",
    "practice_registrations",
    "sgss_covid_all_tests",
    "ukrr",
    "vaccinations",
    "wl_clockstops",
    "wl_openpathways",
]
