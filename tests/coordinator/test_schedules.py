from datetime import UTC, datetime, timedelta

import pytest

from coordinator.helpers import snapshot
from fedsafe.coordinator.errors import FieldError
from fedsafe.coordinator.models import AuditEvent, JobRequest
from fedsafe.coordinator.requests import RequestSpec
from fedsafe.coordinator.schedules import create_schedule, run_due_schedules
from fedsafe.coordinator.setup_records import revoke_backend_tokens

pytestmark = pytest.mark.django_db

MONDAY = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)  # a Monday
SPEC = RequestSpec(
    actions="measures", backends="all", reason="weekly dashboard", needed_tables="events"
)


def head(url, branch):
    return "c" * 40


def test_a_schedule_fires_once_when_due_then_waits_for_its_next_time(user, workspace, backends):
    schedule = create_schedule(user, workspace, "0 3 * * 1", SPEC, now=MONDAY)  # Mondays 03:00
    assert schedule.next_run_at == datetime(2026, 3, 9, 3, 0, tzinfo=UTC)
    assert run_due_schedules(MONDAY + timedelta(days=6), resolve_commit=head) == []
    due = datetime(2026, 3, 9, 3, 0, 30, tzinfo=UTC)
    [firing] = run_due_schedules(due, resolve_commit=head)
    assert firing.error is None
    request = JobRequest.objects.get(pk=firing.request_id)
    assert request.schedule_id == schedule.pk and request.commit == "c" * 40
    assert sorted(j.backend.name for j in request.jobs.all()) == ["north", "south"]
    assert run_due_schedules(due + timedelta(hours=1), resolve_commit=head) == []
    schedule.refresh_from_db()
    assert schedule.next_run_at == datetime(2026, 3, 16, 3, 0, tzinfo=UTC)
    assert (
        AuditEvent.objects.filter(kind="request.created", actor=f"schedule:{schedule.pk}").count()
        == 1
    )


def test_a_schedule_that_cannot_run_records_why_and_moves_on(user, workspace, backends):
    schedule = create_schedule(user, workspace, "*/10 * * * *", SPEC, now=MONDAY)
    revoke_backend_tokens("north")
    revoke_backend_tokens("south")
    [firing] = run_due_schedules(MONDAY + timedelta(minutes=10), resolve_commit=head)
    assert "no active backend provides all of: events" in firing.error
    assert JobRequest.objects.count() == 0
    failed = AuditEvent.objects.get(kind="schedule.failed")
    assert failed.target == f"schedule:{schedule.pk}"
    assert run_due_schedules(MONDAY + timedelta(minutes=11), resolve_commit=head) == []


def test_a_bad_schedule_is_refused_and_changes_nothing(user, workspace, backends):
    before = snapshot()
    with pytest.raises(FieldError) as caught:
        create_schedule(user, workspace, "0 25 * * *", SPEC, now=MONDAY)
    assert caught.value.field == "cron"
    assert snapshot() == before
