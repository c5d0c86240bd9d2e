from datetime import timedelta

import pytest
from django.utils import timezone

from coordinator.helpers import COMMIT
from fedsafe.agent_protocol.messages import StateReport
from fedsafe.coordinator.leases import (
    JobNotFound,
    LeaseRefused,
    expire_leases,
    heartbeat,
    lease,
    report,
)
from fedsafe.coordinator.models import AuditEvent, Job
from fedsafe.coordinator.requests import RequestSpec, cancel_request, create_job_request

pytestmark = pytest.mark.django_db


@pytest.fixture
def request_(user, workspace, backends):
    spec = RequestSpec(actions="a b", backends=["north", "south"], reason="test", commit=COMMIT)
    return create_job_request(user, workspace, spec)


def north(backends):
    return backends["north"].backend


def test_a_backend_leases_only_its_own_pending_jobs(backends, request_):
    leased = lease(north(backends), 10)
    assert [(j.backend.name, j.action) for j in leased] == [("north", "a"), ("north", "b")]
    assert all(j.state == "leased" and j.lease_id for j in leased)
    assert lease(north(backends), 10) == []


def test_a_lease_expires_and_the_job_is_offered_again_with_a_new_lease(backends, request_):
    now = timezone.now()
    [first] = lease(north(backends), 1, now=now)
    old_lease = first.lease_id
    report(north(backends), first.pk, StateReport(lease_id=old_lease, state="running"), now=now)
    later = now + timedelta(seconds=301)
    [again, _] = lease(north(backends), 2, now=later)
    assert again.pk == first.pk and again.lease_id != old_lease
    with pytest.raises(LeaseRefused):
        heartbeat(north(backends), first.pk, old_lease, now=later)
    with pytest.raises(LeaseRefused):
        report(
            north(backends), first.pk, StateReport(lease_id=old_lease, state="failed"), now=later
        )
    events = AuditEvent.objects.filter(target=f"job:{first.pk}", kind="job.state")
    assert [(e.data["before"], e.data["after"], e.actor) for e in events] == [
        (None, "pending", "user:rita"),
        ("pending", "leased", "backend:north"),
        ("leased", "running", "backend:north"),
        ("running", "pending", "system"),
        ("pending", "leased", "backend:north"),
    ]


def test_a_heartbeat_keeps_the_lease(backends, request_):
    now = timezone.now()
    [job] = lease(north(backends), 1, now=now)
    for minutes in (4, 8, 12):
        heartbeat(north(backends), job.pk, job.lease_id, now=now + timedelta(minutes=minutes))
    assert expire_leases(now + timedelta(minutes=16)) == 0
    assert Job.objects.get(pk=job.pk).state == "leased"


def test_a_report_on_another_backends_job_is_not_found_and_audited(backends, request_):
    south_job = request_.jobs.get(backend__name="south", action="a")
    [mine] = lease(north(backends), 1)
    with pytest.raises(JobNotFound):
        report(north(backends), south_job.pk, StateReport(lease_id=mine.lease_id, state="running"))
    refused = AuditEvent.objects.get(kind="api.refused")
    assert (refused.actor, refused.target) == ("backend:north", f"job:{south_job.pk}")
    assert Job.objects.get(pk=south_job.pk).state == "pending"


@pytest.mark.parametrize(
    ("path", "bad", "says"),
    [
        (["running"], "pending", "cannot move a job from running to pending"),
        (["running"], "leased", "cannot move"),
        (["running", "succeeded"], "running", "lease not held"),
        ([], "succeeded", "cannot move a job from leased to succeeded"),
        ([], "cancelled", "cannot move"),
    ],
)
def test_impossible_transitions_are_refused_audited_and_change_nothing(
    backends, request_, path, bad, says
):
    [job] = lease(north(backends), 1)
    for state in path:
        report(north(backends), job.pk, StateReport(lease_id=job.lease_id, state=state))
    state_before = Job.objects.get(pk=job.pk).state
    with pytest.raises(LeaseRefused, match=says):
        report(north(backends), job.pk, StateReport(lease_id=job.lease_id, state=bad))
    assert Job.objects.get(pk=job.pk).state == state_before
    assert AuditEvent.objects.filter(kind="api.refused", target=f"job:{job.pk}").count() == 1


def test_final_facts_only_with_a_final_state(backends, request_):
    [job] = lease(north(backends), 1)
    with pytest.raises(LeaseRefused, match="final state only"):
        report(
            north(backends),
            job.pk,
            StateReport(lease_id=job.lease_id, state="running", exit_code=0),
        )
    report(north(backends), job.pk, StateReport(lease_id=job.lease_id, state="running"))
    done = report(
        north(backends),
        job.pk,
        StateReport(
            lease_id=job.lease_id,
            state="failed",
            exit_code=3,
            error_class="ValueError",
            message="bad input",
        ),
    )
    assert (done.state, done.exit_code, done.error_class, done.message) == (
        "failed",
        3,
        "ValueError",
        "bad input",
    )
    assert done.lease_id is None and done.finished_at is not None and done.started_at is not None


def test_cancelling_reaches_the_agent_through_its_heartbeat(user, backends, request_):
    [job] = lease(north(backends), 1)
    cancel_request(user, request_)
    assert heartbeat(north(backends), job.pk, job.lease_id).state == "cancelling"
    report(north(backends), job.pk, StateReport(lease_id=job.lease_id, state="cancelled"))
    assert Job.objects.get(pk=job.pk).state == "cancelled"


def test_a_cancelling_job_whose_agent_vanished_is_cancelled_when_its_lease_ends(
    user, backends, request_
):
    now = timezone.now()
    [job] = lease(north(backends), 1, now=now)
    cancel_request(user, request_)
    expire_leases(now + timedelta(seconds=301))
    assert Job.objects.get(pk=job.pk).state == "cancelled"
