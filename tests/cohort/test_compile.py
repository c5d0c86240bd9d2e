"""Availability queries count the right patients: table-driven cases, expected counts computed
in plain Python over the same rows (tests/cohort/rows.py), never by the compiler under test."""

from __future__ import annotations

import datetime
from collections import defaultdict

import pytest

from cohort.rows import (
    ASTHMA,
    DIABETES,
    HBA1C,
    NSAID,
    OA,
    OPIOID,
    REF,
    age_on,
    connect,
    population,
)
from fedsafe.cohort import compile as cohort_compile
from fedsafe.cohort import fedsafe_form, rquest
from fedsafe.cohort.errors import CohortQueryError
from fedsafe.cohort.ledger import scan

PEOPLE, EVENTS, MEDS = population()
BY_ID = defaultdict(list)
for _e in EVENTS:
    BY_ID[_e.patient_id].append(_e)
MEDS_BY_ID = defaultdict(list)
for _m in MEDS:
    MEDS_BY_ID[_m.patient_id].append(_m)
TEN_MONTHS_AGO = datetime.date(2025, 3, 31)
TWO_YEARS_AGO = datetime.date(2024, 1, 31)


def has(p, code, *, since=None, until=None, low=None, high=None, age=None, meds=False):
    for e in (MEDS_BY_ID if meds else BY_ID)[p.patient_id]:
        if e.code != code or (until is not None and e.date > until):
            continue
        if since is not None and (e.date <= since or e.date > REF):
            continue
        if low is not None and (e.value is None or e.value < low):
            continue
        if high is not None and (e.value is None or e.value > high):
            continue
        if age is not None:
            a = age_on(p, e.date)
            if a is None or not age[0] <= a <= age[1]:
                continue
        return True
    return False


def rule(domain, code=None, **kw):
    out = {"domain": domain, **kw}
    if code:
        out["codes"] = [code]
    return out


def query(*groups, groups_oper="AND"):
    return {"groups_oper": groups_oper, "groups": list(groups)}


def group(*rules, oper="AND", exclude=False):
    return {"rules": list(rules), "rules_oper": oper, "exclude": exclude}


def age_between(p, lo, hi):
    a = age_on(p, REF)
    return a is not None and lo <= a <= hi


CASES = [
    (
        "one code",
        query(group(rule("condition", f"snomedct:{DIABETES}"))),
        lambda p: has(p, DIABETES),
    ),
    (
        "within 10 months",
        query(group(rule("condition", f"snomedct:{DIABETES}", time={"within_months": 10}))),
        lambda p: has(p, DIABETES, since=TEN_MONTHS_AGO),
    ),
    (
        "more than 24 months ago",
        query(group(rule("observation", f"snomedct:{ASTHMA}", time={"before_months": 24}))),
        lambda p: has(p, ASTHMA, until=TWO_YEARS_AGO),
    ),
    (
        "between 24 and 10 months ago",
        query(
            group(
                rule("procedure", f"snomedct:{OA}", time={"within_months": 24, "before_months": 10})
            )
        ),
        lambda p: has(p, OA, since=TWO_YEARS_AGO, until=TEN_MONTHS_AGO),
    ),
    (
        "measurement value range",
        query(group(rule("measurement", f"snomedct:{HBA1C}", value={"low": 48, "high": 90}))),
        lambda p: has(p, HBA1C, low=48, high=90),
    ),
    (
        "measurement value open-ended",
        query(group(rule("measurement", f"snomedct:{HBA1C}", value={"low": 100}))),
        lambda p: has(p, HBA1C, low=100),
    ),
    (
        "age at event",
        query(group(rule("condition", f"snomedct:{ASTHMA}", age={"low": 0, "high": 17}))),
        lambda p: has(p, ASTHMA, age=(0, 17)),
    ),
    ("drug", query(group(rule("drug", f"dmd:{NSAID}"))), lambda p: has(p, NSAID, meds=True)),
    (
        "excluded drug",
        query(group(rule("drug", f"dmd:{OPIOID}", exclude=True))),
        lambda p: not has(p, OPIOID, meds=True),
    ),
    ("sex", query(group(rule("person", sex="female"))), lambda p: p.sex == "female"),
    (
        "sex excluded means a recorded other sex",
        query(group(rule("person", sex="female", exclude=True))),
        lambda p: p.sex is not None and p.sex != "female",
    ),
    (
        "age range on the reference date",
        query(group(rule("person", age={"low": 18, "high": 65}))),
        lambda p: age_between(p, 18, 65),
    ),
    (
        "AND within a group",
        query(group(rule("condition", f"snomedct:{DIABETES}"), rule("person", sex="male"))),
        lambda p: has(p, DIABETES) and p.sex == "male",
    ),
    (
        "OR within a group",
        query(
            group(
                rule("condition", f"snomedct:{DIABETES}"),
                rule("observation", f"snomedct:{ASTHMA}"),
                oper="OR",
            )
        ),
        lambda p: has(p, DIABETES) or has(p, ASTHMA),
    ),
    (
        "groups joined by OR",
        query(
            group(rule("condition", f"snomedct:{DIABETES}"), rule("person", sex="female")),
            group(rule("drug", f"dmd:{NSAID}")),
            groups_oper="OR",
        ),
        lambda p: (has(p, DIABETES) and p.sex == "female") or has(p, NSAID, meds=True),
    ),
    (
        "excluded group",
        query(
            group(rule("condition", f"snomedct:{DIABETES}")),
            group(rule("drug", f"dmd:{NSAID}"), rule("person", sex="male"), exclude=True),
        ),
        lambda p: has(p, DIABETES) and not (has(p, NSAID, meds=True) and p.sex == "male"),
    ),
    (
        "so narrow the answer is 0",
        query(group(rule("measurement", f"snomedct:{HBA1C}", value={"low": 1000}))),
        lambda p: False,
    ),
]


