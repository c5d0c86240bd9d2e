"""Small shared pieces of the coordinator's tests."""

from __future__ import annotations

from fedsafe.coordinator.models import AuditEvent, Backend, Job, JobRequest, Schedule

COMMIT = "0123456789abcdef0123456789abcdef01234567"


def snapshot() -> dict[str, int]:
    """Row counts of everything a refused change must leave alone."""
    return {
        model.__name__: model.objects.count()
        for model in (AuditEvent, Backend, Job, JobRequest, Schedule)
    }
