"""The one entry point a backend's agent calls: a query document in, a safe JSON answer out.

``answer(document, connection, audit=..., policy=...)`` takes either form of availability query
(RQuest v2 with ``cohort``, or fedsafe's own with ``groups``) or an RQuest distribution query
(``{"analysis": "DISTRIBUTION", "code": "GENERIC" | "DEMOGRAPHICS"}``), and returns a JSON-able
dict that may leave the backend: RQuest v2 results for RQuest input, fedsafe's small form
otherwise. The coordinator's fan-out collects these per backend; nothing in them is raw.
"""

from __future__ import annotations

import datetime
from typing import Any

import ibis

from fedsafe.cohort import compile as cohort_compile
from fedsafe.cohort import fedsafe_form, rquest
from fedsafe.cohort.answer import answer_count
from fedsafe.cohort.audit import AuditLog
from fedsafe.cohort.distribution import code_counts, demographics
from fedsafe.cohort.errors import CohortQueryError
from fedsafe.cohort.policy import CohortCountPolicy
from fedsafe.cohort.results import codes_result, count_result, demographics_result
from fedsafe.query_model import nodes as qm
from fedsafe.tables.core import clinical_events, medications, patients

FORMATS = ("rquest", "fedsafe")
DISTRIBUTIONS = {"GENERIC": "codes", "DEMOGRAPHICS": "demographics"}


def detect_format(document: Any, form: str | None = None) -> str:
    """``form`` checked, or ``rquest`` for documents with ``cohort`` or ``analysis``, else
    ``fedsafe``."""
    if form is not None:
        if form not in FORMATS:
            raise CohortQueryError(
                "--format", f"expected one of {', '.join(FORMATS)}, got {form!r}"
            )
        return form
    if isinstance(document, dict) and ("cohort" in document or "analysis" in document):
        return "rquest"
    return "fedsafe"


def parse_distribution(document: Any) -> tuple[str, str, str]:
    """(kind, uuid, collection) of an RQuest distribution query; kind is codes or demographics."""
    if not isinstance(document, dict):
        raise CohortQueryError("$", f"expected an object, got {type(document).__name__}")
    if document.get("analysis") != "DISTRIBUTION":
        raise CohortQueryError(
            "$.analysis", f'expected "DISTRIBUTION", got {document.get("analysis")!r}'
        )
    code = document.get("code")
    if code not in DISTRIBUTIONS:
        raise CohortQueryError(
            "$.code", f"expected one of {', '.join(DISTRIBUTIONS)}, got {code!r}"
        )
    ids = []
    for key in ("uuid", "collection"):
        value = document.get(key, "")
        if not isinstance(value, str):
            raise CohortQueryError(f"$.{key}", f"expected a string, got {value!r}")
        ids.append(value)
    return DISTRIBUTIONS[code], ids[0], ids[1]


def answer(
    document: Any,
    connection: ibis.BaseBackend,
    *,
    audit: AuditLog,
    policy: CohortCountPolicy | None = None,
    reference_date: datetime.date | None = None,
    user: str = "",
    form: str | None = None,
) -> dict[str, Any]:
    """Answer one query document on this backend; see the module docstring."""
    policy = policy or CohortCountPolicy()
    form = detect_format(document, form)
    ref = reference_date or datetime.date.today()
    if form == "rquest" and isinstance(document, dict) and "analysis" in document:
        kind, uuid, collection = parse_distribution(document)
        if kind == "codes":
            counts = code_counts(connection, audit=audit, policy=policy, user=user)
            return codes_result(counts, uuid=uuid, collection=collection)
        demo = demographics(connection, audit=audit, policy=policy, reference_date=ref, user=user)
        return demographics_result(demo, uuid=uuid, collection=collection)
    if form == "rquest":
        parsed = rquest.from_jsonable(document)
        result = answer_count(
            parsed.query, connection, audit=audit, policy=policy, reference_date=ref,
            user=user, root="$.cohort",
        )  # fmt: skip
        return count_result(result, uuid=parsed.uuid, collection=parsed.collection)
    query = fedsafe_form.from_jsonable(document)
    result = answer_count(
        query, connection, audit=audit, policy=policy, reference_date=ref, user=user
    )
    return {
        "status": result.status,
        "count": result.count,
        "decision": result.decision,
        "rule": result.rule,
        "auto_release": result.auto_release,
        "message": result.message,
    }


def reads(document: Any, reference_date: datetime.date, form: str | None = None) -> qm.Dataset:
    """A dataset reading what the query reads: checks the query before any data is touched,
    names the tables to check in a database, and steers dummy data towards the query's codes."""
    form = detect_format(document, form)
    everyone = patients.exists_for_patient()._node
    if form == "rquest" and isinstance(document, dict) and "analysis" in document:
        parse_distribution(document)
        counts = tuple(
            (f"n_{t._node.name}", qm.Aggregate(qm.AggOp.COUNT, t._node))
            for t in (clinical_events, medications)
        )
        return qm.Dataset(everyone, counts)
    if form == "rquest":
        query, root = rquest.from_jsonable(document).query, "$.cohort"
    else:
        query, root = fedsafe_form.from_jsonable(document), "$"
    return qm.Dataset(everyone, (("q", cohort_compile.population(query, reference_date, root)),))
