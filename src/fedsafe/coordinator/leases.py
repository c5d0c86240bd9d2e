"""What an agent may do to its backend's jobs: lease, heartbeat, report a new state.

Every operation is scoped to the calling backend: a job of another backend is "not found",
exactly as a job that does not exist, and the attempt is audited. A lease is a random id with
an expiry; only its holder may heartbeat or report, and an expired lease puts the job back to
pending so it is offered again (never to two holders at once: leasing is a conditional UPDATE
on the pending state).
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from fedsafe.agent_protocol.messages import StateReport
from fedsafe.agent_protocol.states import TERMINAL, Actor, JobState, can_move
from fedsafe.coordinator import audit
from fedsafe.coordinator.errors import CoordinatorError
from fedsafe.coordinator.models import Backend, Job
from fedsafe.coordinator.transitions import move

__all__ = ["JobNotFound", "LeaseRefused", "expire_leases", "heartbeat", "lease", "report"]

HELD = (JobState.LEASED, JobState.RUNNING, JobState.CANCELLING)


class JobNotFound(CoordinatorError):
    """No job with this id belongs to the calling backend."""


class LeaseRefused(CoordinatorError):
    """The caller does not hold the job's current lease, or asks for an impossible change."""


def _lease_length() -> timedelta:
    return timedelta(seconds=settings.LEASE_SECONDS)


def expire_leases(now: datetime | None = None) -> int:
    """Put jobs whose lease ran out back to pending (or cancelled, if cancelling)."""
    now = now or timezone.now()
    moved = 0
    for job in Job.objects.filter(
        state__in=[s.value for s in HELD], lease_expires_at__lt=now
    ).select_related("backend"):
        current = JobState(job.state)
        new = JobState.CANCELLED if current is JobState.CANCELLING else JobState.PENDING
        extra = {"finished_at": now} if new is JobState.CANCELLED else {}
        if move(
            job,
            new,
            Actor.SYSTEM,
            "system",
            expect=current,
            extra_filter={"lease_id": job.lease_id},
            lease_id=None,
            lease_expires_at=None,
            **extra,
        ):
            moved += 1
    return moved


def lease(backend: Backend, max_jobs: int, now: datetime | None = None) -> list[Job]:
    """Lease up to ``max_jobs`` of this backend's pending jobs, oldest first."""
    now = now or timezone.now()
    expire_leases(now)
    actor = f"backend:{backend.name}"
    leased: list[Job] = []
    candidates = (
        Job.objects.filter(backend=backend, state=JobState.PENDING.value)
        .select_related("backend", "job_request__workspace")
        .order_by("id")
    )
    for job in candidates[: max_jobs * 2]:
        if len(leased) >= max_jobs:
            break
        if move(
            job,
            JobState.LEASED,
            Actor.AGENT,
            actor,
            expect=JobState.PENDING,
            lease_id=secrets.token_urlsafe(18),
            lease_expires_at=now + _lease_length(),
        ):
            leased.append(job)
    return leased


def own_job(backend: Backend, job_id: int, what: str) -> Job:
    """The job if it is this backend's; otherwise refuse (and audit) as if it did not exist."""
    job = Job.objects.select_related("backend", "job_request__workspace").filter(pk=job_id).first()
    if job is None or job.backend_id != backend.pk:
        refuse(backend, what, job_id, "no such job for this backend")
        raise JobNotFound(f"no job {job_id} for backend {backend.name}")
    return job


def refuse(backend: Backend | None, what: str, job_id: int | None, reason: str) -> None:
    """Audit a refused API call (outside any transaction that is being rolled back)."""
    actor = f"backend:{backend.name}" if backend else "anonymous"
    target = f"job:{job_id}" if job_id is not None else ""
    audit.record(actor, "api.refused", target, operation=what, reason=reason)


def heartbeat(backend: Backend, job_id: int, lease_id: str, now: datetime | None = None) -> Job:
    now = now or timezone.now()
    expire_leases(now)
    job = own_job(backend, job_id, "heartbeat")
    with transaction.atomic():
        updated = Job.objects.filter(
            pk=job.pk, lease_id=lease_id, state__in=[s.value for s in HELD]
        ).update(lease_expires_at=now + _lease_length())
    if updated != 1:
        refuse(backend, "heartbeat", job_id, "lease not held (expired, finished or wrong id)")
        raise LeaseRefused(f"job {job_id}: this lease is not held (expired or finished)")
    job.refresh_from_db()
    return job


def report(backend: Backend, job_id: int, body: StateReport, now: datetime | None = None) -> Job:
    """Move the job to the reported state if the caller holds its lease and the table allows."""
    now = now or timezone.now()
    expire_leases(now)
    job = own_job(backend, job_id, "report")
    current = JobState(job.state)
    problem = _report_problem(job, current, body)
    if problem:
        refuse(backend, "report", job_id, problem)
        raise LeaseRefused(f"job {job_id}: {problem}")
    fields: dict[str, object] = {}
    if body.state is JobState.RUNNING:
        fields["started_at"] = body.started_at or now
    if body.state in TERMINAL:
        fields.update(
            finished_at=body.finished_at or now,
            exit_code=body.exit_code,
            error_class=body.error_class or "",
            message=body.message or "",
            lease_id=None,
            lease_expires_at=None,
        )
        if body.started_at and job.started_at is None:
            fields["started_at"] = body.started_at
    if not move(
        job,
        body.state,
        Actor.AGENT,
        f"backend:{backend.name}",
        expect=current,
        extra_filter={"lease_id": body.lease_id},
        **fields,
    ):
        refuse(backend, "report", job_id, "job changed while reporting; lease no longer held")
        raise LeaseRefused(f"job {job_id}: the lease is no longer held")
    return job


def _report_problem(job: Job, current: JobState, body: StateReport) -> str | None:
    if job.lease_id is None or not secrets.compare_digest(job.lease_id, body.lease_id):
        return "lease not held (expired, finished or wrong id)"
    if not can_move(current, body.state, Actor.AGENT):
        return f"an agent cannot move a job from {current.value} to {body.state.value}"
    terminal = body.state in TERMINAL
    if not terminal and any(
        v is not None for v in (body.finished_at, body.exit_code, body.error_class, body.message)
    ):
        return "finished_at, exit_code, error_class and message belong to a final state only"
    if body.started_at and body.finished_at and body.finished_at < body.started_at:
        return "finished_at is before started_at"
    return None
