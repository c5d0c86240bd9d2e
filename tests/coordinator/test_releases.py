"""The release receiver (``POST /api/v1/releases/files`` and ``.../complete``) through Django's
HTTP stack, including the attacks a stolen token or a broken airlock might try: each is
refused with the contract's status, stores nothing and is audited."""

from __future__ import annotations

import pytest
from django.test import Client

from coordinator.release_world import (
    NO_COMBINE,
    Airlock,
    make_workspace,
    run_request,
    sha,
    study_repo,
)
from fedsafe.coordinator.models import AuditEvent
from fedsafe.coordinator.release_models import Release, ReleasedFile
from fedsafe.coordinator.releases import blob_store
from fedsafe.coordinator.setup_records import add_backend, revoke_backend_tokens

pytestmark = pytest.mark.django_db

TABLE = b"group,count\na,100\nb,250\n"


@pytest.fixture
def world(user, tmp_path):
    repo_url, commit = study_repo(tmp_path / "repo", NO_COMBINE)
    tokens = {name: add_backend(name, "patients").token for name in ("north", "south", "east")}
    study = make_workspace(user, "study", repo_url)
    make_workspace(user, "other", repo_url)
    job_request = run_request(user, study, ["north", "south"], commit)
    airlocks = {name: Airlock(Client(), token) for name, token in tokens.items()}
    return airlocks, study, job_request


def refusals() -> list[dict]:
    return [e.data for e in AuditEvent.objects.filter(kind="release.refused")]


def nothing_stored() -> bool:
    return not ReleasedFile.objects.exists() and blob_store().stored() == []


def test_a_file_is_stored_by_its_hash_and_a_repeat_is_harmless(world):
    airlocks, study, _ = world
    first = airlocks["north"].upload("r-1", "study", "output/table.csv", TABLE)
    assert first.status_code == 201, first.content
    assert first.json() == {
        "backend": "north",
        "request_id": "r-1",
        "workspace": "study",
        "path": "output/table.csv",
        "sha256": sha(TABLE),
        "size": len(TABLE),
    }
    again = airlocks["north"].upload("r-1", "study", "output/table.csv", TABLE)
    assert again.status_code == 200
    stored = ReleasedFile.objects.get()
    assert (stored.workspace, stored.backend.name, stored.request_id) == (study, "north", "r-1")
    assert blob_store().stored() == [sha(TABLE)]
    assert blob_store().read(sha(TABLE)) == TABLE
    assert AuditEvent.objects.filter(kind="release.file_stored").count() == 1


def test_the_same_path_with_other_bytes_is_a_conflict(world):
    airlocks, _, _ = world
    airlocks["north"].upload("r-1", "study", "output/table.csv", TABLE)
    answer = airlocks["north"].upload("r-1", "study", "output/table.csv", b"group,count\na,5\n")
    assert answer.status_code == 409
    assert "different file cannot replace it" in answer.json()["detail"]
    assert ReleasedFile.objects.get().sha256 == sha(TABLE)
    assert blob_store().stored() == [sha(TABLE)]
    assert refusals()[-1]["status"] == 409


def test_completion_needs_exactly_the_files_that_arrived(world):
    airlocks, _, job_request = world
    north = airlocks["north"]
    north.upload("r-1", "study", "output/table.csv", TABLE)
    missing = north.complete(
        "r-1", "study", {"output/table.csv": TABLE, "output/notes.txt": b"notes\n"}
    )
    assert missing.status_code == 409
    assert "not received: output/notes.txt" in missing.json()["detail"]
    other_hash = north.complete("r-1", "study", {"output/table.csv": b"other"})
    assert other_hash.status_code == 409
    assert "another sha256" in other_hash.json()["detail"]
    assert Release.objects.get().completed_at is None

    done = north.complete("r-1", "study", {"output/table.csv": TABLE})
    assert done.status_code == 201, done.content
    assert done.json()["job_request_id"] == job_request.pk  # inferred: its jobs succeeded
    assert north.complete("r-1", "study", {"output/table.csv": TABLE}).status_code == 200
    release = Release.objects.get()
    assert release.completed_at is not None and release.job_request_inferred
    # A complete release takes no more files.
    late = north.upload("r-1", "study", "output/late.csv", TABLE)
    assert late.status_code == 409 and "is complete" in late.json()["detail"]
    assert AuditEvent.objects.filter(kind="release.completed").count() == 1


