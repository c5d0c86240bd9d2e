"""The cohort-discovery messages between a backend's agent and the coordinator.

What an agent may send back about a cohort query is one of two shapes and nothing else:
``{"safe_count": 120, "rule": "..."}`` (a count that already passed the backend's policy and
ledger) or ``{"refused": "ReasonClass"}``. There is no field a raw count could travel in, and
any other key is refused (``extra="forbid"``), so a buggy or careless agent cannot send one.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from fedsafe.agent_protocol.messages import NO_BOOL, ErrorClass

__all__ = [
    "MAX_COHORT_LEASE",
    "CohortAnswerIn",
    "CohortAnswerOut",
    "CohortLeaseIn",
    "CohortQueryOut",
    "CohortRefusalIn",
]

MAX_COHORT_LEASE = 20
MAX_SAFE_COUNT = 10**12  # more patients than exist; anything bigger is not a count

RuleText = Annotated[
    str, StringConstraints(min_length=1, max_length=200, pattern=r"^[\x20-\x7E]*$")
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CohortLeaseIn(_Strict):
    """Ask for up to ``max_queries`` cohort queries waiting for the calling backend."""

    max_queries: Annotated[int, Field(ge=1, le=MAX_COHORT_LEASE), NO_BOOL] = 10


class CohortQueryOut(_Strict):
    """A cohort query as its backend's agent sees it: the query document and who asked."""

    id: int
    query: dict[str, Any]
    user: str
    created_at: datetime


class CohortAnswerIn(_Strict):
    """A safe answer: the count after the backend's policy and ledger, and the rule applied."""

    safe_count: Annotated[int, Field(ge=0, le=MAX_SAFE_COUNT), NO_BOOL]
    rule: RuleText


class CohortRefusalIn(_Strict):
    """A refusal: only a class of reason (``DifferencingRefused``, ``CohortQueryError``, ...)."""

    refused: ErrorClass


class CohortAnswerOut(_Strict):
    query_id: int
    backend: str
    status: str  # "answered" or "refused"
    safe_count: int | None
    rule: str
    refused: str
    answered_at: datetime | None
