"""Cohort queries on the coordinator: checked, fanned out to backends, answered, combined.

The coordinator never runs a query. It parses the document with the same pure parsers the
backends use (``fedsafe.cohort.rquest`` / ``fedsafe.cohort.fedsafe_form``, which import no
engine) so a malformed query is refused here with its JSON path, before any backend sees it;
it works out which tables the query reads, so "all" means every backend that provides them;
and it stores each backend's safe answer as it arrives.

The combined total is the sum of the backends' safe counts, rounded again with the default
cohort policy (counts below 10 -> 0, nearest 10, halves up). Each part is already a multiple
of 10, so re-rounding normally changes nothing; it is there so that a backend with a finer
policy (base 5, say) cannot make the total more precise than the coarsest released rule, and
so that the total itself is never in 1..9.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from fedsafe.cohort import fedsafe_form, rquest
from fedsafe.cohort.errors import CohortQueryError
from fedsafe.cohort.model import AvailabilityQuery, Domain
from fedsafe.cohort.policy import CohortCountPolicy
from fedsafe.coordinator import audit
from fedsafe.coordinator.cohort_models import CohortAnswer, CohortQuery
from fedsafe.coordinator.errors import FieldError
from fedsafe.coordinator.models import Backend
from fedsafe.coordinator.requests import eligible_backends

__all__ = [
    "CohortNotFound",
    "Combined",
    "RateLimited",
    "combined",
    "lease_queries",
    "needed_tables",
    "parse_document",
    "record_answer",
    "submit_query",
]

RELEASE_AGAIN_AFTER = datetime.timedelta(minutes=5)  # a leased query whose agent died
TOTAL_POLICY = CohortCountPolicy()
MAX_QUERY_CHARS = 64_000


MAX_QUERIES_PER_HOUR = 60  # per user: more is a flood (or an attempt to map the data by count)


class RateLimited(Exception):
    """Too many cohort queries from one user in the last hour; refused and audited."""


class CohortNotFound(Exception):
    """No such cohort query for this backend (another backend's is "not found" too)."""


def parse_document(document: Any) -> tuple[str, AvailabilityQuery]:
    """(form, query) of an availability query document; raises FieldError naming the path."""
    try:
        if isinstance(document, dict) and "analysis" in document:
            raise CohortQueryError("$.analysis", "distribution queries are not fanned out yet")
        if isinstance(document, dict) and "cohort" in document:
            return "rquest", rquest.from_jsonable(document).query
        return "fedsafe", fedsafe_form.from_jsonable(document)
    except CohortQueryError as exc:
        raise FieldError("query", str(exc)) from None


def needed_tables(query: AvailabilityQuery) -> list[str]:
    """The logical tables a backend must provide to answer ``query``."""
    tables = {"patients"}
    for group in query.groups:
        for rule in group.rules:
            if rule.domain is Domain.DRUG:
                tables.add("medications")
            elif rule.domain is not Domain.PERSON:
                systems = {c.system for c in rule.codes}
                if "icd10" in systems:
                    tables.add("ons_deaths")
                if systems - {"icd10"}:
                    tables.add("clinical_events")
    return sorted(tables)


def _backends(choice: Any, needed: list[str]) -> list[Backend]:
    eligible = {b.name: b for b in eligible_backends(needed)}
    if choice == "all":
        if not eligible:
            raise FieldError("backends", f"no active backend provides all of: {', '.join(needed)}")
        return list(eligible.values())
    if not isinstance(choice, list) or not choice or not all(isinstance(n, str) for n in choice):
        raise FieldError("backends", 'expected "all" or a non-empty list of backend names')
    for name in choice:
        if name not in eligible:
            raise FieldError(
                "backends",
                f"backend {name!r} does not exist, has no live token or does not provide all "
                f"of: {', '.join(needed)}",
            )
    return [eligible[n] for n in dict.fromkeys(choice)]


def submit_query(user: AbstractBaseUser, document: Any, backends: Any = "all") -> CohortQuery:
    """Check the query and the backends, then store it with one waiting answer per backend."""
    form, query = parse_document(document)
    needed = needed_tables(query)
    chosen = _backends(backends, needed)
    since = timezone.now() - datetime.timedelta(hours=1)
    recent = CohortQuery.objects.filter(created_by=user, created_at__gt=since).count()
    if recent >= MAX_QUERIES_PER_HOUR:
        audit.record(f"user:{user.get_username()}", "cohort.rate_limited", "", recent=recent)
        raise RateLimited(
            f"{user.get_username()} has sent {recent} cohort queries in the last hour; the "
            f"limit is {MAX_QUERIES_PER_HOUR}: try again later"
        )
    with transaction.atomic():
        stored = CohortQuery.objects.create(
            created_by=user,
            created_at=timezone.now(),
            query=document,
            form=form,
            requested_backends=backends,
            needed_tables=needed,
        )
        for backend in chosen:
            CohortAnswer.objects.create(query=stored, backend=backend)
        audit.record(
            f"user:{user.get_username()}",
            "cohort.query",
            f"cohort:{stored.pk}",
            backends=[b.name for b in chosen],
        )
    return stored


def lease_queries(backend: Backend, limit: int) -> list[CohortAnswer]:
    """Waiting answers of this backend (and ones leased long ago by an agent that died)."""
    now = timezone.now()
    with transaction.atomic():
        waiting = list(
            CohortAnswer.objects.select_related("query", "query__created_by")
            .filter(backend=backend, state="pending")
            .exclude(leased_at__gt=now - RELEASE_AGAIN_AFTER)
            .order_by("id")[:limit]
        )
        for answer in waiting:
            answer.leased_at = now
            answer.save(update_fields=["leased_at"])
    return waiting


def own_answer(backend: Backend, query_id: int) -> CohortAnswer:
    found = (
        CohortAnswer.objects.select_related("query")
        .filter(backend=backend, query_id=query_id)
        .first()
    )
    if found is None:
        raise CohortNotFound(f"no cohort query {query_id} for backend {backend.name!r}")
    return found


def record_answer(
    backend: Backend,
    query_id: int,
    *,
    safe_count: int | None = None,
    rule: str = "",
    refused: str = "",
) -> CohortAnswer:
    """Store a backend's safe answer or refusal, once: an answer is never overwritten."""
    with transaction.atomic():
        answer = own_answer(backend, query_id)
        if answer.state != "pending":
            raise FieldError("answer", f"cohort query {query_id} was already answered")
        answer.state = "refused" if refused else "answered"
        answer.safe_count = None if refused else safe_count
        answer.rule = rule
        answer.refused = refused
        answer.answered_at = timezone.now()
        answer.save()
        audit.record(
            f"backend:{backend.name}",
            "cohort.answer",
            f"cohort:{query_id}",
            state=answer.state,
            refused=refused,
        )
    return answer


@dataclass(frozen=True)
class Combined:
    """Every backend's part and the protected total (None until one backend has answered)."""

    answers: list[CohortAnswer]
    total: int | None
    complete: bool
    rule: str = TOTAL_POLICY.describe()


def combined(query: CohortQuery) -> Combined:
    answers = list(query.answers.select_related("backend").order_by("backend__name"))
    counts = [a.safe_count for a in answers if a.state == "answered" and a.safe_count is not None]
    total = TOTAL_POLICY.safe(sum(counts)) if counts else None
    complete = all(a.state != "pending" for a in answers)
    return Combined(answers, total, complete)


def to_json(query: CohortQuery) -> dict[str, Any]:
    """The query with its answers as they stand: safe counts only."""
    result = combined(query)
    return {
        "id": query.pk,
        "created_by": query.created_by.get_username(),
        "created_at": query.created_at.isoformat(),
        "form": query.form,
        "query": query.query,
        "needed_tables": query.needed_tables,
        "answers": [
            {
                "backend": a.backend.name,
                "status": a.state,
                "safe_count": a.safe_count,
                "rule": a.rule,
                "refused": a.refused,
                "answered_at": a.answered_at.isoformat() if a.answered_at else None,
            }
            for a in result.answers
        ],
        "total": result.total,
        "total_rule": f"sum of the backends' safe counts, then {result.rule}",
        "complete": result.complete,
    }
