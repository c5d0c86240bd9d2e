"""A backend's answer to one availability query: the function its agent calls.

Order matters and is the point of this module: run the query, consult the ledger, apply the
policy, write the raw count to the local audit log, and only then return the safe answer. If
anything fails before the audit record is on disk, nothing is returned, so nothing leaves.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

import ibis

from fedsafe.cohort import compile as cohort_compile
from fedsafe.cohort.audit import AuditLog
from fedsafe.cohort.ledger import decide, scan
from fedsafe.cohort.model import AvailabilityQuery
from fedsafe.cohort.policy import CohortCountPolicy
from fedsafe.query_model import serialize


@dataclass(frozen=True)
class CountAnswer:
    """What may leave the backend. ``count`` is safe (None when refused); no raw number."""

    status: str  # "ok" or "refused"
    count: int | None
    decision: str  # answered, repeated, coarsened or refused
    rule: str
    auto_release: bool
    audit_seq: int
    message: str = ""


def answer_count(
    query: AvailabilityQuery,
    connection: ibis.BaseBackend,
    *,
    audit: AuditLog,
    policy: CohortCountPolicy | None = None,
    reference_date: datetime.date | None = None,
    user: str = "",
    root: str = "$",
) -> CountAnswer:
    """Count the query's patients on ``connection`` and return only what may leave.

    ``reference_date`` anchors ages and time windows when the query has none (default: today).
    ``root`` is the JSON path of the query's groups' parent, for error messages (``$.cohort``
    for RQuest documents).
    """
    policy = policy or CohortCountPolicy()
    ref = query.reference_date or reference_date or datetime.date.today()
    population = cohort_compile.population(query, ref, root)
    earlier = _answered(audit)
    result = scan(population, [(seq, pop) for seq, pop, _ in earlier], connection)
    decision = decide(result.overlaps, policy.threshold)
    released = {seq: safe for seq, _, safe in earlier}
    if decision.kind == "answered":
        safe: int | None = policy.safe(result.raw_count)
        message = ""
    elif decision.kind == "refused":
        safe = None
        message = (
            f"refused: this query's patients differ from an earlier answer's by fewer than "
            f"{policy.threshold}, so its count could reveal a small number by subtraction"
        )
    else:
        safe = released[decision.same_as]  # type: ignore[index]
        message = (
            f"{decision.kind}: the answer given earlier to a query with nearly the same patients"
        )
    record = audit.append(
        {
            "kind": "count",
            "user": user,
            "reference_date": ref.isoformat(),
            "population": serialize.to_jsonable(population),
            "raw_count": result.raw_count,
            "safe_count": safe,
            "decision": decision.kind,
            "same_as": decision.same_as,
            "rule": policy.describe(),
            "policy": policy.to_dict(),
            "auto_release": policy.auto_release,
        }
    )
    return CountAnswer(
        status="refused" if safe is None else "ok",
        count=safe,
        decision=decision.kind,
        rule=policy.describe(),
        auto_release=policy.auto_release,
        audit_seq=record["seq"],
        message=message,
    )


def _answered(audit: AuditLog) -> list[tuple[int, object, int]]:
    """The ledger: (seq, population, safe count) of every count answered on its own."""
    return [
        (r["seq"], serialize.from_jsonable(r["population"]), r["safe_count"])
        for r in audit.records()
        if r.get("kind") == "count" and r.get("decision") == "answered"
    ]