def test_completing_a_release_that_never_started_is_refused(world):
    airlocks, _, _ = world
    answer = airlocks["north"].complete("r-9", "study", {"output/table.csv": TABLE})
    assert answer.status_code == 409
    assert not Release.objects.exists()


def test_the_job_request_may_be_named_but_must_be_this_backends(world, user):
    airlocks, _study, job_request = world
    north = airlocks["north"]
    north.upload("r-1", "study", "output/table.csv", TABLE)
    answer = north.complete("r-1", "study", {"output/table.csv": TABLE}, job_request_id=99999)
    assert answer.status_code == 400
    answer = north.complete(
        "r-1", "study", {"output/table.csv": TABLE}, job_request_id=job_request.pk
    )
    assert answer.status_code == 201
    assert not Release.objects.get().job_request_inferred


# -- attacks -----------------------------------------------------------------------------------


def test_a_body_whose_hash_differs_is_refused_and_nothing_is_kept(world):
    airlocks, _, _ = world
    answer = airlocks["north"].upload(
        "r-1", "study", "output/table.csv", TABLE, digest=sha(b"what was approved")
    )
    assert answer.status_code == 400
    assert "sha256 of the body" in answer.json()["detail"]
    assert nothing_stored()
    assert not list((blob_store().root / "incoming").iterdir())
    assert refusals()[-1]["path"] == "output/table.csv"


def test_the_backend_is_the_tokens_never_a_header(world):
    airlocks, _, _ = world
    # east holds a token but has run nothing in this workspace; it claims to be north.
    claim = {"X-Fedsafe-Backend": "north", "X-Forwarded-User": "north"}
    answer = airlocks["east"].upload("r-1", "study", "output/table.csv", TABLE, **claim)
    assert answer.status_code == 403
    assert "east has run no jobs" in answer.json()["detail"]
    assert nothing_stored()
    event = AuditEvent.objects.filter(kind="release.refused").last()
    assert event.actor == "backend:east"
    # south may release into study, but what it sends is south's, whatever it claims.
    answer = airlocks["south"].upload("r-1", "study", "output/table.csv", TABLE, **claim)
    assert answer.status_code == 201 and answer.json()["backend"] == "south"
    assert ReleasedFile.objects.get().backend.name == "south"


def test_one_backend_cannot_complete_or_add_to_anothers_release(world):
    airlocks, _, _ = world
    airlocks["north"].upload("r-1", "study", "output/table.csv", TABLE)
    # The same request id from south is south's own release, not north's.
    answer = airlocks["south"].complete("r-1", "study", {"output/table.csv": TABLE})
    assert answer.status_code == 409
    assert Release.objects.get().completed_at is None
    assert Release.objects.get().backend.name == "north"


def test_an_unknown_workspace_is_refused(world):
    airlocks, _, _ = world
    answer = airlocks["north"].upload("r-1", "nowhere", "output/table.csv", TABLE)
    assert answer.status_code == 400
    assert "no workspace named 'nowhere'" in answer.json()["detail"]
    assert nothing_stored()
    assert refusals()[-1]["workspace"] == "nowhere"


def test_a_workspace_the_backend_never_ran_in_is_refused(world):
    airlocks, _, _ = world
    answer = airlocks["north"].upload("r-1", "other", "output/table.csv", TABLE)
    assert answer.status_code == 403
    assert nothing_stored()


@pytest.mark.parametrize(
    "path",
    [
        "../outside.csv",
        "output/../../etc/passwd.csv",
        "/etc/passwd.csv",
        "output\\table.csv",
        "output//table.csv",
        "./output/table.csv",
        "output/.hidden.csv",
        "output/table.csv\x00.png",
        "",
    ],
)
def test_path_tricks_are_refused(world, path):
    airlocks, _, _ = world
    answer = airlocks["north"].upload("r-1", "study", path, TABLE)
    assert answer.status_code == 400, answer.content
    assert answer.json()["detail"].startswith("path:")
    assert nothing_stored()
    assert refusals()[-1]["status"] == 400


