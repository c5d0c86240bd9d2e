"""Availability queries compiled to a query-model population condition on the core schema.

The result is an ordinary ``qm.Series`` of booleans, one per patient, so every engine that runs
dataset definitions runs cohort queries with the same semantics, and nothing here knows SQL.

Domains map onto the core tables (``fedsafe.tables.core``) like this:

============  ===========  ===============================================================
domain        code system  core table and column
============  ===========  ===============================================================
condition     snomedct     ``clinical_events.snomedct_code``
condition     icd10        ``ons_deaths`` (underlying or any mentioned cause of death)
observation   snomedct     ``clinical_events.snomedct_code``
procedure     snomedct     ``clinical_events.snomedct_code``
measurement   snomedct     ``clinical_events.snomedct_code``; value ``numeric_value``
drug          dmd          ``medications.dmd_code``
person        (sex, age)   ``patients.sex``; age from ``patients.date_of_birth``
============  ===========  ===============================================================

Any domain with ``omop`` concept ids needs the OMOP mapping; on the core schema they are refused
with the rule's path rather than silently counting nobody. Every count is of patients in
``patients``: a rule never adds people who have no ``patients`` row.
"""

from __future__ import annotations

import calendar
import datetime
import functools
import math
import operator
from typing import Any

from fedsafe.codes import DMDCode, ICD10Code, InvalidCodeError, SNOMEDCTCode
from fedsafe.cohort.errors import CohortQueryError
from fedsafe.cohort.model import AvailabilityQuery, Code, Domain, Group, Oper, Range, Rule
from fedsafe.query_model import nodes as qm
from fedsafe.tables.core import clinical_events, medications, ons_deaths, patients

_CODE_TYPES = {"snomedct": SNOMEDCTCode, "dmd": DMDCode, "icd10": ICD10Code}
_EVENT_SYSTEMS = {
    Domain.CONDITION: ("snomedct", "icd10"),
    Domain.OBSERVATION: ("snomedct",),
    Domain.PROCEDURE: ("snomedct",),
    Domain.MEASUREMENT: ("snomedct",),
    Domain.DRUG: ("dmd",),
}


def months_before(day: datetime.date, months: int) -> datetime.date:
    """``day`` moved back by whole calendar months, the day clamped to the month's length
    (31 March less one month is 28 or 29 February)."""
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return datetime.date(year, month + 1, min(day.day, last))


def population(
    query: AvailabilityQuery, reference_date: datetime.date, root: str = "$"
) -> qm.Series:
    """The patients the query counts, as a query-model population condition.

    ``root`` is the JSON path of the query's groups' parent, so errors found here (a code not
    valid in its system, an OMOP id on the core schema) point into the document as given.
    """
    ref = query.reference_date or reference_date
    groups = [_group(g, ref, f"{root}.groups[{i}]") for i, g in enumerate(query.groups)]
    condition = _combine(groups, query.groups_oper)
    return (patients.exists_for_patient() & condition)._node


def _combine(parts: list[Any], oper: Oper) -> Any:
    return functools.reduce(operator.and_ if oper is Oper.AND else operator.or_, parts)


def _group(group: Group, ref: datetime.date, path: str) -> Any:
    rules = [_rule(r, ref, f"{path}.rules[{j}]") for j, r in enumerate(group.rules)]
    condition = _combine(rules, group.rules_oper)
    return ~condition if group.exclude else condition


def _between(series: Any, rng: Range, *, whole: bool = False) -> Any:
    """``low <= series <= high``; ages are whole years, so their ends become whole too
    (18.5 to 65.5 means 19 to 65), and measured values are compared as floats."""
    parts = []
    if rng.low is not None:
        parts.append(series >= (math.ceil(rng.low) if whole else float(rng.low)))
    if rng.high is not None:
        parts.append(series <= (math.floor(rng.high) if whole else float(rng.high)))
    return _combine(parts, Oper.AND)


def _rule(rule: Rule, ref: datetime.date, path: str) -> Any:
    if rule.domain is Domain.PERSON:
        parts = []
        if rule.sex is not None:
            parts.append(patients.sex == rule.sex)
        if rule.age is not None:
            parts.append(_between(patients.age_on(ref), rule.age, whole=True))
        # A person rule is about a known value, true or false and never null, so that negating
        # a rule or a group that holds it keeps to two-valued logic. "!= female" means a
        # recorded sex other than female.
        known = _known(rule, ref)
        condition = known & _combine(parts, Oper.AND)
        return ~condition & known if rule.exclude else condition
    systems = {c.system for c in rule.codes}
    for i, code in enumerate(rule.codes):
        _check_code(rule.domain, code, f"{path}.codes[{i}]")
    if len(systems) > 1:
        raise CohortQueryError(f"{path}.codes", "all codes in one rule must share a code system")
    (system,) = systems
    values = sorted(c.value for c in rule.codes)
    if rule.domain is Domain.CONDITION and system == "icd10":
        death = ons_deaths
        condition = death.cause_of_death_is_in(values)
        if rule.time is not None:
            condition = condition & _in_window(death.date, rule, ref)
        if rule.age is not None:
            condition = condition & _between(patients.age_on(death.date), rule.age, whole=True)
        # Null cause columns (and patients with no death) make the test null rather than
        # false; made two-valued so that an excluded ICD-10 rule counts them as "not matching".
        exists = condition.when_null_then(False)
    else:
        table = medications if rule.domain is Domain.DRUG else clinical_events
        column = table.dmd_code if rule.domain is Domain.DRUG else table.snomedct_code
        events = table.where(column.is_in(values))
        if rule.time is not None:
            events = events.where(_in_window(events.date, rule, ref))
        if rule.age is not None:
            events = events.where(_between(patients.age_on(events.date), rule.age, whole=True))
        if rule.value is not None:
            events = events.where(_between(events.numeric_value, rule.value))
        exists = events.exists_for_patient()
    return ~exists if rule.exclude else exists


def _known(rule: Rule, ref: datetime.date) -> Any:
    parts = []
    if rule.sex is not None:
        parts.append(patients.sex.is_not_null())
    if rule.age is not None:
        parts.append(patients.date_of_birth.is_not_null())
    return _combine(parts, Oper.AND)


def _in_window(date: Any, rule: Rule, ref: datetime.date) -> Any:
    assert rule.time is not None
    parts = [date <= ref]
    if rule.time.within_months is not None:
        parts.append(date > months_before(ref, rule.time.within_months))
    if rule.time.before_months is not None:
        parts.append(date <= months_before(ref, rule.time.before_months))
    return _combine(parts, Oper.AND)


def _check_code(domain: Domain, code: Code, path: str) -> None:
    if code.system == "omop":
        raise CohortQueryError(
            path,
            f"OMOP concept id {code.value} needs a backend with the OMOP mapping; this backend "
            "uses the core schema: give a snomedct, dmd or icd10 code instead",
        )
    allowed = _EVENT_SYSTEMS[domain]
    if code.system not in allowed:
        raise CohortQueryError(
            path,
            f"{domain.value} rules on the core schema take {' or '.join(allowed)} codes, "
            f"not {code.system}",
        )
    try:
        _CODE_TYPES[code.system](code.value)
    except InvalidCodeError as exc:
        raise CohortQueryError(path, str(exc)) from None


def dataset(query: AvailabilityQuery, reference_date: datetime.date, root: str = "$") -> qm.Dataset:
    """A dataset with no columns whose population is the query's patients."""
    return qm.Dataset(population(query, reference_date, root), ())
