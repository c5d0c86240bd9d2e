"""The web pages through Django's test client: who may see and do what, and bad form input
shown with the field's name while nothing changes."""

from __future__ import annotations

import pytest

from coordinator.helpers import COMMIT, snapshot
from fedsafe.coordinator.models import AuditEvent, Job, Workspace
from fedsafe.coordinator.requests import RequestSpec, create_job_request

pytestmark = pytest.mark.django_db


def test_the_public_log_needs_no_login_and_shows_every_request(client, user, workspace, backends):
    spec = RequestSpec(actions="a", backends="all", reason="Why not", commit=COMMIT)
    request = create_job_request(user, workspace, spec)
    page = client.get("/jobs/").content.decode()
    for expected in ("Why not", "rita", "hba1c", "north, south, west", COMMIT, "pending"):
        assert expected in page
    detail = client.get(f"/jobs/{request.pk}/").content.decode()
    assert "Cancel request" not in detail


def test_signed_in_pages_need_a_login(client, workspace):
    for url in ("/", "/workspaces/hba1c/"):
        response = client.get(url)
        assert response.status_code == 302 and response.url.startswith("/login/")
    assert client.post("/jobs/1/cancel/").status_code == 302


@pytest.mark.parametrize(
    ("form", "says"),
    [
        ({"name": "ws", "repo_url": "ext::sh", "branch": "main"}, "repo_url: "),
        ({"name": "ws", "repo_url": "https://x.org/r.git", "branch": "a b"}, "branch: "),
        ({"name": "Bad Name", "repo_url": "https://x.org/r.git", "branch": "m"}, "name: "),
        ({"name": "hba1c", "repo_url": "https://x.org/r.git", "branch": "m"}, "already exists"),
    ],
)
def test_bad_workspace_forms_are_refused_naming_the_field(client, user, workspace, form, says):
    client.force_login(user)
    count = Workspace.objects.count()
    before = snapshot()
    form = {"form": "workspace", "project": workspace.project.pk, **form}
    response = client.post("/", form)
    assert response.status_code == 400
    assert says in response.content.decode()
    assert Workspace.objects.count() == count and snapshot() == before


def test_a_bad_request_form_changes_nothing(client, user, workspace, backends):
    client.force_login(user)
    before = snapshot()
    response = client.post(
        "/workspaces/hba1c/",
        {"form": "request", "actions": "a", "backend": ["all"], "reason": "x", "commit": COMMIT},
    )
    assert response.status_code == 400
    assert "reason: say why" in response.content.decode()
    assert snapshot() == before


def test_a_request_and_a_schedule_from_the_workspace_page(client, user, workspace, backends):
    client.force_login(user)
    form = {"actions": "a b", "backend": ["north"], "reason": "weekly", "commit": COMMIT}
    response = client.post("/workspaces/hba1c/", {**form, "form": "request"})
    assert response.status_code == 302
    assert sorted(Job.objects.values_list("backend__name", "action")) == [
        ("north", "a"),
        ("north", "b"),
    ]
    response = client.post("/workspaces/hba1c/", {**form, "form": "schedule", "cron": "0 3 * * 1"})
    assert response.status_code == 302
    assert "0 3 * * 1" in client.get("/workspaces/hba1c/").content.decode()


def test_only_the_requester_can_cancel_from_the_page(client, user, other_user, workspace, backends):
    request = create_job_request(
        user, workspace, RequestSpec(actions="a", backends="all", reason="first run", commit=COMMIT)
    )
    client.force_login(other_user)
    assert client.post(f"/jobs/{request.pk}/cancel/").status_code == 403
    assert set(Job.objects.values_list("state", flat=True)) == {"pending"}
    client.force_login(user)
    assert client.post(f"/jobs/{request.pk}/cancel/").status_code == 302
    assert set(Job.objects.values_list("state", flat=True)) == {"cancelled"}
    assert (
        AuditEvent.objects.filter(
            kind="job.state", actor="user:rita", data__after="cancelled"
        ).count()
        == 3
    )
