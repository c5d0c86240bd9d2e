"""Releasing to a real HTTP receiver that follows the release contract."""

from __future__ import annotations

import pytest

from airlock.backend_fixture import make_backend
from airlock.flows import events, last_refusal, reviewed
from airlock.upload_server import receiver
from fedsafe.airlock.config import load_config
from fedsafe.airlock.errors import PolicyRefused
from fedsafe.airlock.service import SYSTEM, Airlock
from fedsafe.airlock.states import Status
from fedsafe.airlock.upload import Uploader, UploadError

FILES = ["output/table.csv", "output/notes.txt"]


def _approved(tmp_path, url, **uploader):
    backend = make_backend(tmp_path / "backend", coordinator=url)
    config = load_config(backend)
    airlock = Airlock(config, Uploader(url, config.coordinator_token, **uploader))
    request_id = reviewed(airlock, FILES)
    airlock.approve("carl", request_id)
    return backend, airlock, request_id


def test_approved_files_arrive_and_the_request_becomes_released(tmp_path):
    with receiver() as server:
        backend, airlock, request_id = _approved(tmp_path, server.url, first_pause=0)
        assert airlock.release("carl", request_id) is Status.RELEASED
        study = backend / "workspaces/study"
        assert server.stored == {
            (request_id, "study", path): (study / path).read_bytes() for path in FILES
        }
    assert airlock.view_request("rita", request_id).status is Status.RELEASED
    assert [e["path"] for e in events(airlock, "uploaded")] == sorted(FILES)


def test_uploads_retry_until_they_arrive(tmp_path):
    with receiver(fail_first=3) as server:
        _, airlock, request_id = _approved(tmp_path, server.url, attempts=5, first_pause=0.01)
        assert airlock.release("carl", request_id) is Status.RELEASED
        assert len(server.stored) == 2
    assert '"attempts": 4' in events(airlock, "uploaded")[0]["details"]


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


def test_a_file_changed_after_approval_is_never_uploaded(tmp_path):
    with receiver() as server:
        backend, airlock, request_id = _approved(tmp_path, server.url, first_pause=0)
        (backend / "workspaces/study/output/table.csv").write_text("group,count\na,5\n")
        with pytest.raises(PolicyRefused, match="changed since it was approved"):
            airlock.release("carl", request_id)
        assert "output/table.csv" not in [k[2] for k in server.stored]
    assert "changed since it was approved" in last_refusal(airlock)["details"]
    assert airlock.view_request("rita", request_id).status is Status.APPROVED


def test_an_upload_whose_hash_differs_is_refused_by_the_receiver_and_not_retried(tmp_path):
    with receiver() as server:
        uploader = Uploader(server.url, "backend-secret-token", attempts=5, first_pause=0)
        with pytest.raises(UploadError, match="sha256 does not match"):
            uploader.upload(
                request_id="r-1", workspace="study", path="output/a.csv", data=b"x", sha256="0" * 64
            )
        assert server.requests == 1 and server.stored == {}


def test_a_wrong_token_is_permanent(tmp_path):
    with receiver() as server:
        uploader = Uploader(server.url, "stolen", attempts=5, first_pause=0)
        with pytest.raises(UploadError, match="bad token"):
            uploader.upload(request_id="r-1", workspace="s", path="p.csv", data=b"x", sha256="0")
        assert server.requests == 1


def test_release_without_a_coordinator_configured_is_refused(airlock):
    request_id = reviewed(airlock)
    airlock.approve("carl", request_id)
    with pytest.raises(PolicyRefused, match="coordinator_url"):
        airlock.release("carl", request_id)
    assert airlock.view_request("rita", request_id).status is Status.APPROVED
