"""RQuest v2 queries parse into the same model as fedsafe's form; bad fields name their path."""

from __future__ import annotations

import copy

import pytest

from fedsafe.cohort import rquest
from fedsafe.cohort.errors import CohortQueryError
from fedsafe.cohort.model import Code, Domain, Oper, Range, TimeWindow

QUERY = {
    "uuid": "task-1",
    "collection": "RQ-CC-1",
    "protocol_version": "v2",
    "owner": "user1",
    "cohort": {
        "groups_oper": "OR",
        "groups": [
            {
                "rules_oper": "AND",
                "rules": [
                    {
                        "varname": "OMOP",
                        "varcat": "Person",
                        "type": "TEXT",
                        "oper": "=",
                        "value": "8507",
                    },
                    {
                        "varname": "OMOP",
                        "varcat": "Condition",
                        "type": "TEXT",
                        "oper": "!=",
                        "value": "201826",
                        "time": "|10:TIME:M",
                    },
                    {
                        "varname": "OMOP=3020630",
                        "varcat": "Measurement",
                        "type": "NUM",
                        "oper": "=",
                        "value": "50|100",
                    },
                    {
                        "varname": "AGE",
                        "varcat": "Person",
                        "type": "NUM",
                        "oper": "=",
                        "value": "18|65",
                    },
                    {
                        "varname": "SNOMEDCT",
                        "varcat": "Observation",
                        "type": "TEXT",
                        "oper": "=",
                        "value": "195967001",
                        "time": "0|17:AGE:Y",
                    },
                    {
                        "varname": "DMD",
                        "varcat": "Drug",
                        "type": "TEXT",
                        "oper": "=",
                        "value": "42112011000001107",
                        "time": "6|:TIME:M",
                    },
                ],
            }
        ],
    },
}


def test_parses_every_rule_kind():
    parsed = rquest.from_jsonable(QUERY)
    assert (parsed.uuid, parsed.collection) == ("task-1", "RQ-CC-1")
    q = parsed.query
    assert q.groups_oper is Oper.OR
    sex, cond, meas, age, obs, drug = q.groups[0].rules
    assert (sex.domain, sex.sex, sex.exclude) == (Domain.PERSON, "male", False)
    assert cond.codes == (Code("omop", "201826"),) and cond.exclude
    assert cond.time == TimeWindow(within_months=10)
    assert meas.value == Range(50, 100) and meas.codes == (Code("omop", "3020630"),)
    assert age.age == Range(18, 65)
    assert obs.age == Range(0, 17) and obs.codes == (Code("snomedct", "195967001"),)
    assert drug.time == TimeWindow(before_months=6) and drug.domain is Domain.DRUG


def _with(path, value):
    document = copy.deepcopy(QUERY)
    target = document
    for key in path[:-1]:
        target = target[key]
    if value is KeyError:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return document


R = ("cohort", "groups", 0, "rules")


@pytest.mark.parametrize(
    ("document", "path", "words"),
    [
        ("x", "$", "object"),
        (_with(("cohort",), KeyError), "$.cohort", "missing"),
        (_with(("cohort", "groups"), []), "$.cohort.groups", "non-empty"),
        (_with(("cohort", "groups", 0, "rules"), []), "$.cohort.groups[0].rules", "empty group"),
        (_with(("cohort", "groups_oper"), "NOT"), "$.cohort.groups_oper", "AND"),
        (_with(("cohort", "groups", 0, "rules_oper"), 1), "$.cohort.groups[0].rules_oper", "AND"),
        (_with((*R, 1, "varcat"), "Visit"), "$.cohort.groups[0].rules[1].varcat", "unknown domain"),
        (
            _with((*R, 1, "varname"), "READ"),
            "$.cohort.groups[0].rules[1].varname",
            "unknown code system",
        ),
        (_with((*R, 1, "oper"), ">"), "$.cohort.groups[0].rules[1].oper", "!="),
        (_with((*R, 1, "type"), "BOOL"), "$.cohort.groups[0].rules[1].type", "TEXT"),
        (_with((*R, 1, "value"), KeyError), "$.cohort.groups[0].rules[1].value", "missing"),
        (_with((*R, 1, "value"), 201826), "$.cohort.groups[0].rules[1].value", "string"),
        (_with((*R, 1, "value"), ""), "$.cohort.groups[0].rules[1].value", "empty"),
        (_with((*R, 1, "time"), "10:TIME:M"), "$.cohort.groups[0].rules[1].time", "low|high"),
        (_with((*R, 1, "time"), "|10:TIME:D"), "$.cohort.groups[0].rules[1].time", "TIME:M"),
        (_with((*R, 1, "time"), "|1.5:TIME:M"), "$.cohort.groups[0].rules[1].time", "whole months"),
        (
            _with((*R, 1, "time"), "12|6:TIME:M"),
            "$.cohort.groups[0].rules[1].time",
            "contradictory",
        ),
        (_with((*R, 2, "value"), "100|50"), "$.cohort.groups[0].rules[2].value", "contradictory"),
        (_with((*R, 2, "value"), "a|b"), "$.cohort.groups[0].rules[2].value", "numbers"),
        (_with((*R, 2, "varname"), "OMOP"), "$.cohort.groups[0].rules[2].varname", "SYSTEM=code"),
        (_with((*R, 3, "value"), "65|18"), "$.cohort.groups[0].rules[3].value", "contradictory"),
        (_with((*R, 3, "varname"), "HEIGHT"), "$.cohort.groups[0].rules[3].varname", "AGE"),
        (_with((*R, 0, "value"), "8515"), "$.cohort.groups[0].rules[0].value", "sex only"),
        (_with((*R, 0, "time"), "|1:TIME:M"), "$.cohort.groups[0].rules[0].time", "no time"),
        (
            _with((*R, 4, "varname"), "SNOMEDCT=1"),
            "$.cohort.groups[0].rules[4].varname",
            "TEXT rule",
        ),
        (_with(("uuid",), 5), "$.uuid", "string"),
    ],
)
def test_bad_input_names_its_path(document, path, words):
    with pytest.raises(CohortQueryError) as err:
        rquest.from_jsonable(document)
    assert err.value.path == path
    assert words.lower() in str(err.value).lower()


def test_malformed_json():
    with pytest.raises(CohortQueryError, match=r"^\$: not valid JSON"):
        rquest.loads("{cohort")
