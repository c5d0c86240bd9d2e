"""The availability query model: groups of rules, joined by AND/OR, in plain frozen values.

Both input forms (RQuest v2 and fedsafe's own JSON) parse into these values, and only these
values are compiled, so the two forms cannot drift apart in meaning. Each value checks itself
when built, so an impossible query (an empty group, a range whose low end is above its high end)
never reaches a database.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from enum import Enum

from fedsafe.cohort.errors import CohortQueryError


class Domain(Enum):
    """What a rule is about. Person rules constrain sex or age; the rest are events."""

    CONDITION = "condition"
    DRUG = "drug"
    MEASUREMENT = "measurement"
    OBSERVATION = "observation"
    PROCEDURE = "procedure"
    PERSON = "person"


class Oper(Enum):
    AND = "AND"
    OR = "OR"


CODE_SYSTEMS = ("snomedct", "dmd", "icd10", "omop")
"""Code systems a rule may name. ``omop`` concept ids are kept as given; compiling them needs
the OMOP mapping (``backends`` branch), and on the native core schema they are refused."""

SEXES = ("female", "male", "intersex", "unknown")


@dataclass(frozen=True)
class Code:
    """One code in a code system, e.g. ``Code("snomedct", "73211009")``."""

    system: str
    value: str


@dataclass(frozen=True)
class Range:
    """A closed range; either end may be open (None). Used for ages and measured values."""

    low: float | None = None
    high: float | None = None

    def check(self, path: str) -> None:
        if self.low is None and self.high is None:
            raise CohortQueryError(path, "a range needs a low end, a high end or both")
        if self.low is not None and self.high is not None and self.low > self.high:
            raise CohortQueryError(
                path, f"contradictory range: low end {self.low:g} is above high end {self.high:g}"
            )


@dataclass(frozen=True)
class TimeWindow:
    """When the event happened, in whole months before the query's reference date.

    ``within_months=10``: on or before the reference date and after the date 10 months earlier.
    ``before_months=10``: on or before the date 10 months before the reference date.
    Both together give an interval between the two.
    """

    within_months: int | None = None
    before_months: int | None = None

    def check(self, path: str) -> None:
        if self.within_months is None and self.before_months is None:
            raise CohortQueryError(path, "a time window needs within_months, before_months or both")
        for name in ("within_months", "before_months"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise CohortQueryError(f"{path}.{name}", f"expected months >= 0, got {value}")
        if (
            self.within_months is not None
            and self.before_months is not None
            and self.before_months >= self.within_months
        ):
            raise CohortQueryError(
                path,
                f"contradictory window: before {self.before_months} months ago and within the "
                f"last {self.within_months} months cannot both hold",
            )


@dataclass(frozen=True)
class Rule:
    """One criterion. Event rules name codes; person rules name a sex or an age range.

    ``age``: for person rules, age on the reference date; for event rules, age at the event.
    ``value``: measurements only, the numeric value recorded with the event.
    ``exclude``: the patient must *not* match (RQuest ``oper: "!="``).
    """

    domain: Domain
    codes: tuple[Code, ...] = ()
    sex: str | None = None
    exclude: bool = False
    age: Range | None = None
    time: TimeWindow | None = None
    value: Range | None = None

    def check(self, path: str) -> None:
        if self.domain is Domain.PERSON:
            if self.codes:
                raise CohortQueryError(f"{path}.codes", "person rules take sex or age, not codes")
            if self.sex is None and self.age is None:
                raise CohortQueryError(path, "a person rule needs a sex or an age range")
            if self.sex is not None and self.sex not in SEXES:
                raise CohortQueryError(
                    f"{path}.sex", f"expected one of {', '.join(SEXES)}, got {self.sex!r}"
                )
            if self.time is not None:
                raise CohortQueryError(f"{path}.time", "person rules have no time window")
        else:
            if not self.codes:
                raise CohortQueryError(f"{path}.codes", "an event rule needs at least one code")
            if self.sex is not None:
                raise CohortQueryError(f"{path}.sex", "only person rules take a sex")
            for i, code in enumerate(self.codes):
                if code.system not in CODE_SYSTEMS:
                    raise CohortQueryError(
                        f"{path}.codes[{i}]",
                        f"unknown code system {code.system!r}: expected one of "
                        + ", ".join(CODE_SYSTEMS),
                    )
        if self.value is not None and self.domain is not Domain.MEASUREMENT:
            raise CohortQueryError(f"{path}.value", "only measurement rules take a value range")
        if self.age is not None:
            self.age.check(f"{path}.age")
        if self.value is not None:
            self.value.check(f"{path}.value")
        if self.time is not None:
            self.time.check(f"{path}.time")


@dataclass(frozen=True)
class Group:
    rules: tuple[Rule, ...]
    rules_oper: Oper = Oper.AND
    exclude: bool = False

    def check(self, path: str) -> None:
        if not self.rules:
            raise CohortQueryError(f"{path}.rules", "an empty group: give at least one rule")
        for i, rule in enumerate(self.rules):
            rule.check(f"{path}.rules[{i}]")


@dataclass(frozen=True)
class AvailabilityQuery:
    """Groups of rules; the patients counted are those for whom the whole expression holds."""

    groups: tuple[Group, ...]
    groups_oper: Oper = Oper.AND
    reference_date: datetime.date | None = None

    def __post_init__(self) -> None:
        self.check("$")

    def check(self, path: str) -> None:
        if not self.groups:
            raise CohortQueryError(f"{path}.groups", "no groups: give at least one group of rules")
        for i, group in enumerate(self.groups):
            group.check(f"{path}.groups[{i}]")
