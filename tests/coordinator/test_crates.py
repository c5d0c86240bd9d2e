"""Crates of coordinator requests (with released files through the hook), and crates
submitted as requests: the same checks as any request, the returned crate extending the
submitted one, and every bad crate refused with nothing queued."""

from __future__ import annotations

import hashlib
import io
import zipfile
from datetime import timedelta

import pytest
from django.utils import timezone

from coordinator.helpers import snapshot
from coordinator.live import bare_repo
from fedsafe.coordinator.crates import crate_zip, submit_crate
from fedsafe.coordinator.errors import FieldError, NotAllowed
from fedsafe.coordinator.models import Job, ProjectMember, RequestCrate
from fedsafe.coordinator.requests import RequestSpec, create_job_request
from fedsafe.coordinator.setup_records import create_project, create_workspace
from fedsafe.provenance import vocabulary as v
from fedsafe.provenance.bag import open_bag
from fedsafe.provenance.conformance import check, entities
from fedsafe.provenance.records import DisclosureDecision, ReleasedFileRecord
from fedsafe.provenance.validator import prime_context_cache, validate_crate
from provenance import crates as client

pytestmark = pytest.mark.django_db


@pytest.fixture
def study(user, backends, tmp_path):
    url, head = bare_repo(tmp_path)
    ws = create_workspace(user, create_project(user, "diabetes"), "hba1c", url, "main")
    return ws, head


def finish(request, state="succeeded"):
    now = timezone.now()
    Job.objects.filter(job_request=request).update(
        state=state, started_at=now - timedelta(minutes=5), finished_at=now, lease_id="x"
    )


def opened(data, tmp_path, name="o"):
    return open_bag(data, tmp_path / name)


def test_request_crate_lists_hooked_released_files_validates_and_keeps_its_uuid(
    user, study, tmp_path
):
    ws, head = study
    request = create_job_request(
        user,
        ws,
        RequestSpec(actions="generate", backends=["north", "south"], reason="trends", commit=head),
    )
    finish(request)
    table = b"region,n\nnorth,120\n"
    released = [
        ReleasedFileRecord("north", "output/table.csv", hashlib.sha256(table).hexdigest(), table),
        ReleasedFileRecord("south", "output/secret.csv", "0" * 64, b"isle,2\n"),
    ]
    decisions = [
        DisclosureDecision("north", "output/table.csv", True, timezone.now(), "ann"),
        DisclosureDecision("south", "output/secret.csv", False, timezone.now(), "bo"),
    ]
    data = crate_zip(request, "http://testserver/", released=released, decisions=decisions)
    bag = opened(data, tmp_path)
    assert check(bag.metadata, bag) == []
    g = entities(bag.metadata)
    assert g["outputs/north/output/table.csv"]["sha256"] == hashlib.sha256(table).hexdigest()
    assert b"secret" not in b"".join(
        zipfile.ZipFile(io.BytesIO(data)).read(n)
        for n in zipfile.ZipFile(io.BytesIO(data)).namelist()
    )
    archive = next(p for p in bag.payload if p.startswith("code/"))
    assert archive == f"code/hba1c-{head}.zip"  # git archive of the study at the commit
    root = tmp_path / "o" / f"fedsafe-request-{request.pk}" / "data"
    cache = tmp_path / "cache"
    prime_context_cache(cache)
    assert validate_crate(root, cache) == []
    uid = str(RequestCrate.objects.get(job_request=request).uuid)
    assert bag.info["External-Identifier"] == f"urn:uuid:{uid}"
    again = opened(crate_zip(request, "http://testserver/", backend="south"), tmp_path, "again")
    assert again.info["External-Identifier"] == f"urn:uuid:{uid}"
    runs = [e for e in entities(again.metadata).values() if e.get("@type") == "CreateAction"]
    assert len(runs) == 1 and "south" in runs[0]["name"]


def test_a_submitted_crate_becomes_a_request_and_comes_back_extended(user, study, tmp_path):
    _, head = study
    data = client.request_crate(tmp_path, "hba1c", head)
    request = submit_crate(user, data)
    assert request.actions == ["generate"] and request.commit == head
    assert sorted(j.backend.name for j in request.jobs.all()) == ["north", "south"]
    assert request.reason == "HbA1c trends, submitted as a Five Safes crate"
    finish(request)
    back = opened(crate_zip(request, "http://testserver/"), tmp_path)
    assert back.info["External-Identifier"] == "urn:uuid:1d6bd3d8-4a4a-4c56-9f49-3f3f8d3f0d41"
    g = entities(back.metadata)
    assert "#self-approval" not in g  # a client's own AssessAction is dropped
    assert g["https://gtr.ukri.org/projects?ref=10038961"]["@type"] == "Grant"  # kept
    assert g["./"]["name"] == "HbA1c request from the submission layer"
    kinds = {e["additionalType"]["@id"] for e in g.values() if e.get("@type") == "AssessAction"}
    assert v.SHP + "CheckValue" in kinds and v.SHP + "ValidationCheck" in kinds
    check_value = next(
        e for e in g.values() if e.get("additionalType") == {"@id": v.SHP + "CheckValue"}
    )
    assert "BagIt sha-512" in check_value["name"]
    assert check(back.metadata, back) == []


def _tampered(data: bytes) -> bytes:
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as dst:
        for name in src.namelist():
            body = src.read(name)
            if name.endswith("ro-crate-metadata.json"):
                body = body.replace(b'"generate"', b'"exfiltrate"')
            dst.writestr(name, body)
    return out.getvalue()


@pytest.mark.parametrize(
    "kind, message",
    [
        ("tampered", "checksums do not match"),
        ("no-run", "run.present"),
        ("wrong-status", "run.status"),
        ("not-potential", "run.potential"),
        ("someone-else", "is not the token's user 'rita'"),
        ("unknown-action", "no backend called"),
        ("payload", "inputs travel in its git repository"),
        ("unknown-workspace", "which does not exist"),
    ],
)
def test_bad_crates_are_refused_and_queue_nothing(kind, message, user, study, tmp_path):
    _, head = study
    kw = {
        "no-run": {"with_run": False},
        "wrong-status": {"status": "http://schema.org/CompletetedActionStatus"},
        "not-potential": {"status": v.COMPLETED},
        "someone-else": {"username": "sam"},
        "unknown-action": {"backends": "north|east"},
        "payload": {"extra_payload": True},
    }.get(kind, {})
    data = client.request_crate(
        tmp_path, "nowhere" if kind == "unknown-workspace" else "hba1c", head, **kw
    )
    if kind == "tampered":
        data = _tampered(data)
    before = snapshot(), RequestCrate.objects.count()
    with pytest.raises(FieldError, match=message):
        submit_crate(user, data)
    assert (snapshot(), RequestCrate.objects.count()) == before


def test_no_permission_for_the_project(user, other_user, study, tmp_path):
    ws, head = study
    data = client.request_crate(tmp_path, "hba1c", head, username="sam")
    before = snapshot()
    with pytest.raises(NotAllowed, match="sam has no permission"):
        submit_crate(other_user, data)
    assert snapshot() == before
    ProjectMember.objects.create(project=ws.project, user=other_user, added_at=timezone.now())
    assert submit_crate(other_user, data).created_by == other_user


def test_the_same_crate_cannot_be_submitted_twice(user, study, tmp_path):
    _, head = study
    data = client.request_crate(tmp_path, "hba1c", head)
    submit_crate(user, data)
    with pytest.raises(FieldError, match="already submitted"):
        submit_crate(user, data)
