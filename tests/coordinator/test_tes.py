"""TES in-process: the state table, and outputs listing released files (through the
coordinator's released-files hook, given records made here)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import timezone

from coordinator.helpers import COMMIT
from fedsafe.coordinator import tes
from fedsafe.coordinator.models import Job
from fedsafe.coordinator.requests import RequestSpec, create_job_request
from fedsafe.coordinator.user_tokens import issue_user_token
from fedsafe.provenance.records import ReleasedFileRecord

pytestmark = pytest.mark.django_db


@pytest.fixture
def request_of(user, workspace, backends):
    return create_job_request(
        user,
        workspace,
        RequestSpec(actions="a b", backends=["north", "south"], reason="why", commit=COMMIT),
    )


def set_states(request, *states, cancelled=False):
    for job, state in zip(request.jobs.order_by("id"), states, strict=True):
        Job.objects.filter(pk=job.pk).update(state=state)
    if cancelled:
        type(request).objects.filter(pk=request.pk).update(cancelled_at=timezone.now())
    return type(request).objects.get(pk=request.pk)


@pytest.mark.parametrize(
    "states, cancelled, expected",
    [
        (("pending",) * 4, False, "QUEUED"),
        (("leased", "pending", "pending", "pending"), False, "INITIALIZING"),
        (("running", "leased", "pending", "pending"), False, "RUNNING"),
        (("succeeded", "pending", "pending", "pending"), False, "RUNNING"),
        (("cancelling", "cancelled", "cancelled", "cancelled"), True, "CANCELING"),
        (("succeeded",) * 4, False, "COMPLETE"),
        (("succeeded", "failed", "succeeded", "succeeded"), False, "EXECUTOR_ERROR"),
        (("cancelled", "cancelled", "succeeded", "cancelled"), True, "CANCELED"),
    ],
)
def test_states_map_to_the_tes_enum(request_of, states, cancelled, expected):
    assert tes.task_state(set_states(request_of, *states, cancelled=cancelled)) == expected


def test_outputs_are_the_released_files_only(request_of, user, monkeypatch):
    token = issue_user_token(user.username)
    released = [ReleasedFileRecord("north", "output/table.csv", "ab" * 32, b"x")]
    monkeypatch.setattr(tes, "released_files_for", lambda r: released if r == request_of else [])
    answer = Client().get(
        f"/ga4gh/tes/v1/tasks/{request_of.pk}",
        {"view": "BASIC"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert answer.status_code == 200
    [output] = answer.json()["outputs"]
    assert output["path"] == "/north/output/table.csv"
    assert "ab" * 32 in output["description"]
    assert output["url"].endswith(f"/jobs/{request_of.pk}/crate.zip")


def test_a_revoked_token_is_refused(request_of, user):
    from fedsafe.coordinator.models import UserApiToken

    token = issue_user_token(user.username)
    UserApiToken.objects.update(revoked_at=timezone.now())
    answer = Client().get("/ga4gh/tes/v1/tasks", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 401
