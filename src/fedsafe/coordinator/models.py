"""What the coordinator stores: who asked for what to run where, and what happened.

Nothing here holds patient data, log contents or output files: a job's record is its state,
timings, exit code, an error class and one short line of text.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models

from fedsafe.agent_protocol.states import JobState, request_state

__all__ = [
    "AuditEvent",
    "Backend",
    "BackendToken",
    "Job",
    "JobRequest",
    "Project",
    "ProjectMember",
    "RequestCrate",
    "Schedule",
    "UserApiToken",
    "Workspace",
]


class Project(models.Model):
    name = models.CharField(max_length=100, unique=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.name


class Workspace(models.Model):
    """A git repository and branch whose actions can be run on backends."""

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="workspaces")
    name = models.CharField(max_length=100, unique=True)
    repo_url = models.CharField(max_length=500)
    branch = models.CharField(max_length=200)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.name


class Backend(models.Model):
    """A data controller's secure environment, reached only by its own agent pulling work."""

    name = models.CharField(max_length=50, unique=True)
    provides = models.JSONField(default=list)  # logical table names, sorted
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.name

    @property
    def active(self) -> bool:
        return self.tokens.filter(revoked_at__isnull=True).exists()


class BackendToken(models.Model):
    """A backend's API token, stored only as its SHA-256: the token itself is shown once."""

    backend = models.ForeignKey(Backend, on_delete=models.PROTECT, related_name="tokens")
    token_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=12)  # enough to tell tokens apart in the audit log
    created_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)


class JobRequest(models.Model):
    """One person's request to run some actions of a workspace at a commit on some backends."""

    workspace = models.ForeignKey(Workspace, on_delete=models.PROTECT, related_name="requests")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    reason = models.CharField(max_length=500)
    commit = models.CharField(max_length=40)
    actions = models.JSONField()  # list of action names
    requested_backends = models.JSONField()  # "all" or a list of names, as asked
    needed_tables = models.JSONField(default=list)
    schedule = models.ForeignKey(
        "Schedule", null=True, blank=True, on_delete=models.PROTECT, related_name="requests"
    )
    created_at = models.DateTimeField()
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        ordering = ["-created_at", "-id"]

    @property
    def state(self) -> str:
        return request_state([JobState(j.state) for j in self.jobs.all()])

    @property
    def backend_names(self) -> list[str]:
        return sorted({j.backend.name for j in self.jobs.all()})

    @property
    def started_at(self) -> Any:
        times = [j.started_at for j in self.jobs.all() if j.started_at]
        return min(times) if times else None

    @property
    def finished_at(self) -> Any:
        jobs = list(self.jobs.all())
        times = [j.finished_at for j in jobs]
        if not jobs or any(t is None for t in times):
            return None
        return max(times)


class Job(models.Model):
    """One action of one request on one backend."""

    job_request = models.ForeignKey(JobRequest, on_delete=models.PROTECT, related_name="jobs")
    backend = models.ForeignKey(Backend, on_delete=models.PROTECT, related_name="jobs")
    action = models.CharField(max_length=100)
    state = models.CharField(
        max_length=20, choices=[(s.value, s.value) for s in JobState], default=JobState.PENDING
    )
    lease_id = models.CharField(max_length=64, null=True, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    exit_code = models.IntegerField(null=True, blank=True)
    error_class = models.CharField(max_length=64, blank=True, default="")
    message = models.CharField(max_length=200, blank=True, default="")
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["job_request", "backend", "action"], name="one_job_per_backend_action"
            )
        ]


class Schedule(models.Model):
    """A cron expression that creates a job request each time it comes round."""

    workspace = models.ForeignKey(Workspace, on_delete=models.PROTECT, related_name="schedules")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    cron = models.CharField(max_length=100)
    reason = models.CharField(max_length=500)
    actions = models.JSONField()
    requested_backends = models.JSONField()
    needed_tables = models.JSONField(default=list)
    next_run_at = models.DateTimeField()
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField()


class AppendOnlyError(Exception):
    """An attempt to change or delete an audit record."""


class _AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs: Any) -> int:
        raise AppendOnlyError("audit events are never changed")

    def delete(self) -> Any:
        raise AppendOnlyError("audit events are never deleted")


class AuditEvent(models.Model):
    """One state change (or refused attempt), written in the same transaction as the change.

    Append-only: saving an existing event, or deleting one, raises. The database triggers added
    in the migration refuse UPDATE and DELETE from outside Django too.
    """

    at = models.DateTimeField()
    actor = models.CharField(max_length=120)  # "user:alice", "backend:north", "system"
    kind = models.CharField(max_length=60)  # "job.state", "request.created", "api.refused", ...
    target = models.CharField(max_length=60, blank=True, default="")  # "job:12"
    data = models.JSONField(default=dict)

    objects = _AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["id"]

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise AppendOnlyError("audit events are never changed")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise AppendOnlyError("audit events are never deleted")


class RequestCrate(models.Model):
    """A request's Five Safes RO-Crate identity: the BagIt External-Identifier's UUID, made
    once and kept for the request's life, and the metadata of the crate it was submitted as
    (if it came in as a crate), which the returned crate extends."""

    job_request = models.OneToOneField(JobRequest, on_delete=models.PROTECT, related_name="crate")
    uuid = models.UUIDField(unique=True)
    submitted_metadata = models.JSONField(null=True, blank=True)
    bag_checked_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()


class UserApiToken(models.Model):
    """A person's API token (for the TES and crate APIs), stored only as its SHA-256: the
    token itself is shown once."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    token_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=12)
    created_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)


class ProjectMember(models.Model):
    """Someone allowed to submit work for a project besides its creator (and staff)."""

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="members")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    added_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "user"], name="one_membership_per_user")
        ]


# Releases and combined results live in their own module; importing them here registers them
# with the app (Django loads only ``models``).
from fedsafe.coordinator.release_models import (  # noqa: E402
    CombinedFile,
    CombineRun,
    Dashboard,
    Release,
    ReleasedFile,
)

__all__ += ["CombineRun", "CombinedFile", "Dashboard", "Release", "ReleasedFile"]

# Linkage permissions and the checks made with them (issue #15), registered the same way.
from fedsafe.coordinator.linkage_models import (  # noqa: E402
    LinkageCheck,
    LinkageGrant,
    LinkagePermission,
)

__all__ += ["LinkageCheck", "LinkageGrant", "LinkagePermission"]

# Cohort discovery (fedsafe.coordinator.cohort_models), registered the same way.
from fedsafe.coordinator.cohort_models import CohortAnswer, CohortQuery  # noqa: E402

__all__ += ["CohortAnswer", "CohortQuery"]
