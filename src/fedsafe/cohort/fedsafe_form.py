"""fedsafe's own small JSON form of an availability query, read and written exactly.

The form mirrors :mod:`fedsafe.cohort.model` one to one, so ``dumps(loads(text))`` is stable and
a query can be stored, compared and sent to another backend without loss::

    {"groups_oper": "AND", "reference_date": "2026-01-31",
     "groups": [{"rules_oper": "OR", "exclude": false, "rules": [
        {"domain": "condition", "codes": ["snomedct:73211009"], "time": {"within_months": 10}},
        {"domain": "measurement", "codes": ["snomedct:1107481000000106"],
         "value": {"low": 40, "high": 200}},
        {"domain": "person", "sex": "female", "age": {"low": 18, "high": 65}},
        {"domain": "drug", "codes": ["dmd:39113611000001102"], "exclude": true}]}]}

Unknown keys are refused by name: a misspelt ``"exlude"`` silently ignored would count the
wrong patients.
"""

from __future__ import annotations

import datetime
import json
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

_QUERY_KEYS = {"groups", "groups_oper", "reference_date"}
_GROUP_KEYS = {"rules", "rules_oper", "exclude"}
_RULE_KEYS = {"domain", "codes", "sex", "exclude", "age", "time", "value"}


def loads(text: str) -> AvailabilityQuery:
    """Parse the JSON text of a query in fedsafe's form."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CohortQueryError("$", f"not valid JSON ({exc})") from None
    return from_jsonable(document)


def dumps(query: AvailabilityQuery) -> str:
    return json.dumps(to_jsonable(query), sort_keys=True)


def _object(value: Any, path: str, keys: set[str]) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise CohortQueryError(path, f"expected an object, got {_kind(value)}")
    unknown = sorted(set(value) - keys)
    if unknown:
        raise CohortQueryError(
            f"{path}.{unknown[0]}", f"unknown key: expected one of {', '.join(sorted(keys))}"
        )
    return value


def _kind(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def _list(value: Any, path: str) -> list[Any]:
    if not isinstance(value, list):
        raise CohortQueryError(path, f"expected a list, got {_kind(value)}")
    return value


def _oper(value: Any, path: str) -> Oper:
    if value not in ("AND", "OR"):
        raise CohortQueryError(path, f'expected "AND" or "OR", got {value!r}')
    return Oper(value)


def _bool(value: Any, path: str) -> bool:
    if not isinstance(value, bool):
        raise CohortQueryError(path, f"expected true or false, got {value!r}")
    return value


def _number(value: Any, path: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise CohortQueryError(path, f"expected a number or null, got {value!r}")
    return value


def _months(value: Any, path: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise CohortQueryError(path, f"expected a whole number of months, got {value!r}")
    return value


def parse_date(value: Any, path: str) -> datetime.date:
    if not isinstance(value, str):
        raise CohortQueryError(path, f'expected a date "YYYY-MM-DD", got {value!r}')
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise CohortQueryError(path, f'expected a date "YYYY-MM-DD", got {value!r}') from None


def parse_code(value: Any, path: str) -> Code:
    """``"system:code"``, e.g. ``"snomedct:73211009"`` or ``"omop:201826"``."""
    if not isinstance(value, str) or ":" not in value:
        raise CohortQueryError(
            path, f'expected "system:code" (e.g. "snomedct:73211009"), got {value!r}'
        )
    system, _, code = value.partition(":")
    if not code:
        raise CohortQueryError(path, f"no code after {system!r}: in {value!r}")
    return Code(system.lower(), code)


def _range(value: Any, path: str) -> Range:
    obj = _object(value, path, {"low", "high"})
    return Range(_number(obj.get("low"), f"{path}.low"), _number(obj.get("high"), f"{path}.high"))


def _rule(value: Any, path: str) -> Rule:
    obj = _object(value, path, _RULE_KEYS)
    if "domain" not in obj:
        raise CohortQueryError(f"{path}.domain", "missing: expected a domain")
    names = [d.value for d in Domain]
    if obj["domain"] not in names:
        raise CohortQueryError(
            f"{path}.domain",
            f"unknown domain {obj['domain']!r}: expected one of {', '.join(names)}",
        )
    codes = tuple(
        parse_code(c, f"{path}.codes[{i}]")
        for i, c in enumerate(_list(obj.get("codes", []), f"{path}.codes"))
    )
    sex = obj.get("sex")
    if sex is not None and not isinstance(sex, str):
        raise CohortQueryError(f"{path}.sex", f"expected a string, got {sex!r}")
    time = None
    if obj.get("time") is not None:
        t = _object(obj["time"], f"{path}.time", {"within_months", "before_months"})
        time = TimeWindow(
            _months(t.get("within_months"), f"{path}.time.within_months"),
            _months(t.get("before_months"), f"{path}.time.before_months"),
        )
    rule = Rule(
        domain=Domain(obj["domain"]),
        codes=codes,
        sex=sex,
        exclude=_bool(obj.get("exclude", False), f"{path}.exclude"),
        age=_range(obj["age"], f"{path}.age") if obj.get("age") is not None else None,
        time=time,
        value=_range(obj["value"], f"{path}.value") if obj.get("value") is not None else None,
    )
    rule.check(path)
    return rule


def from_jsonable(document: Any) -> AvailabilityQuery:
    obj = _object(document, "$", _QUERY_KEYS)
    groups = []
    for i, g in enumerate(_list(obj.get("groups"), "$.groups")):
        path = f"$.groups[{i}]"
        gobj = _object(g, path, _GROUP_KEYS)
        rules = tuple(
            _rule(r, f"{path}.rules[{j}]")
            for j, r in enumerate(_list(gobj.get("rules"), f"{path}.rules"))
        )
        group = Group(
            rules,
            _oper(gobj.get("rules_oper", "AND"), f"{path}.rules_oper"),
            _bool(gobj.get("exclude", False), f"{path}.exclude"),
        )
        group.check(path)
        groups.append(group)
    reference = obj.get("reference_date")
    return AvailabilityQuery(
        tuple(groups),
        _oper(obj.get("groups_oper", "AND"), "$.groups_oper"),
        parse_date(reference, "$.reference_date") if reference is not None else None,
    )


def _range_json(r: Range | None) -> dict[str, Any] | None:
    return None if r is None else {"low": r.low, "high": r.high}


def to_jsonable(query: AvailabilityQuery) -> dict[str, Any]:
    return {
        "groups_oper": query.groups_oper.value,
        "reference_date": query.reference_date.isoformat() if query.reference_date else None,
        "groups": [
            {
                "rules_oper": g.rules_oper.value,
                "exclude": g.exclude,
                "rules": [
                    {
                        "domain": r.domain.value,
                        "codes": [f"{c.system}:{c.value}" for c in r.codes],
                        "sex": r.sex,
                        "exclude": r.exclude,
                        "age": _range_json(r.age),
                        "time": None
                        if r.time is None
                        else {
                            "within_months": r.time.within_months,
                            "before_months": r.time.before_months,
                        },
                        "value": _range_json(r.value),
                    }
                    for r in g.rules
                ],
            }
            for g in query.groups
        ],
    }
