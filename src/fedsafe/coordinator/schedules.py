"""Schedules: cron expressions that create job requests when they come round.

``run_due_schedules(now)`` takes the time as an argument so tests can drive it with any clock;
the loop in the CLI calls it with the real time. Each firing claims the schedule with a
conditional UPDATE of ``next_run_at``, so two loops running at once cannot both fire it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

from croniter import croniter
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from fedsafe.coordinator import audit
from fedsafe.coordinator.errors import CoordinatorError
from fedsafe.coordinator.models import JobRequest, Schedule, Workspace
from fedsafe.coordinator.requests import RequestSpec, create_job_request
from fedsafe.coordinator.validation import (
    check_actions,
    check_backend_choice,
    check_cron,
    check_reason,
    check_tables,
)

__all__ = ["Firing", "create_schedule", "run_due_schedules"]


def _next(cron: str, after: datetime) -> datetime:
    return croniter(cron, after).get_next(datetime)


def create_schedule(
    user: AbstractBaseUser, workspace: Workspace, cron: str, spec: RequestSpec, now: datetime
) -> Schedule:
    cron = check_cron(cron, now)
    actions = check_actions(spec.actions)
    choice = check_backend_choice(spec.backends)
    needed = check_tables(spec.needed_tables)
    reason = check_reason(spec.reason)
    with transaction.atomic():
        schedule = Schedule.objects.create(
            workspace=workspace,
            created_by=user,
            cron=cron,
            reason=reason,
            actions=actions,
            requested_backends=choice,
            needed_tables=needed,
            next_run_at=_next(cron, now),
            created_at=timezone.now(),
        )
        audit.record(
            f"user:{user.get_username()}",
            "schedule.created",
            f"schedule:{schedule.pk}",
            workspace=workspace.name,
            cron=cron,
            actions=actions,
            requested_backends=choice,
        )
    return schedule


@dataclass(frozen=True)
class Firing:
    schedule_id: int
    request_id: int | None
    error: str | None


def run_due_schedules(
    now: datetime, resolve_commit: Callable[[str, str], str] | None = None
) -> list[Firing]:
    """Fire every enabled schedule whose time has come, once, and set its next time.

    A schedule that cannot make its request (branch gone, no backend left) records why in the
    audit log and waits for its next time instead of retrying in a loop.
    """
    from fedsafe.coordinator.gitrefs import branch_head

    resolve = resolve_commit or branch_head
    firings = []
    for schedule in Schedule.objects.filter(enabled=True, next_run_at__lte=now).select_related(
        "workspace", "created_by"
    ):
        spec = RequestSpec(
            actions=schedule.actions,
            backends=schedule.requested_backends,
            reason=f"{schedule.reason} (schedule {schedule.pk}: {schedule.cron})",
            needed_tables=schedule.needed_tables,
        )
        try:
            commit = resolve(schedule.workspace.repo_url, schedule.workspace.branch)
        except CoordinatorError as exc:
            firings.append(_fail(schedule, now, str(exc)))
            continue
        try:
            with transaction.atomic():
                if not _claim(schedule, now):
                    continue
                request: JobRequest = create_job_request(
                    schedule.created_by, schedule.workspace, replace(spec, commit=commit), schedule
                )
            firings.append(Firing(schedule.pk, request.pk, None))
        except CoordinatorError as exc:
            firings.append(_fail(schedule, now, str(exc)))
    return firings


def _claim(schedule: Schedule, now: datetime) -> bool:
    claimed = Schedule.objects.filter(pk=schedule.pk, next_run_at=schedule.next_run_at).update(
        next_run_at=_next(schedule.cron, now)
    )
    return claimed == 1


def _fail(schedule: Schedule, now: datetime, error: str) -> Firing:
    with transaction.atomic():
        if _claim(schedule, now):
            audit.record(
                f"schedule:{schedule.pk}", "schedule.failed", f"schedule:{schedule.pk}", error=error
            )
    return Firing(schedule.pk, None, error)
