"""Releasing to the real coordinator (``fedsafe coordinator serve`` in a subprocess) over the
release contract; a stand-in receiver only where a failure has to be injected (answers of 503,
a dropped connection)."""

from __future__ import annotations

import hashlib

import pytest

from airlock.backend_fixture import make_backend
from airlock.flows import events, last_refusal, reviewed
from airlock.upload_server import receiver
from coordinator.live_releases import release_coordinator
from fedsafe.airlock.config import load_config
from fedsafe.airlock.errors import PolicyRefused
from fedsafe.airlock.service import SYSTEM, Airlock
from fedsafe.airlock.states import Status
from fedsafe.airlock.upload import Uploader, UploadError

FILES = ["output/table.csv", "output/notes.txt"]


def _approved(tmp_path, url, token="backend-secret-token", **uploader):
    backend = make_backend(tmp_path / "backend", coordinator=url, token=token)
    config = load_config(backend)
    airlock = Airlock(config, Uploader(url, config.coordinator_token, **uploader))
    request_id = reviewed(airlock, FILES)
    airlock.approve("carl", request_id)
    return backend, airlock, request_id


@pytest.fixture
def coordinator(tmp_path):
    with release_coordinator(tmp_path / "coordinator") as world:
        yield world


def test_approved_files_arrive_on_the_coordinator_and_the_request_becomes_released(
    tmp_path, coordinator
):
    token = coordinator.tokens["test-backend"]
    backend, airlock, request_id = _approved(tmp_path, coordinator.url, token, first_pause=0)
    assert airlock.release("carl", request_id) is Status.RELEASED
    study = backend / "workspaces/study"
    expected = sorted(
        (
            "test-backend",
            request_id,
            "study",
            path,
            hashlib.sha256((study / path).read_bytes()).hexdigest(),
        )
        for path in FILES
    )
    assert coordinator.released() == expected
    for row in expected:
        assert coordinator.blob(row[4]) == (study / row[3]).read_bytes()
    assert coordinator.completed() == [(request_id, coordinator.job_request_id)]
    assert airlock.view_request("rita", request_id).status is Status.RELEASED
    assert [e["path"] for e in events(airlock, "uploaded")] == sorted(FILES)
    assert len(events(airlock, "release confirmed")) == 1
    # Releasing again changes nothing on either side.
    with pytest.raises(PolicyRefused, match="released, not approved"):
        airlock.release("carl", request_id)
    assert coordinator.released() == expected


def test_uploads_retry_until_they_arrive(tmp_path):
    with receiver(fail_first=3) as server:
        _, airlock, request_id = _approved(tmp_path, server.url, attempts=5, first_pause=0.01)
        assert airlock.release("carl", request_id) is Status.RELEASED
        assert len(server.stored) == 2 and server.completed == {request_id}
    assert '"attempts": 4' in events(airlock, "uploaded")[0]["details"]


def test_a_dropped_connection_is_retried(tmp_path):
    with receiver(fail_first=2, drop=True) as server:
        _, airlock, request_id = _approved(tmp_path, server.url, attempts=5, first_pause=0.01)
        assert airlock.release("carl", request_id) is Status.RELEASED
        assert len(server.stored) == 2
    assert '"attempts": 3' in events(airlock, "uploaded")[0]["details"]


def test_a_request_stays_approved_until_every_file_arrived_and_a_retry_finishes_it(tmp_path):
    with receiver(fail_first=4) as server:
        _, airlock, request_id = _approved(tmp_path, server.url, attempts=2, first_pause=0.01)
        with pytest.raises(UploadError, match="after 2 attempts"):
            airlock.release("carl", request_id)
        assert airlock.view_request("rita", request_id).status is Status.APPROVED
        with pytest.raises(UploadError):
            airlock.release("carl", request_id)
        assert airlock.release(SYSTEM, request_id) is Status.RELEASED  # fail_first used up
        assert len(server.stored) == 2


def test_a_lost_completion_leaves_the_request_approved_until_it_is_confirmed(tmp_path):
    with receiver(fail_completions=2) as server:
        _, airlock, request_id = _approved(tmp_path, server.url, attempts=2, first_pause=0.01)
        with pytest.raises(UploadError, match="completion of release request"):
            airlock.release("carl", request_id)
        assert airlock.view_request("rita", request_id).status is Status.APPROVED
        assert len(server.stored) == 2 and server.completed == set()
        assert airlock.release("carl", request_id) is Status.RELEASED
        assert server.completed == {request_id}
    assert len(events(airlock, "uploaded")) == 2  # the files were not sent twice


def test_a_file_changed_after_approval_is_never_uploaded(tmp_path, coordinator):
    token = coordinator.tokens["test-backend"]
    backend, airlock, request_id = _approved(tmp_path, coordinator.url, token, first_pause=0)
    (backend / "workspaces/study/output/table.csv").write_text("group,count\na,5\n")
    with pytest.raises(PolicyRefused, match="changed since it was approved"):
        airlock.release("carl", request_id)
    assert "output/table.csv" not in [row[3] for row in coordinator.released()]
    assert coordinator.completed() == []
    assert "changed since it was approved" in last_refusal(airlock)["details"]
    assert airlock.view_request("rita", request_id).status is Status.APPROVED


def test_an_upload_whose_hash_differs_is_refused_by_the_coordinator_and_not_retried(
    coordinator,
):
    uploader = Uploader(coordinator.url, coordinator.tokens["test-backend"], first_pause=0)
    with pytest.raises(UploadError, match="sha256 of the body"):
        uploader.upload(
            request_id="r-1", workspace="study", path="output/a.csv", data=b"x", sha256="0" * 64
        )
    assert coordinator.released() == []


def test_a_wrong_token_is_permanent(coordinator):
    uploader = Uploader(coordinator.url, "stolen", attempts=5, first_pause=0)
    with pytest.raises(UploadError, match="HTTP 401"):
        uploader.upload(
            request_id="r-1",
            workspace="study",
            path="output/a.csv",
            data=b"x",
            sha256=hashlib.sha256(b"x").hexdigest(),
        )
    assert coordinator.released() == []


def test_a_workspace_unknown_to_the_coordinator_is_refused_and_the_request_stays_approved(
    tmp_path,
):
    with release_coordinator(tmp_path / "coordinator", workspace="elsewhere") as world:
        token = world.tokens["test-backend"]
        _, airlock, request_id = _approved(tmp_path, world.url, token, first_pause=0)
        with pytest.raises(UploadError, match="no workspace named 'study'"):
            airlock.release("carl", request_id)
        assert world.released() == []
    assert airlock.view_request("rita", request_id).status is Status.APPROVED
    assert "no workspace named 'study'" in last_refusal(airlock)["details"]


def test_release_without_a_coordinator_configured_is_refused(airlock):
    request_id = reviewed(airlock)
    airlock.approve("carl", request_id)
    with pytest.raises(PolicyRefused, match="coordinator_url"):
        airlock.release("carl", request_id)
    assert airlock.view_request("rita", request_id).status is Status.APPROVED