@pytest.fixture(scope="module")
def con():
    return connect(PEOPLE, EVENTS, MEDS)


@pytest.mark.parametrize(("name", "document", "expected"), CASES, ids=[c[0] for c in CASES])
def test_counts_match_plain_python(con, name, document, expected):
    q = fedsafe_form.from_jsonable(document)
    want = sum(1 for p in PEOPLE if expected(p))
    got = scan(cohort_compile.population(q, REF), [], con).raw_count
    assert got == want
    if name != "so narrow the answer is 0":
        assert 0 < want < len(PEOPLE)  # the case discriminates


def test_rquest_and_fedsafe_forms_count_the_same(con):
    doc = {
        "uuid": "u1",
        "collection": "c1",
        "cohort": {
            "groups_oper": "AND",
            "groups": [
                {
                    "rules_oper": "AND",
                    "rules": [
                        {
                            "varname": "SNOMEDCT",
                            "varcat": "Condition",
                            "type": "TEXT",
                            "oper": "=",
                            "value": DIABETES,
                            "time": "|10:TIME:M",
                        },
                        {
                            "varname": "OMOP",
                            "varcat": "Person",
                            "type": "TEXT",
                            "oper": "=",
                            "value": "8532",
                        },
                        {
                            "varname": "AGE",
                            "varcat": "Person",
                            "type": "NUM",
                            "oper": "=",
                            "value": "18|90",
                        },
                    ],
                }
            ],
        },
    }
    parsed = rquest.from_jsonable(doc)
    got = scan(cohort_compile.population(parsed.query, REF, "$.cohort"), [], con).raw_count
    want = sum(
        1
        for p in PEOPLE
        if has(p, DIABETES, since=TEN_MONTHS_AGO) and p.sex == "female" and age_between(p, 18, 90)
    )
    assert got == want > 0


def test_months_before_clamps_to_month_end():
    assert cohort_compile.months_before(datetime.date(2026, 3, 31), 1) == datetime.date(2026, 2, 28)
    assert cohort_compile.months_before(datetime.date(2026, 1, 31), 10) == TEN_MONTHS_AGO
    assert cohort_compile.months_before(datetime.date(2026, 1, 15), 13) == datetime.date(
        2024, 12, 15
    )


@pytest.mark.parametrize(
    ("document", "path", "words"),
    [
        (query(group(rule("condition", "omop:201826"))), "$.groups[0].rules[0].codes[0]", "OMOP"),
        (
            query(group(rule("drug", f"snomedct:{DIABETES}"))),
            "$.groups[0].rules[0].codes[0]",
            "dmd",
        ),
        (
            query(group(rule("condition", "snomedct:12345"))),
            "$.groups[0].rules[0].codes[0]",
            "SNOMED",
        ),
        (query(group(rule("condition", "icd10:zz"))), "$.groups[0].rules[0].codes[0]", "ICD-10"),
        (
            query(group({"domain": "condition", "codes": [f"snomedct:{DIABETES}", "icd10:E11"]})),
            "$.groups[0].rules[0].codes",
            "share",
        ),
    ],
)
def test_codes_the_core_schema_cannot_answer_are_refused_by_path(document, path, words):
    q = fedsafe_form.from_jsonable(document)
    with pytest.raises(CohortQueryError) as err:
        cohort_compile.population(q, REF)
    assert err.value.path == path
    assert words.lower() in str(err.value).lower()
