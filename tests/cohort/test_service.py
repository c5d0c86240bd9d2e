"""The agent's entry point: either query form in, safe JSON out, refusals never look like 0."""

from __future__ import annotations

import pytest

from cohort.rows import DIABETES, REF, connect, population
from fedsafe.cohort.audit import AuditLog
from fedsafe.cohort.errors import CohortQueryError
from fedsafe.cohort.service import answer, detect_format, parse_distribution, reads

PEOPLE, EVENTS, MEDS = population(n=300, seed=7)
FEDSAFE = {"groups": [{"rules": [{"domain": "condition", "codes": [f"snomedct:{DIABETES}"]}]}]}
RQUEST = {
    "uuid": "u",
    "collection": "c",
    "cohort": {
        "groups": [
            {
                "rules": [
                    {
                        "varname": "SNOMEDCT",
                        "varcat": "Condition",
                        "type": "TEXT",
                        "oper": "=",
                        "value": DIABETES,
                    }
                ]
            }
        ]
    },
}


@pytest.fixture(scope="module")
def con():
    return connect(PEOPLE, EVENTS, MEDS)


def test_both_forms_give_the_same_safe_count(con, tmp_path):
    log = AuditLog(tmp_path / "a.jsonl")
    mine = answer(FEDSAFE, con, audit=log, reference_date=REF)
    theirs = answer(RQUEST, con, audit=log, reference_date=REF)
    assert mine["status"] == theirs["status"] == "ok"
    assert mine["count"] == theirs["queryResult"]["count"] > 0
    assert theirs["uuid"] == "u"
    assert [r["decision"] for r in log.records()] == ["answered", "repeated"]


def test_distribution_documents(con, tmp_path):
    log = AuditLog(tmp_path / "a.jsonl")
    doc = {"analysis": "DISTRIBUTION", "code": "DEMOGRAPHICS", "uuid": "d"}
    result = answer(doc, con, audit=log, reference_date=REF)
    assert result["queryResult"]["files"][0]["file_name"] == "demographics.distribution"
    assert [name for name, _ in reads(doc, REF).variables] == ["n_clinical_events", "n_medications"]


@pytest.mark.parametrize(
    ("document", "path"),
    [
        ({"analysis": "COUNT", "code": "GENERIC"}, "$.analysis"),
        ({"analysis": "DISTRIBUTION", "code": "ICD-MAIN"}, "$.code"),
        ({"analysis": "DISTRIBUTION", "code": "GENERIC", "uuid": 3}, "$.uuid"),
    ],
)
def test_bad_distribution_documents(document, path):
    with pytest.raises(CohortQueryError) as err:
        parse_distribution(document)
    assert err.value.path == path


def test_format_detection_and_refusal():
    assert detect_format(RQUEST) == "rquest" and detect_format(FEDSAFE) == "fedsafe"
    with pytest.raises(CohortQueryError, match="--format"):
        detect_format(FEDSAFE, "csv")


def test_bad_query_writes_nothing(con, tmp_path):
    log = AuditLog(tmp_path / "a.jsonl")
    with pytest.raises(CohortQueryError):
        answer({"groups": [{"rules": []}]}, con, audit=log, reference_date=REF)
    assert not log.path.exists()


def test_a_refusal_in_rquest_format_has_no_count():
    from fedsafe.cohort.answer import CountAnswer
    from fedsafe.cohort.results import count_result

    refused = CountAnswer("refused", None, "refused", "rule", False, 3, "refused: ...")
    result = count_result(refused, uuid="u")
    assert result["status"] == "error" and result["queryResult"]["count"] is None
