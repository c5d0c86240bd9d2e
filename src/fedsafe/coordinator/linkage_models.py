"""What the coordinator keeps of linkage (issue #15): the permissions both data controllers
grant, and, per job request, which declaration was checked against which permission.

A ``LinkagePermission`` is the public, stored form of :class:`fedsafe.linkage.permission.
LinkagePermission`: for one project, the backend whose jobs receive linked records (the
requester, A) and the backend that sends them (the provider, B), the tables and columns, the
date range, the finest date precision and an expiry. It becomes usable only when each
backend's data controller has granted it (two ``LinkageGrant`` rows) and stops being usable
when it expires or is revoked. Nothing here holds patient data.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.db import models

from fedsafe.linkage.permission import LinkagePermission as PermissionValue
from fedsafe.linkage.permission import permission_from_data

__all__ = ["LinkageCheck", "LinkageGrant", "LinkagePermission"]


class LinkagePermission(models.Model):
    project = models.ForeignKey(
        "coordinator.Project", on_delete=models.PROTECT, related_name="linkage_permissions"
    )
    requester = models.ForeignKey(
        "coordinator.Backend", on_delete=models.PROTECT, related_name="+"
    )  # A: where the action runs and the linked rows arrive
    provider = models.ForeignKey(
        "coordinator.Backend", on_delete=models.PROTECT, related_name="+"
    )  # B: whose rows are sent
    tables = models.JSONField()  # qualified table name -> sorted permitted columns
    date_start = models.DateField(null=True, blank=True)  # both None: any date
    date_end = models.DateField(null=True, blank=True)
    finest_dates = models.CharField(max_length=10)  # day | month | year
    expires_at = models.DateTimeField()
    created_by = models.CharField(max_length=120)  # the audit actor who recorded it
    created_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.CharField(max_length=120, blank=True, default="")
    revoke_reason = models.CharField(max_length=500, blank=True, default="")

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"linkage permission {self.pk}"

    def as_data(self) -> dict[str, Any]:
        """The permission as :func:`fedsafe.linkage.permission.permission_from_data` reads it."""
        return {
            "project": self.project.name,
            "requester": self.requester.name,
            "provider": self.provider.name,
            "tables": {name: list(columns) for name, columns in self.tables.items()},
            "date_range": None
            if self.date_start is None
            else {"start": self.date_start.isoformat(), "end": self.date_end.isoformat()},
            "finest_dates": self.finest_dates,
            "expires_at": self.expires_at.isoformat(),
            "grants": [
                {
                    "backend": g.backend.name,
                    "granted_by": g.granted_by,
                    "granted_at": g.granted_at.isoformat(),
                }
                for g in self.grants.select_related("backend").order_by("id")
            ],
        }

    def value(self) -> PermissionValue:
        return permission_from_data(self.as_data(), source=f"linkage permission {self.pk}")

    def active_at(self, now: datetime.datetime) -> bool:
        """Granted by both controllers, not revoked, not expired."""
        granted = set(self.grants.filter(granted_at__lte=now).values_list("backend_id", flat=True))
        return (
            self.revoked_at is None
            and now < self.expires_at
            and {self.requester_id, self.provider_id} <= granted
        )


class LinkageGrant(models.Model):
    """One data controller's agreement to a permission, for the backend it controls."""

    permission = models.ForeignKey(
        LinkagePermission, on_delete=models.PROTECT, related_name="grants"
    )
    backend = models.ForeignKey("coordinator.Backend", on_delete=models.PROTECT, related_name="+")
    granted_by = models.CharField(max_length=200)  # the controller's name, as they gave it
    granted_at = models.DateTimeField()
    recorded_by = models.CharField(max_length=120)  # the audit actor who entered it

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["permission", "backend"], name="one_grant_per_backend_per_permission"
            )
        ]


class LinkageCheck(models.Model):
    """One linkage action of a job request, as checked when the request was made: the
    declaration read from project.yaml at the request's commit and the permission (as it was
    then) that covered it. Public: shown in the jobs log."""

    job_request = models.ForeignKey(
        "coordinator.JobRequest", on_delete=models.PROTECT, related_name="linkage_checks"
    )
    action = models.CharField(max_length=100)
    runs_on = models.CharField(max_length=50)  # the backend the action runs on (A)
    declaration = models.JSONField()  # LinkageDeclaration.to_public()
    permission = models.ForeignKey(LinkagePermission, on_delete=models.PROTECT, related_name="+")
    permission_snapshot = models.JSONField()  # LinkagePermission.to_public() at check time
    checked_at = models.DateTimeField()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["job_request", "action"], name="one_linkage_check_per_action"
            )
        ]
