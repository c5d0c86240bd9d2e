"""Differencing attacks on one backend's answers, and the ledger that defeats them.

The data are built so that rounding alone leaks: 1,005 patients have diabetes (released as
1,010) and 3 of them take an opioid, so "diabetes AND NOT opioid" (1,002) would be released as
1,000, and the difference would reveal that some diabetic patients take opioids.
"""

from __future__ import annotations

import datetime
import json

import pytest

from cohort.rows import ASTHMA, DIABETES, OPIOID, Event, Patient, connect
from fedsafe.cohort import fedsafe_form
from fedsafe.cohort.answer import answer_count
from fedsafe.cohort.audit import AuditLog
from fedsafe.cohort.policy import CohortCountPolicy

DAY = datetime.date(2025, 6, 1)
REF = datetime.date(2026, 1, 31)


@pytest.fixture(scope="module")
def con():
    people = [
        Patient(i, datetime.date(1960, 1, 1), "female" if i % 2 else "male") for i in range(1, 1601)
    ]
    events = [Event(i, DAY, DIABETES, None) for i in range(1, 1006)]
    events += [Event(i, DAY, ASTHMA, None) for i in range(1006, 1506)]
    meds = [Event(i, DAY, OPIOID, None) for i in (7, 300, 900)]  # 3 diabetic patients
    meds += [Event(i, DAY, OPIOID, None) for i in range(1006, 1056)]  # 50 with asthma
    return connect(people, events, meds)


DIAB = {"domain": "condition", "codes": [f"snomedct:{DIABETES}"]}
NOT_OPIOID = {"domain": "drug", "codes": [f"dmd:{OPIOID}"], "exclude": True}
OPIOID_RULE = {"domain": "drug", "codes": [f"dmd:{OPIOID}"]}
ASTH = {"domain": "observation", "codes": [f"snomedct:{ASTHMA}"]}


def q(*rules, oper="AND"):
    return fedsafe_form.from_jsonable({"groups": [{"rules": list(rules), "rules_oper": oper}]})


def ask(con, log, query, user="attacker"):
    return answer_count(query, con, audit=log, reference_date=REF, user=user)


def test_rounding_alone_would_leak(con, tmp_path):
    """The premise: without a ledger, the two answers differ and give the attack away."""
    a = ask(con, AuditLog(tmp_path / "one.jsonl"), q(DIAB))
    b = ask(con, AuditLog(tmp_path / "two.jsonl"), q(DIAB, NOT_OPIOID))
    assert (a.count, b.count) == (1010, 1000)


def test_a_then_a_and_not_x_is_coarsened(con, tmp_path):
    log = AuditLog(tmp_path / "audit.jsonl")
    a = ask(con, log, q(DIAB))
    b = ask(con, log, q(DIAB, NOT_OPIOID))
    assert a.count == b.count == 1010
    assert (a.decision, b.decision) == ("answered", "coarsened")


def test_a_and_not_x_then_a_is_coarsened(con, tmp_path):
    log = AuditLog(tmp_path / "audit.jsonl")
    b = ask(con, log, q(DIAB, NOT_OPIOID))
    a = ask(con, log, q(DIAB))
    assert a.count == b.count == 1000
    assert a.decision == "coarsened"


def test_colluding_users_share_the_ledger(con, tmp_path):
    log = AuditLog(tmp_path / "audit.jsonl")
    ask(con, log, q(DIAB), user="alice")
    assert ask(con, log, q(DIAB, NOT_OPIOID), user="bob").count == 1010


def test_rewording_the_same_patients_repeats_the_answer(con, tmp_path):
    log = AuditLog(tmp_path / "audit.jsonl")
    first = ask(con, log, q(DIAB, NOT_OPIOID))
    reworded = ask(con, log, q(NOT_OPIOID, DIAB, DIAB))
    assert reworded.decision == "repeated" and reworded.count == first.count


def test_a_or_x_then_a(con, tmp_path):
    """Adding rather than removing: A OR (x within a tiny group) differs by a few patients."""
    log = AuditLog(tmp_path / "audit.jsonl")
    tiny = {"domain": "person", "age": {"low": 0, "high": 1}}  # nobody: ages are 66
    a = ask(con, log, q(DIAB))
    b = ask(con, log, q(DIAB, {**OPIOID_RULE}, oper="OR"))  # 1,005 + 50 asthma opioid users
    assert b.decision == "answered" and b.count == 1060
    c = ask(con, log, q(DIAB, tiny, oper="OR"))
    assert c.decision == "repeated" and c.count == a.count


def test_one_sided_small_difference_is_refused(con, tmp_path):
    """(A AND NOT x) OR B is far from A in one direction but only 3 short of it in the other;
    with B asked alone, A - 3 would follow, so no earlier answer may stand in and it is refused."""
    log = AuditLog(tmp_path / "audit.jsonl")
    ask(con, log, q(DIAB))
    query = fedsafe_form.from_jsonable(
        {"groups_oper": "OR", "groups": [{"rules": [DIAB, NOT_OPIOID]}, {"rules": [ASTH]}]}
    )
    answer = ask(con, log, query)
    assert (answer.status, answer.count, answer.decision) == ("refused", None, "refused")


def test_large_differences_are_answered(con, tmp_path):
    log = AuditLog(tmp_path / "audit.jsonl")
    a = ask(con, log, q(ASTH))
    b = ask(con, log, q(ASTH, NOT_OPIOID))
    assert (a.count, b.count) == (500, 450)
    assert b.decision == "answered"


def test_so_narrow_the_answer_is_zero(con, tmp_path):
    log = AuditLog(tmp_path / "audit.jsonl")
    answer = ask(con, log, q(DIAB, OPIOID_RULE))  # 3 patients
    assert (answer.status, answer.count) == ("ok", 0)


def test_raw_counts_only_in_the_local_audit_log(con, tmp_path):
    log = AuditLog(tmp_path / "audit.jsonl")
    answer = ask(con, log, q(DIAB, NOT_OPIOID))
    assert "1002" not in json.dumps(answer.__dict__)
    (record,) = list(log.records())
    assert record["raw_count"] == 1002 and record["safe_count"] == 1000
    assert record["auto_release"] is False and "halves up" in record["rule"]
    assert not any("hash" in key or "sha" in key for key in record)


def test_auto_release_is_recorded(con, tmp_path):
    log = AuditLog(tmp_path / "audit.jsonl")
    answer = answer_count(
        q(DIAB), con, audit=log, reference_date=REF, policy=CohortCountPolicy(auto_release=True)
    )
    assert answer.auto_release is True
    assert next(log.records())["auto_release"] is True
