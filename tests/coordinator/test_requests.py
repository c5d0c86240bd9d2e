import pytest

from coordinator.helpers import COMMIT, snapshot
from fedsafe.coordinator.errors import FieldError, NotAllowed
from fedsafe.coordinator.models import AuditEvent, Job
from fedsafe.coordinator.requests import RequestSpec, cancel_request, create_job_request
from fedsafe.coordinator.setup_records import revoke_backend_tokens

pytestmark = pytest.mark.django_db


def spec(**kw):
    base = {
        "actions": "extract analyse",
        "backends": "all",
        "reason": "HbA1c trends",
        "commit": COMMIT,
    }
    return RequestSpec(**{**base, **kw})


def jobs_of(request):
    return sorted((j.backend.name, j.action, j.state) for j in request.jobs.all())


def test_all_means_every_backend_that_provides_the_needed_tables(user, workspace, backends):
    request = create_job_request(user, workspace, spec(needed_tables="patients events"))
    assert jobs_of(request) == [
        ("north", "analyse", "pending"),
        ("north", "extract", "pending"),
        ("south", "analyse", "pending"),
        ("south", "extract", "pending"),
    ]
    assert request.needed_tables == ["events", "patients"]
    assert request.requested_backends == "all"


def test_all_without_needed_tables_is_every_active_backend(user, workspace, backends):
    revoke_backend_tokens("south")
    request = create_job_request(user, workspace, spec(actions="a"))
    assert [b for b, _, _ in jobs_of(request)] == ["north", "west"]


def test_chosen_backends(user, workspace, backends):
    request = create_job_request(user, workspace, spec(backends=["west"], actions="a"))
    assert jobs_of(request) == [("west", "a", "pending")]


def test_every_job_creation_is_audited(user, workspace, backends):
    request = create_job_request(user, workspace, spec())
    events = AuditEvent.objects.filter(kind="job.state")
    assert sorted(e.target for e in events) == sorted(f"job:{j.pk}" for j in request.jobs.all())
    assert {(e.data["before"], e.data["after"], e.actor) for e in events} == {
        (None, "pending", "user:rita")
    }
    created = AuditEvent.objects.get(kind="request.created")
    assert created.data["backends"] == ["north", "south", "west"]
    assert created.data["commit"] == COMMIT


@pytest.mark.parametrize(
    ("kw", "field", "says"),
    [
        ({"backends": ["west"], "needed_tables": "events"}, "backends", "does not provide: events"),
        ({"needed_tables": "prescriptions"}, "backends", "no active backend provides"),
        ({"backends": ["nowhere"]}, "backends", "no backend called"),
        ({"actions": ""}, "actions", "at least one"),
        ({"reason": ""}, "reason", "public log"),
        ({"commit": "main"}, "commit", "40-character"),
        ({"needed_tables": "Bad-Name"}, "needed_tables", "not a valid table"),
    ],
)
def test_bad_requests_are_refused_and_change_nothing(user, workspace, backends, kw, field, says):
    before = snapshot()
    with pytest.raises(FieldError, match=says) as caught:
        create_job_request(user, workspace, spec(**kw))
    assert caught.value.field == field
    assert snapshot() == before


def test_a_revoked_backend_cannot_be_chosen(user, workspace, backends):
    revoke_backend_tokens("west")
    before = snapshot()
    with pytest.raises(FieldError, match="no live token"):
        create_job_request(user, workspace, spec(backends=["west"]))
    assert snapshot() == before


def test_an_empty_commit_is_the_branch_head(user, workspace, backends):
    asked = []

    def resolve(url, branch):
        asked.append((url, branch))
        return "f" * 40

    request = create_job_request(user, workspace, spec(commit=""), resolve_commit=resolve)
    assert asked == [("https://example.org/hba1c.git", "main")]
    assert request.commit == "f" * 40


def test_cancel_pending_jobs_at_once_and_held_ones_through_the_agent(user, workspace, backends):
    request = create_job_request(user, workspace, spec(backends=["north"], actions="a b"))
    first = request.jobs.order_by("id").first()
    Job.objects.filter(pk=first.pk).update(state="running", lease_id="L")
    assert cancel_request(user, request) == 2
    assert jobs_of(request) == [("north", "a", "cancelling"), ("north", "b", "cancelled")]
    assert AuditEvent.objects.filter(kind="request.cancelled").count() == 1


def test_only_the_requester_or_staff_can_cancel(user, other_user, workspace, backends):
    request = create_job_request(user, workspace, spec(backends=["north"]))
    before = snapshot()
    with pytest.raises(NotAllowed):
        cancel_request(other_user, request)
    assert snapshot() == before
    other_user.is_staff = True
    assert cancel_request(other_user, request) == 2
