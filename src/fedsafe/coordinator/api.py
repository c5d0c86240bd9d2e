"""The agent API (django-ninja), at ``/api/agent/v1/``; its OpenAPI document is served at
``/api/agent/v1/openapi.json`` and browsable at ``/api/agent/v1/docs``.

Authentication is a backend token (``Authorization: Bearer ...``). Every operation acts on the
calling backend's own jobs only; the logic lives in ``leases`` and this module only translates
between HTTP and it.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import NinjaAPI, Path, Schema
from ninja.security import HttpBearer

from fedsafe.agent_protocol.messages import (
    BackendInfo,
    HeartbeatIn,
    HeartbeatOut,
    JobOut,
    LeaseIn,
    ProvidesIn,
    StateReport,
)
from fedsafe.agent_protocol.states import TERMINAL
from fedsafe.coordinator.errors import FieldError
from fedsafe.coordinator.leases import (
    JobNotFound,
    LeaseRefused,
    heartbeat,
    lease,
    own_job,
    refuse,
    report,
)
from fedsafe.coordinator.models import Backend, BackendToken, Job
from fedsafe.coordinator.setup_records import set_provides
from fedsafe.coordinator.tokens import hash_token

__all__ = ["api"]

MAX_JOB_ID = 2**62  # ids beyond this cannot exist and would overflow some databases


class Error(Schema):
    detail: str


class BackendTokenAuth(HttpBearer):
    """A live token of one backend; a revoked or unknown token is refused and audited."""

    def authenticate(self, request: HttpRequest, token: str) -> Backend | None:
        found = (
            BackendToken.objects.select_related("backend")
            .filter(token_hash=hash_token(token))
            .first()
        )
        if found is None:
            refuse(None, request.path, None, "unknown token")
            return None
        if found.revoked_at is not None:
            refuse(found.backend, request.path, None, f"revoked token {found.prefix}")
            return None
        return found.backend


api = NinjaAPI(
    title="fedsafe agent API",
    version="1",
    description=(
        "How a backend's agent pulls jobs from the coordinator and reports back only states, "
        "timings, exit codes and a short error summary."
    ),
    auth=BackendTokenAuth(),
    urls_namespace="agent_api",
)

ERRORS: dict[int, Any] = {400: Error, 401: Error, 413: Error, 422: Any}


def _job_out(job: Job) -> JobOut:
    workspace = job.job_request.workspace
    return JobOut(
        id=job.pk,
        job_request_id=job.job_request_id,
        backend=job.backend.name,
        workspace=workspace.name,
        action=job.action,
        repo_url=workspace.repo_url,
        branch=workspace.branch,
        commit=job.job_request.commit,
        state=job.state,
        lease_id=job.lease_id,
        lease_expires_at=job.lease_expires_at,
    )


@api.exception_handler(JobNotFound)
def _not_found(request: HttpRequest, exc: JobNotFound) -> Any:
    return api.create_response(request, {"detail": str(exc)}, status=404)


@api.exception_handler(LeaseRefused)
def _refused(request: HttpRequest, exc: LeaseRefused) -> Any:
    return api.create_response(request, {"detail": str(exc)}, status=409)


@api.exception_handler(FieldError)
def _field(request: HttpRequest, exc: FieldError) -> Any:
    return api.create_response(request, {"detail": str(exc)}, status=422)


@api.get("/backend", response={200: BackendInfo, **ERRORS}, tags=["backend"])
def whoami(request: HttpRequest) -> BackendInfo:
    """The calling backend's name and the tables it says it provides."""
    backend: Backend = request.auth
    return BackendInfo(name=backend.name, provides=backend.provides)


@api.put("/backend/provides", response={200: BackendInfo, **ERRORS}, tags=["backend"])
def put_provides(request: HttpRequest, body: ProvidesIn) -> BackendInfo:
    """Declare the logical tables this backend provides (replacing the previous list)."""
    backend = set_provides(request.auth, body.tables, f"backend:{request.auth.name}")
    return BackendInfo(name=backend.name, provides=backend.provides)


# OpenAPI links: a leased job's id and lease id feed its heartbeat and reports, so clients and
# tools (schemathesis's stateful tests) can follow the protocol from the document alone.
_LEASE_LINKS = {
    "responses": {
        "200": {
            "links": {
                name: {
                    "operationId": operation,
                    "parameters": {"path.job_id": "$response.body#/0/id"},
                    "requestBody": {"lease_id": "$response.body#/0/lease_id", **extra},
                }
                for name, operation, extra in (
                    ("Heartbeat", "heartbeat", {}),
                    ("ReportRunning", "report_state", {"state": "running"}),
                )
            }
        }
    }
}


@api.post(
    "/jobs/lease",
    response={200: list[JobOut], **ERRORS},
    tags=["jobs"],
    operation_id="lease_jobs",
    openapi_extra=_LEASE_LINKS,
)
def lease_jobs(request: HttpRequest, body: LeaseIn) -> list[JobOut]:
    """Lease up to ``max_jobs`` pending jobs of this backend. Each comes with a ``lease_id``
    that heartbeats and reports must quote; a lease not renewed in time expires and the job is
    offered again."""
    return [_job_out(job) for job in lease(request.auth, body.max_jobs)]


@api.get("/jobs", response={200: list[JobOut], **ERRORS}, tags=["jobs"])
def list_jobs(request: HttpRequest) -> list[JobOut]:
    """This backend's unfinished jobs (so a restarted agent can see what it held)."""
    jobs = (
        Job.objects.filter(backend=request.auth)
        .exclude(state__in=[s.value for s in TERMINAL])
        .select_related("backend", "job_request__workspace")
        .order_by("id")[:500]
    )
    return [_job_out(job) for job in jobs]


JobId = Path(..., ge=1, le=MAX_JOB_ID)


@api.get("/jobs/{job_id}", response={200: JobOut, 404: Error, **ERRORS}, tags=["jobs"])
def get_job(request: HttpRequest, job_id: int = JobId) -> JobOut:
    """One of this backend's jobs; another backend's job is "not found"."""
    return _job_out(own_job(request.auth, job_id, "read"))


@api.post(
    "/jobs/{job_id}/heartbeat",
    response={200: HeartbeatOut, 404: Error, 409: Error, **ERRORS},
    tags=["jobs"],
    operation_id="heartbeat",
)
def post_heartbeat(request: HttpRequest, body: HeartbeatIn, job_id: int = JobId) -> HeartbeatOut:
    """Renew the lease; the answer says whether a person has asked for the job to stop."""
    job = heartbeat(request.auth, job_id, body.lease_id)
    return HeartbeatOut(
        state=job.state,
        lease_expires_at=job.lease_expires_at,
        cancel_requested=job.state == "cancelling",
    )


@api.post(
    "/jobs/{job_id}/state",
    response={200: JobOut, 404: Error, 409: Error, **ERRORS},
    tags=["jobs"],
    operation_id="report_state",
)
def post_state(request: HttpRequest, body: StateReport, job_id: int = JobId) -> JobOut:
    """Report a new state. Allowed for an agent: leased→running|failed, running→succeeded|
    failed, cancelling→cancelled|succeeded|failed. Final states may carry an exit code, an
    error class and one line of at most 200 printable characters; nothing else is accepted."""
    return _job_out(report(request.auth, job_id, body))
