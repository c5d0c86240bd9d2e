"""Distribution answers: per-code and demographic counts, safe, in RQuest's base64 TSV files.
Expected values are computed in plain Python over the same rows, then passed through the policy."""

from __future__ import annotations

import base64
from collections import Counter, defaultdict

import pytest

from cohort.rows import REF, age_on, connect, population
from fedsafe.cohort.audit import AuditLog
from fedsafe.cohort.distribution import code_counts, demographics
from fedsafe.cohort.policy import CohortCountPolicy
from fedsafe.cohort.results import TSV_COLUMNS, codes_result, demographics_result

PEOPLE, EVENTS, MEDS = population(n=600, seed=3)
POLICY = CohortCountPolicy()


@pytest.fixture(scope="module")
def con():
    return connect(PEOPLE, EVENTS, MEDS)


def _decode(result):
    (file,) = result["queryResult"]["files"]
    text = base64.b64decode(file["file_data"]).decode()
    header, *lines = text.splitlines()
    assert header.split("\t") == list(TSV_COLUMNS)
    return [dict(zip(TSV_COLUMNS, line.split("\t"))) for line in lines]


def test_code_counts(con, tmp_path):
    log = AuditLog(tmp_path / "audit.jsonl")
    patients_by_code = defaultdict(set)
    for e in EVENTS:
        patients_by_code[f"SNOMEDCT:{e.code}"].add(e.patient_id)
    for m in MEDS:
        patients_by_code[f"DMD:{m.code}"].add(m.patient_id)
    want = {c: POLICY.safe(len(ids)) for c, ids in patients_by_code.items()}
    want = {c: n for c, n in want.items() if n}
    result = codes_result(code_counts(con, audit=log, policy=POLICY), uuid="u", collection="c")
    assert result["status"] == "ok" and result["uuid"] == "u"
    rows = _decode(result)
    assert {r["CODE"]: int(r["COUNT"]) for r in rows} == want
    assert all(int(r["COUNT"]) >= 10 and int(r["COUNT"]) % 10 == 0 for r in rows)
    (record,) = list(log.records())
    assert record["raw_counts"] == {c: len(ids) for c, ids in sorted(patients_by_code.items())}


def test_demographics(con, tmp_path):
    log = AuditLog(tmp_path / "audit.jsonl")
    sexes = Counter(p.sex or "unknown" for p in PEOPLE)
    bands = Counter()
    for p in PEOPLE:
        a = age_on(p, REF)
        bands[
            "unknown"
            if a is None or a < 0
            else ("90+" if a >= 90 else f"{a // 10 * 10}-{a // 10 * 10 + 9}")
        ] += 1
    d = demographics(con, audit=log, policy=POLICY, reference_date=REF)
    assert d.total == POLICY.safe(len(PEOPLE))
    assert dict(d.by_sex) == {s: POLICY.safe(n) for s, n in sexes.items()}
    assert {b: n for b, n in d.by_age_band if n} == {
        b: POLICY.safe(n) for b, n in bands.items() if POLICY.safe(n)
    }
    assert not any(0 < n < 10 for _, n in d.by_sex + d.by_age_band)
    rows = _decode(demographics_result(d))
    sex_row = next(r for r in rows if r["CODE"] == "SEX")
    assert sex_row["ALTERNATIVES"] == "^" + "^".join(f"{s}|{n}" for s, n in d.by_sex) + "^"
