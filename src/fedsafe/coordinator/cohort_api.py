"""HTTP for cohort discovery.

``cohort_agent_api`` (django-ninja, at ``/api/agent/v1/cohort/``, OpenAPI at
``/api/agent/v1/cohort/openapi.json``) is how a backend's agent leases the cohort queries
waiting for it and sends back a safe answer. Authenticated by the backend's token exactly as
the agent API: a backend sees and answers only its own queries; another's is "not found".

An answer body is ``{"safe_count": N, "rule": "..."}`` or ``{"refused": "ReasonClass"}`` and
nothing else (``fedsafe.agent_protocol.cohort``): a body with any other key, such as a raw
count, is refused with 422 and stores nothing.

``submit`` and ``detail`` are the people's side, at ``/api/cohort/v1/queries``: a user API token
(``Authorization: Bearer``) or a logged-in session (with Django's CSRF check) may post a query
and read its answers as they arrive.
"""

from __future__ import annotations

import json
from typing import Any

import pydantic
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.shortcuts import get_object_or_404
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST
from ninja import NinjaAPI, Path, Schema

from fedsafe.agent_protocol.cohort import (
    CohortAnswerIn,
    CohortAnswerOut,
    CohortLeaseIn,
    CohortQueryOut,
    CohortRefusalIn,
)
from fedsafe.coordinator.api import BackendTokenAuth
from fedsafe.coordinator.cohort_models import CohortAnswer, CohortQuery
from fedsafe.coordinator.cohort_queries import (
    MAX_QUERY_CHARS,
    CohortNotFound,
    RateLimited,
    lease_queries,
    record_answer,
    submit_query,
    to_json,
)
from fedsafe.coordinator.errors import FieldError
from fedsafe.coordinator.leases import refuse
from fedsafe.coordinator.user_tokens import user_for_token

__all__ = ["cohort_agent_api", "detail", "submit"]

MAX_ANSWER_BYTES = 1024
ANSWER = pydantic.TypeAdapter(CohortAnswerIn | CohortRefusalIn)

cohort_agent_api = NinjaAPI(
    title="fedsafe agent cohort API",
    version="1",
    description=(
        "How a backend's agent leases cohort queries and answers each with a safe count (after "
        "its policy and differencing ledger) or a refusal; never a raw count."
    ),
    auth=BackendTokenAuth(),
    urls_namespace="cohort_agent_api",
)


class Error(Schema):
    detail: str


# As the agent API: 400 for an unparsable body, 422 (with pydantic's list) for a malformed one.
ERRORS: dict[int, Any] = {400: Error, 401: Error, 413: Error, 422: Any}


@cohort_agent_api.exception_handler(CohortNotFound)
def _not_found(request: HttpRequest, exc: CohortNotFound) -> Any:
    refuse(request.auth, request.path, None, str(exc))
    return cohort_agent_api.create_response(request, {"detail": str(exc)}, status=404)


@cohort_agent_api.exception_handler(FieldError)
def _field(request: HttpRequest, exc: FieldError) -> Any:
    return cohort_agent_api.create_response(request, {"detail": str(exc)}, status=409)


def _answer_out(answer: CohortAnswer) -> CohortAnswerOut:
    return CohortAnswerOut(
        query_id=answer.query_id,
        backend=answer.backend.name,
        status=answer.state,
        safe_count=answer.safe_count,
        rule=answer.rule,
        refused=answer.refused,
        answered_at=answer.answered_at,
    )


@cohort_agent_api.post("/lease", response={200: list[CohortQueryOut], **ERRORS}, tags=["cohort"])
def lease(request: HttpRequest, body: CohortLeaseIn) -> list[CohortQueryOut]:
    """Cohort queries waiting for this backend (at most ``max_queries``)."""
    return [
        CohortQueryOut(
            id=a.query_id,
            query=a.query.query,
            user=a.query.created_by.get_username(),
            created_at=a.query.created_at,
        )
        for a in lease_queries(request.auth, body.max_queries)
    ]


