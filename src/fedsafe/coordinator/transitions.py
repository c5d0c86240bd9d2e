"""The one place a job's state is changed: checked against the transition table, written
with a conditional UPDATE (so two writers cannot both win) and audited in the same
transaction."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from fedsafe.agent_protocol.states import Actor, JobState, can_move
from fedsafe.coordinator import audit
from fedsafe.coordinator.models import Job

__all__ = ["move"]


def move(
    job: Job,
    new: JobState,
    actor_kind: Actor,
    actor: str,
    expect: JobState,
    extra_filter: dict[str, Any] | None = None,
    **fields: Any,
) -> bool:
    """Move ``job`` from ``expect`` to ``new`` if the table allows ``actor_kind`` to.

    Returns False (and changes nothing) if the transition is not allowed or the job is no longer
    in ``expect`` (someone else moved it first). ``fields`` are written with the state.
    """
    if not can_move(expect, new, actor_kind):
        return False
    now = timezone.now()
    with transaction.atomic():
        updated = Job.objects.filter(pk=job.pk, state=expect.value, **(extra_filter or {})).update(
            state=new.value, updated_at=now, **fields
        )
        if updated != 1:
            return False
        audit.record(
            actor,
            "job.state",
            f"job:{job.pk}",
            request=job.job_request_id,
            backend=job.backend.name,
            action=job.action,
            before=expect.value,
            after=new.value,
        )
    job.refresh_from_db()
    return True
