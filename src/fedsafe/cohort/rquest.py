"""RQuest v2 availability queries in, as the HDR UK hub sends them to HUTCH/Bunny agents.

The parts of the format fedsafe reads (everything else at the top level, such as ``owner`` or
``char_salt``, is carried but not used)::

    {"uuid": "...", "collection": "...", "protocol_version": "v2",
     "cohort": {"groups_oper": "OR", "groups": [
        {"rules_oper": "AND", "rules": [
          {"varname": "OMOP", "varcat": "Person", "type": "TEXT", "oper": "=", "value": "8507"},
          {"varname": "OMOP", "varcat": "Condition", "type": "TEXT", "oper": "=",
           "value": "201826", "time": "|10:TIME:M"},
          {"varname": "OMOP=3020630", "varcat": "Measurement", "type": "NUM", "oper": "=",
           "value": "50|100"},
          {"varname": "AGE", "varcat": "Person", "type": "NUM", "oper": "=", "value": "18|65"}
        ]}]}}

``varname`` ``OMOP`` means ``value`` is an OMOP concept id. fedsafe also accepts ``SNOMEDCT``,
``DMD`` and ``ICD10`` there (and ``SNOMEDCT=<code>`` for numeric rules) so a hub can ask a
native-schema backend in its own code systems. ``time`` is ``"low|high:TIME:M"`` (months before
the reference date: ``"|10:TIME:M"`` within the last 10 months, ``"10|:TIME:M"`` more than 10
months ago) or ``"low|high:AGE:Y"`` (age in years at the event). Person sex concepts are OMOP's
8507 (male) and 8532 (female).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from fedsafe.cohort.errors import CohortQueryError
from fedsafe.cohort.model import (
    AvailabilityQuery,
    Code,
    Domain,
    Group,
    Oper,
    Range,
    Rule,
    TimeWindow,
)

_VARCATS = {
    "person": Domain.PERSON,
    "condition": Domain.CONDITION,
    "drug": Domain.DRUG,
    "medication": Domain.DRUG,
    "measurement": Domain.MEASUREMENT,
    "observation": Domain.OBSERVATION,
    "procedure": Domain.PROCEDURE,
}
_SYSTEMS = {"OMOP": "omop", "SNOMEDCT": "snomedct", "DMD": "dmd", "ICD10": "icd10"}
OMOP_SEX = {"8507": "male", "8532": "female"}


@dataclass(frozen=True)
class RQuestQuery:
    """A parsed RQuest query and the identifiers its answer must carry back."""

    query: AvailabilityQuery
    uuid: str
    collection: str


def loads(text: str) -> RQuestQuery:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CohortQueryError("$", f"not valid JSON ({exc})") from None
    return from_jsonable(document)


def _str(obj: dict[str, Any], key: str, path: str) -> str:
    if key not in obj:
        raise CohortQueryError(f"{path}.{key}", "missing")
    value = obj[key]
    if not isinstance(value, str):
        raise CohortQueryError(f"{path}.{key}", f"expected a string, got {value!r}")
    return value


def _oper(obj: dict[str, Any], key: str, path: str) -> Oper:
    value = obj.get(key, "AND")
    if value not in ("AND", "OR"):
        raise CohortQueryError(f"{path}.{key}", f'expected "AND" or "OR", got {value!r}')
    return Oper(value)


def _bounds(text: str, path: str) -> Range:
    """``"low|high"`` with either side empty; numbers only."""
    low, bar, high = text.partition("|")
    if not bar:
        raise CohortQueryError(path, f'expected "low|high" (either may be empty), got {text!r}')
    try:
        rng = Range(float(low) if low else None, float(high) if high else None)
    except ValueError:
        raise CohortQueryError(path, f'expected numbers in "low|high", got {text!r}') from None
    rng.check(path)
    return rng


def _whole(value: float | None, path: str) -> int | None:
    if value is None:
        return None
    if value != int(value):
        raise CohortQueryError(path, f"expected whole months, got {value:g}")
    return int(value)


def _time(text: str, path: str) -> tuple[TimeWindow | None, Range | None]:
    bounds, _, unit = text.partition(":")
    if unit == "TIME:M":
        rng = _bounds(bounds, path)
        window = TimeWindow(
            within_months=_whole(rng.high, path), before_months=_whole(rng.low, path)
        )
        window.check(path)
        return window, None
    if unit == "AGE:Y":
        return None, _bounds(bounds, path)
    raise CohortQueryError(path, f'expected "low|high:TIME:M" or "low|high:AGE:Y", got {text!r}')


def _rule(obj: Any, path: str) -> Rule:
    if not isinstance(obj, dict):
        raise CohortQueryError(path, f"expected a rule object, got {type(obj).__name__}")
    varcat = _str(obj, "varcat", path)
    domain = _VARCATS.get(varcat.lower())
    if domain is None:
        raise CohortQueryError(
            f"{path}.varcat",
            f"unknown domain {varcat!r}: expected one of Person, Condition, Drug, Measurement, "
            "Observation, Procedure",
        )
    varname = _str(obj, "varname", path)
    kind = _str(obj, "type", path)
    if kind not in ("TEXT", "NUM"):
        raise CohortQueryError(f"{path}.type", f'expected "TEXT" or "NUM", got {kind!r}')
    oper = _str(obj, "oper", path)
    if oper not in ("=", "!="):
        raise CohortQueryError(f"{path}.oper", f'expected "=" or "!=", got {oper!r}')
    value = _str(obj, "value", path)
    time, event_age = (None, None)
    if obj.get("time") not in (None, ""):
        if not isinstance(obj["time"], str):
            raise CohortQueryError(f"{path}.time", f"expected a string, got {obj['time']!r}")
        time, event_age = _time(obj["time"], f"{path}.time")
    exclude = oper == "!="
    if domain is Domain.PERSON:
        if kind == "NUM":
            if varname.upper() != "AGE":
                raise CohortQueryError(
                    f"{path}.varname", f'numeric person rules are "AGE", got {varname!r}'
                )
            rule = Rule(domain, exclude=exclude, age=_bounds(value, f"{path}.value"))
        else:
            if varname != "OMOP" or value not in OMOP_SEX:
                raise CohortQueryError(
                    f"{path}.value",
                    f"person concepts on this backend are sex only (OMOP 8507 male, 8532 "
                    f"female), got {varname}={value!r}",
                )
            rule = Rule(domain, sex=OMOP_SEX[value], exclude=exclude)
        if time is not None or event_age is not None:
            raise CohortQueryError(f"{path}.time", "person rules have no time or age window")
        rule.check(path)
        return rule
    name, eq, concept = varname.partition("=")
    system = _SYSTEMS.get(name.upper())
    if system is None:
        raise CohortQueryError(
            f"{path}.varname",
            f"unknown code system {name!r}: expected one of {', '.join(_SYSTEMS)}",
        )
    if kind == "NUM":
        if domain is not Domain.MEASUREMENT or not eq or not concept:
            raise CohortQueryError(
                f"{path}.varname",
                'numeric rules are measurements named "SYSTEM=code", e.g. "OMOP=3020630"',
            )
        codes = (Code(system, concept),)
        measured: Range | None = _bounds(value, f"{path}.value")
    else:
        if eq:
            raise CohortQueryError(
                f"{path}.varname", f"a TEXT rule names only its code system, got {varname!r}"
            )
        if not value:
            raise CohortQueryError(f"{path}.value", "expected a code, got an empty string")
        codes = (Code(system, value),)
        measured = None
    rule = Rule(domain, codes=codes, exclude=exclude, age=event_age, time=time, value=measured)
    rule.check(path)
    return rule


def from_jsonable(document: Any) -> RQuestQuery:
    if not isinstance(document, dict):
        raise CohortQueryError("$", f"expected an object, got {type(document).__name__}")
    cohort = document.get("cohort")
    if not isinstance(cohort, dict):
        raise CohortQueryError("$.cohort", 'missing or not an object: expected {"groups": [...]}')
    groups_json = cohort.get("groups")
    if not isinstance(groups_json, list) or not groups_json:
        raise CohortQueryError("$.cohort.groups", "expected a non-empty list of groups")
    groups = []
    for i, g in enumerate(groups_json):
        path = f"$.cohort.groups[{i}]"
        if not isinstance(g, dict):
            raise CohortQueryError(path, f"expected a group object, got {type(g).__name__}")
        rules_json = g.get("rules")
        if not isinstance(rules_json, list) or not rules_json:
            raise CohortQueryError(f"{path}.rules", "an empty group: give at least one rule")
        rules = tuple(_rule(r, f"{path}.rules[{j}]") for j, r in enumerate(rules_json))
        exclude = g.get("exclude", False)
        if not isinstance(exclude, bool):
            raise CohortQueryError(f"{path}.exclude", f"expected true or false, got {exclude!r}")
        groups.append(Group(rules, _oper(g, "rules_oper", path), exclude))
    query = AvailabilityQuery(tuple(groups), _oper(cohort, "groups_oper", "$.cohort"))
    uuid = document.get("uuid", "")
    collection = document.get("collection", "")
    for key, value in (("uuid", uuid), ("collection", collection)):
        if not isinstance(value, str):
            raise CohortQueryError(f"$.{key}", f"expected a string, got {value!r}")
    return RQuestQuery(query, uuid, collection)