@cohort_agent_api.post(
    "/{query_id}/answer",
    response={200: CohortAnswerOut, 404: Error, 409: Error, **ERRORS},
    tags=["cohort"],
    # The body is read by hand (one of two closed shapes); its schema is documented here.
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "oneOf": [
                            CohortAnswerIn.model_json_schema(),
                            CohortRefusalIn.model_json_schema(),
                        ]
                    }
                }
            },
        }
    },
)
def answer(request: HttpRequest, query_id: int = Path(..., ge=1, le=2**62)) -> Any:
    """Answer one of this backend's queries: ``{"safe_count", "rule"}`` or ``{"refused"}``."""
    if len(request.body) > MAX_ANSWER_BYTES:
        return 413, {"detail": f"an answer is at most {MAX_ANSWER_BYTES} bytes"}
    try:
        body = ANSWER.validate_json(request.body)
    except pydantic.ValidationError as exc:
        refuse(request.auth, request.path, None, "malformed cohort answer")
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}"
            for e in exc.errors(include_url=False)
        )
        return 422, {
            "detail": 'expected exactly {"safe_count", "rule"} or {"refused"}: ' + problems[:400]
        }
    if isinstance(body, CohortRefusalIn):
        stored = record_answer(request.auth, query_id, refused=body.refused)
    else:
        stored = record_answer(request.auth, query_id, safe_count=body.safe_count, rule=body.rule)
    return 200, _answer_out(stored)


# --- the people's side ----------------------------------------------------------------------


def _user(request: HttpRequest) -> tuple[Any, HttpResponse | None]:
    """The caller: by user token, else by session (CSRF-checked for writes)."""
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        user = user_for_token(header.removeprefix("Bearer ").strip(), request.path)
        if user is None:
            return None, JsonResponse({"detail": "unknown or revoked token"}, status=401)
        return user, None
    if request.user.is_authenticated:
        if request.method == "POST":
            failed = CsrfViewMiddleware(lambda r: HttpResponse()).process_view(
                request, lambda r: None, (), {}
            )
            if failed is not None:
                return None, JsonResponse({"detail": "CSRF check failed"}, status=403)
        return request.user, None
    return None, JsonResponse(
        {"detail": "log in, or send a fedsafe user API token as Bearer"}, status=401
    )


@csrf_exempt  # checked in _user for sessions; a token is not sent by browsers on its own
@require_POST
def submit(request: HttpRequest) -> HttpResponse:
    """POST ``{"query": {...}, "backends": "all" | [names]}``; answers the new query's id."""
    user, refused = _user(request)
    if refused is not None:
        return refused
    if len(request.body) > MAX_QUERY_CHARS:
        return JsonResponse({"detail": f"a query is at most {MAX_QUERY_CHARS} bytes"}, status=413)
    try:
        body = json.loads(request.body)
    except (ValueError, UnicodeDecodeError) as exc:
        return JsonResponse({"detail": f"not valid JSON: {exc}"}, status=400)
    if not isinstance(body, dict) or set(body) - {"query", "backends"} or "query" not in body:
        return JsonResponse(
            {"detail": 'expected {"query": {...}, "backends": "all" or a list of names}'},
            status=400,
        )
    try:
        stored = submit_query(user, body["query"], body.get("backends", "all"))
    except FieldError as exc:
        return JsonResponse({"detail": str(exc)}, status=400)
    except RateLimited as exc:
        return JsonResponse({"detail": str(exc)}, status=429)
    return JsonResponse(
        {
            **to_json(stored),
            "url": request.build_absolute_uri(f"/api/cohort/v1/queries/{stored.pk}"),
        },
        status=201,
    )


@require_GET
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The query's answers so far and the combined total (safe counts only)."""
    user, refused = _user(request)
    if refused is not None:
        return refused
    query = get_object_or_404(CohortQuery, pk=pk)
    if query.created_by_id != user.pk and not user.is_staff:
        return JsonResponse({"detail": f"cohort query {pk} is not yours"}, status=404)
    return JsonResponse(to_json(query))
