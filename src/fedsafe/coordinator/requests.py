"""Job requests: checked, fanned out into one job per backend per action, and cancelled.

"all" means every backend with a live token that provides every table the request needs, so a
backend that lacks a table is never sent work it cannot do.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from fedsafe.agent_protocol.states import Actor, JobState
from fedsafe.coordinator import audit
from fedsafe.coordinator.errors import FieldError, NotAllowed
from fedsafe.coordinator.gitfiles import GitReadError
from fedsafe.coordinator.linkage_checks import ProjectReader, check_linkage, read_project_file
from fedsafe.coordinator.models import (
    Backend,
    Job,
    JobRequest,
    LinkageCheck,
    Schedule,
    Workspace,
)
from fedsafe.coordinator.transitions import move
from fedsafe.coordinator.validation import (
    check_actions,
    check_backend_choice,
    check_commit,
    check_reason,
    check_tables,
)

__all__ = ["RequestSpec", "cancel_request", "create_job_request", "eligible_backends"]


@dataclass(frozen=True)
class RequestSpec:
    """A request as typed in, before checking: the same for the form, schedules and tests."""

    actions: str | list[str]
    backends: str | list[str]
    reason: str
    needed_tables: str | list[str] = ""
    commit: str = ""  # empty: the branch's head, found with git ls-remote


def eligible_backends(needed: list[str]) -> list[Backend]:
    """Backends with a live token that provide every needed table, by name."""
    live = Backend.objects.filter(tokens__revoked_at__isnull=True).distinct().order_by("name")
    return [b for b in live if set(needed) <= set(b.provides)]


def _chosen_backends(choice: str | list[str], needed: list[str]) -> list[Backend]:
    eligible = eligible_backends(needed)
    if choice == "all":
        if not eligible:
            tables = ", ".join(needed) or "(none)"
            raise FieldError("backends", f"no active backend provides all of: {tables}")
        return eligible
    by_name = {b.name: b for b in Backend.objects.filter(name__in=choice)}
    for name in choice:
        if name not in by_name:
            raise FieldError("backends", f"no backend called {name!r}")
        backend = by_name[name]
        if not backend.active:
            raise FieldError("backends", f"backend {name!r} has no live token")
        missing = sorted(set(needed) - set(backend.provides))
        if missing:
            raise FieldError("backends", f"backend {name!r} does not provide: {', '.join(missing)}")
    return [by_name[n] for n in choice]


def create_job_request(
    user: AbstractBaseUser,
    workspace: Workspace,
    spec: RequestSpec,
    schedule: Schedule | None = None,
    resolve_commit=None,
    read_project: ProjectReader | None = None,
) -> JobRequest:
    """Check everything first, then write the request, its jobs and their audit records in one
    transaction: a refused request changes nothing.

    project.yaml is read at the commit so that every action declaring ``linkage:`` is checked
    against an active permission (:mod:`fedsafe.coordinator.linkage_checks`) before any job
    exists."""
    actions = check_actions(spec.actions)
    choice = check_backend_choice(spec.backends)
    needed = check_tables(spec.needed_tables)
    reason = check_reason(spec.reason)
    if spec.commit.strip():
        commit = check_commit(spec.commit)
    else:
        from fedsafe.coordinator.gitrefs import branch_head

        commit = (resolve_commit or branch_head)(workspace.repo_url, workspace.branch)
    actor = f"schedule:{schedule.pk}" if schedule else f"user:{user.get_username()}"
    project_text, unread = _project_text(workspace, commit, read_project or read_project_file)
    with transaction.atomic():
        backends = _chosen_backends(choice, needed)
        now = timezone.now()
        linked = check_linkage(workspace, commit, actions, backends, project_text, now)
        request = JobRequest.objects.create(
            workspace=workspace,
            created_by=user,
            reason=reason,
            commit=commit,
            actions=actions,
            requested_backends=choice,
            needed_tables=needed,
            schedule=schedule,
            created_at=now,
        )
        audit.record(
            actor,
            "request.created",
            f"request:{request.pk}",
            workspace=workspace.name,
            commit=commit,
            actions=actions,
            requested_backends=choice,
            backends=[b.name for b in backends],
            needed_tables=needed,
            linkage_checked=unread is None,
            **({"project_unread": unread} if unread else {}),
        )
        for check in linked:
            LinkageCheck.objects.create(
                job_request=request,
                action=check.action,
                runs_on=check.runs_on,
                declaration=check.declaration.to_public(),
                permission=check.permission,
                permission_snapshot=check.snapshot,
                checked_at=now,
            )
            audit.record(
                actor,
                "linkage.checked",
                f"request:{request.pk}",
                action=check.action,
                runs_on=check.runs_on,
                declaration=check.declaration.to_public(),
                permission=check.permission.pk,
            )
        for backend in backends:
            for action in actions:
                job = Job.objects.create(
                    job_request=request, backend=backend, action=action, updated_at=now
                )
                audit.record(
                    actor,
                    "job.state",
                    f"job:{job.pk}",
                    request=request.pk,
                    backend=backend.name,
                    action=action,
                    before=None,
                    after=JobState.PENDING.value,
                )
    return request


def _project_text(
    workspace: Workspace, commit: str, read: ProjectReader
) -> tuple[str | None, str | None]:
    """project.yaml at the commit, or (None, why not). A repository the coordinator cannot
    read is not refused here (the agents fetch it themselves, and a commit no backend can read
    runs nothing); the request's audit record says the linkage check was not made."""
    try:
        data = read(workspace.repo_url, commit)
    except GitReadError as exc:
        return None, str(exc)[:300]
    if data is None:
        return None, f"no project.yaml at {commit}"
    return data.decode("utf-8", "replace"), None


def cancel_request(user: AbstractBaseUser, request: JobRequest) -> int:
    """Cancel every job not yet finished: pending ones at once, held ones via their agent.

    Only the person who asked, or staff, may cancel. Returns how many jobs changed.
    """
    if request.created_by_id != user.pk and not user.is_staff:
        raise NotAllowed("only the person who made a request (or staff) can cancel it")
    actor = f"user:{user.get_username()}"
    changed = 0
    with transaction.atomic():
        locked = JobRequest.objects.select_for_update().get(pk=request.pk)
        if locked.cancelled_at is None:
            locked.cancelled_at = timezone.now()
            locked.cancelled_by = user
            locked.save(update_fields=["cancelled_at", "cancelled_by"])
            audit.record(actor, "request.cancelled", f"request:{locked.pk}")
        for job in Job.objects.select_for_update().filter(job_request=locked).order_by("id"):
            current = JobState(job.state)
            target = JobState.CANCELLED if current is JobState.PENDING else JobState.CANCELLING
            if move(job, target, Actor.USER, actor, expect=current):
                changed += 1
    return changed