@pytest.mark.parametrize("path", ["output/model.pkl", "output/run.sh", "output/table", "x.exe"])
def test_disallowed_file_types_are_refused(world, path):
    airlocks, _, _ = world
    answer = airlocks["north"].upload("r-1", "study", path, TABLE)
    assert answer.status_code == 400
    assert "is not accepted" in answer.json()["detail"]
    assert nothing_stored()


def test_an_oversized_file_is_refused_before_it_is_read(world, settings):
    airlocks, _, _ = world
    settings.RELEASE_MAX_BYTES = 1000
    answer = airlocks["north"].upload("r-1", "study", "output/big.csv", b"x" * 1001)
    assert answer.status_code == 413
    assert "over the limit of 1000" in answer.json()["detail"]
    assert nothing_stored()
    assert refusals()[-1]["status"] == 413
    assert airlocks["north"].upload("r-1", "study", "output/ok.csv", b"x" * 1000).status_code == 201


def test_a_revoked_token_is_refused_and_audited(world):
    airlocks, _, _ = world
    revoke_backend_tokens("north")
    answer = airlocks["north"].upload("r-1", "study", "output/table.csv", TABLE)
    assert answer.status_code == 401
    assert nothing_stored()
    event = AuditEvent.objects.filter(kind="api.refused").last()
    assert event.actor == "backend:north" and "revoked token" in event.data["reason"]
    complete = airlocks["north"].complete("r-1", "study", {"output/table.csv": TABLE})
    assert complete.status_code == 401


def test_no_token_or_an_unknown_one_is_refused(world):
    _airlocks, _, _ = world
    stranger = Airlock(Client(), "fsb_not-a-real-token")
    assert stranger.upload("r-1", "study", "output/table.csv", TABLE).status_code == 401
    bare = Client().post(
        "/api/v1/releases/files", data=TABLE, content_type="application/octet-stream"
    )
    assert bare.status_code == 401
    assert nothing_stored()
    assert AuditEvent.objects.filter(kind="api.refused", actor="anonymous").exists()


@pytest.mark.parametrize(
    ("request_id", "digest"), [("../r-1", None), ("r 1", None), ("r-1", "not-a-hash")]
)
def test_malformed_headers_are_refused(world, request_id, digest):
    airlocks, _, _ = world
    answer = airlocks["north"].upload(request_id, "study", "output/table.csv", TABLE, digest)
    assert answer.status_code == 400
    assert nothing_stored()


def test_a_malformed_completion_is_a_permanent_400(world):
    airlocks, _, _ = world
    answer = airlocks["north"].client.post(
        "/api/v1/releases/r-1/complete",
        data={"workspace": "study", "files": "everything"},
        content_type="application/json",
        headers={"Authorization": f"Bearer {airlocks['north'].token}"},
    )
    assert answer.status_code == 400


def test_the_release_api_describes_itself(client):
    document = client.get("/api/v1/releases/openapi.json").json()
    assert set(document["paths"]) == {
        "/api/v1/releases/files",
        "/api/v1/releases/{request_id}/complete",
    }
    upload = document["paths"]["/api/v1/releases/files"]["post"]
    assert "application/octet-stream" in upload["requestBody"]["content"]
    assert {"201", "200", "400", "401", "403", "409", "413"} <= set(upload["responses"])


def test_a_requests_crate_lists_only_completed_releases_with_their_bytes(world):
    from fedsafe.coordinator.crates import released_files_for

    airlocks, _, job_request = world
    airlocks["north"].upload("r-1", "study", "output/table.csv", TABLE)
    airlocks["south"].upload("r-2", "study", "output/table.csv", b"group,count\na,15\n")
    airlocks["north"].complete("r-1", "study", {"output/table.csv": TABLE})
    # south's release never completed: its file is not released yet, so not in the crate
    records = released_files_for(job_request)
    assert [(r.backend, r.path, r.sha256, r.content) for r in records] == [
        ("north", "output/table.csv", sha(TABLE), TABLE)
    ]
    assert records[0].url.startswith("/workspaces/study/released/")
