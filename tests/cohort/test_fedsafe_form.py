"""fedsafe's JSON form: exact round trips, and every bad field refused by its JSON path."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fedsafe.cohort import fedsafe_form
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
from fedsafe.errors import FedsafeError

GOOD_RULE = {"domain": "condition", "codes": ["snomedct:73211009"]}


def doc(rule=None, **top):
    return {"groups": [{"rules": [rule or GOOD_RULE]}], **top}


@pytest.mark.parametrize(
    ("document", "path", "words"),
    [
        ([], "$", "expected an object"),
        ({"groups": []}, "$.groups", "no groups"),
        ({}, "$.groups", "expected a list"),
        ({"groups": [{"rules": []}]}, "$.groups[0].rules", "empty group"),
        (
            {"groups": [{"rules": [GOOD_RULE], "rules_oper": "XOR"}]},
            "$.groups[0].rules_oper",
            "AND",
        ),
        (doc(groups_oper="and"), "$.groups_oper", "AND"),
        (doc(reference_date="31/01/2026"), "$.reference_date", "YYYY-MM-DD"),
        (doc(extra=1), "$.extra", "unknown key"),
        (doc({"codes": ["snomedct:73211009"]}), "$.groups[0].rules[0].domain", "missing"),
        (
            doc({"domain": "visit", "codes": ["snomedct:1"]}),
            "$.groups[0].rules[0].domain",
            "unknown domain",
        ),
        (doc({"domain": "condition"}), "$.groups[0].rules[0].codes", "at least one code"),
        (
            doc({"domain": "condition", "codes": ["73211009"]}),
            "$.groups[0].rules[0].codes[0]",
            "system:code",
        ),
        (
            doc({"domain": "condition", "codes": ["read:X"]}),
            "$.groups[0].rules[0].codes[0]",
            "unknown code system",
        ),
        (
            doc({"domain": "condition", "codes": ["snomedct:"]}),
            "$.groups[0].rules[0].codes[0]",
            "no code",
        ),
        (doc({**GOOD_RULE, "exlude": True}), "$.groups[0].rules[0].exlude", "unknown key"),
        (doc({**GOOD_RULE, "exclude": "yes"}), "$.groups[0].rules[0].exclude", "true or false"),
        (doc({**GOOD_RULE, "value": {"low": 1}}), "$.groups[0].rules[0].value", "only measurement"),
        (
            doc(
                {
                    "domain": "measurement",
                    "codes": ["snomedct:1107481000000106"],
                    "value": {"low": 9, "high": 3},
                }
            ),
            "$.groups[0].rules[0].value",
            "contradictory",
        ),
        (
            doc(
                {
                    "domain": "measurement",
                    "codes": ["snomedct:1107481000000106"],
                    "value": {"low": "9"},
                }
            ),
            "$.groups[0].rules[0].value.low",
            "number",
        ),
        (doc({**GOOD_RULE, "age": {}}), "$.groups[0].rules[0].age", "low end"),
        (
            doc({**GOOD_RULE, "age": {"low": 65, "high": 18}}),
            "$.groups[0].rules[0].age",
            "contradictory",
        ),
        (
            doc({**GOOD_RULE, "time": {"within_months": 1.5}}),
            "$.groups[0].rules[0].time.within_months",
            "whole",
        ),
        (
            doc({**GOOD_RULE, "time": {"within_months": -1}}),
            "$.groups[0].rules[0].time.within_months",
            ">= 0",
        ),
        (
            doc({**GOOD_RULE, "time": {"within_months": 3, "before_months": 6}}),
            "$.groups[0].rules[0].time",
            "contradictory",
        ),
        (doc({**GOOD_RULE, "time": {}}), "$.groups[0].rules[0].time", "within_months"),
        (doc({"domain": "person"}), "$.groups[0].rules[0]", "sex or an age"),
        (doc({"domain": "person", "sex": "F"}), "$.groups[0].rules[0].sex", "female"),
        (
            doc({"domain": "person", "sex": "female", "codes": ["snomedct:73211009"]}),
            "$.groups[0].rules[0].codes",
            "not codes",
        ),
        (
            doc({"domain": "person", "sex": "female", "time": {"within_months": 2}}),
            "$.groups[0].rules[0].time",
            "no time",
        ),
        (doc({**GOOD_RULE, "sex": "female"}), "$.groups[0].rules[0].sex", "only person"),
    ],
)
def test_bad_input_names_its_path(document, path, words):
    with pytest.raises(CohortQueryError) as err:
        fedsafe_form.from_jsonable(document)
    assert isinstance(err.value, FedsafeError)
    assert err.value.path == path
    assert words.lower() in str(err.value).lower()
    assert str(err.value).startswith(path + ":")


def test_malformed_json_is_a_clear_error():
    with pytest.raises(CohortQueryError, match=r"^\$: not valid JSON"):
        fedsafe_form.loads('{"groups": [')


ranges = st.builds(
    lambda a, b: Range(*sorted((a, b))) if a is not None and b is not None else Range(a, b),
    st.one_of(st.none(), st.integers(0, 120)),
    st.integers(0, 120),
)
windows = st.one_of(
    st.builds(TimeWindow, st.integers(0, 240), st.none()),
    st.builds(TimeWindow, st.none(), st.integers(0, 240)),
    st.integers(0, 239).flatmap(
        lambda before: st.builds(TimeWindow, st.integers(before + 1, 240), st.just(before))
    ),
)
event_rules = st.builds(
    Rule,
    domain=st.sampled_from([Domain.CONDITION, Domain.OBSERVATION, Domain.PROCEDURE, Domain.DRUG]),
    codes=st.lists(
        st.builds(
            Code,
            st.sampled_from(["snomedct", "dmd", "icd10", "omop"]),
            st.from_regex(r"[0-9A-Z]{1,8}", fullmatch=True),
        ),
        min_size=1,
        max_size=3,
    ).map(tuple),
    exclude=st.booleans(),
    age=st.one_of(st.none(), ranges),
    time=st.one_of(st.none(), windows),
)
measurement_rules = st.builds(
    Rule,
    domain=st.just(Domain.MEASUREMENT),
    codes=st.just((Code("snomedct", "1107481000000106"),)),
    value=st.one_of(st.none(), ranges),
    time=st.one_of(st.none(), windows),
)
person_rules = st.builds(
    Rule,
    domain=st.just(Domain.PERSON),
    sex=st.sampled_from(["female", "male", "intersex", "unknown"]),
    exclude=st.booleans(),
    age=st.one_of(st.none(), ranges),
)
queries = st.builds(
    AvailabilityQuery,
    groups=st.lists(
        st.builds(
            Group,
            st.lists(
                st.one_of(event_rules, measurement_rules, person_rules), min_size=1, max_size=4
            ).map(tuple),
            st.sampled_from(Oper),
            st.booleans(),
        ),
        min_size=1,
        max_size=3,
    ).map(tuple),
    groups_oper=st.sampled_from(Oper),
)


@given(queries)
def test_json_round_trip_is_exact(query):
    text = fedsafe_form.dumps(query)
    assert fedsafe_form.loads(text) == query
    assert fedsafe_form.dumps(fedsafe_form.loads(text)) == text
    json.loads(text)  # plain JSON
