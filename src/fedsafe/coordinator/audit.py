"""Writing the append-only audit log: one call per state change or refused attempt."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from fedsafe.coordinator.models import AuditEvent

__all__ = ["record"]


def record(actor: str, kind: str, target: str = "", **data: Any) -> AuditEvent:
    """Append one event. Call it inside the transaction that makes the change, so a crash
    leaves either both the change and its record or neither."""
    return AuditEvent.objects.create(
        at=timezone.now(), actor=actor, kind=kind, target=target, data=data
    )
