"""A job request as a Five Safes RO-Crate: records from the coordinator's models, the crate
built and bagged by ``fedsafe.provenance``, and crates submitted by clients turned into job
requests after the same checks as any other request.

Released files come from the coordinator's release records (:func:`released_files_for`): the
files of each completed release linked to the request, with their bytes from the store.
"""

from __future__ import annotations

import os
import re
import tempfile
import uuid
from collections.abc import Iterable
from pathlib import Path

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from fedsafe.coordinator import audit
from fedsafe.coordinator.errors import CoordinatorError, FieldError
from fedsafe.coordinator.membership import check_may_submit
from fedsafe.coordinator.models import (
    AuditEvent,
    JobRequest,
    ReleasedFile,
    RequestCrate,
    Workspace,
)
from fedsafe.coordinator.releases import blob_store
from fedsafe.coordinator.requests import RequestSpec, create_job_request
from fedsafe.provenance import vocabulary as v
from fedsafe.provenance.bag import open_bag, pack_bag
from fedsafe.provenance.build import CrateError, build_crate
from fedsafe.provenance.conformance import check, entities
from fedsafe.provenance.records import (
    DisclosureDecision,
    JobRecord,
    PersonRecord,
    ReleasedFileRecord,
    RequestRecord,
)

__all__ = [
    "crate_zip",
    "disclosure_decisions_for",
    "released_files_for",
    "request_record",
    "submit_crate",
]

MAX_CRATE_BYTES = 5 * 1024 * 1024


def organisation() -> str:
    return os.environ.get("FEDSAFE_COORDINATOR_ORGANISATION", "fedsafe coordinator operator")


def released_files_for(job_request: JobRequest) -> list[ReleasedFileRecord]:
    """The files backends released for this request: only completed releases count (an
    airlock's request becomes released only when every file arrived), with their bytes from
    the coordinator's store so the crate carries exactly what was released."""
    store = blob_store()
    files = (
        ReleasedFile.objects.filter(
            release__job_request=job_request, release__completed_at__isnull=False
        )
        .select_related("backend", "workspace")
        .order_by("backend__name", "path", "id")
    )
    return [
        ReleasedFileRecord(
            backend=f.backend.name,
            path=f.path,
            sha256=f.sha256,
            content=store.read(f.sha256) if store.has(f.sha256) else None,
            url=f"/workspaces/{f.workspace.name}/released/{f.pk}/",
        )
        for f in files
    ]


def disclosure_decisions_for(job_request: JobRequest) -> list[DisclosureDecision]:
    """The hook for airlock decisions: none reach the coordinator yet."""
    return []


def _crate_identity(job_request: JobRequest) -> RequestCrate:
    found = RequestCrate.objects.filter(job_request=job_request).first()
    if found is None:
        found, _ = RequestCrate.objects.get_or_create(
            job_request=job_request,
            defaults={"uuid": uuid.uuid4(), "created_at": timezone.now()},
        )
    return found


def request_record(job_request: JobRequest, base_url: str) -> RequestRecord:
    identity = _crate_identity(job_request)
    jobs = list(job_request.jobs.select_related("backend").order_by("id"))
    leased = {
        int(target.removeprefix("job:"))
        for target in AuditEvent.objects.filter(
            kind="job.state", target__in=[f"job:{j.pk}" for j in jobs], data__after="leased"
        ).values_list("target", flat=True)
    }
    user = job_request.created_by
    workspace = job_request.workspace
    choice = job_request.requested_backends
    return RequestRecord(
        request_id=job_request.pk,
        crate_uuid=str(identity.uuid),
        base_url=base_url,
        organisation=organisation(),
        project=workspace.project.name,
        project_id=workspace.project_id,
        workspace=workspace.name,
        repo_url=workspace.repo_url,
        branch=workspace.branch,
        commit=job_request.commit,
        actions=tuple(job_request.actions),
        requested_backends=choice if isinstance(choice, str) else tuple(choice),
        reason=job_request.reason,
        person=PersonRecord(
            username=user.get_username(),
            name=user.get_full_name() or user.get_username(),
            affiliation=organisation(),
        ),
        created_at=job_request.created_at,
        cancelled_at=job_request.cancelled_at,
        jobs=tuple(
            JobRecord(
                backend=j.backend.name,
                action=j.action,
                state=j.state,
                started_at=j.started_at,
                finished_at=j.finished_at,
                exit_code=j.exit_code,
                error=f"{j.error_class}: {j.message}".strip(": "),
                leased=j.pk in leased,
            )
            for j in jobs
        ),
        submitted_graph=tuple((identity.submitted_metadata or {}).get("@graph", [])),
        bag_checked_at=identity.bag_checked_at,
    )


def crate_zip(
    job_request: JobRequest,
    base_url: str,
    *,
    backend: str | None = None,
    released: Iterable[ReleasedFileRecord] | None = None,
    decisions: Iterable[DisclosureDecision] | None = None,
    code_archive: bytes | None = None,
) -> bytes:
    """The request's crate as a BagIt zip (one backend's, or combined)."""
    from fedsafe.coordinator.gitcode import archive_zip

    record = request_record(job_request, base_url)
    if code_archive is None:
        try:
            code_archive = archive_zip(record.repo_url, record.commit)
        except (CoordinatorError, OSError):
            code_archive = None  # the permalink stays; the crate says no archive was made
    with tempfile.TemporaryDirectory() as tmp:
        root = build_crate(
            record,
            Path(tmp) / "bag",
            backend=backend,
            released=released_files_for(job_request) if released is None else released,
            decisions=disclosure_decisions_for(job_request) if decisions is None else decisions,
            code_archive=code_archive,
            now=timezone.now(),
        )
        name = f"fedsafe-request-{record.request_id}" + (f"-{backend}" if backend else "")
        return pack_bag(root, f"urn:uuid:{record.crate_uuid}", name)


_MAIN = re.compile(r"/workspaces/([a-z0-9][a-z0-9_-]{0,49})/\?commit=([0-9a-f]{40})$")


def _values(graph: dict, run: dict, name: str) -> list[str]:
    refs = run.get("object")
    refs = refs if isinstance(refs, list) else [refs] if refs else []
    out = []
    for ref in refs:
        entity = graph.get(ref.get("@id")) if isinstance(ref, dict) else None
        if entity and entity.get("name") == name and isinstance(entity.get("value"), str):
            out.append(entity["value"])
    return out


def submit_crate(user: AbstractBaseUser, data: bytes) -> JobRequest:
    """A submitted Five Safes crate becomes a job request, after: its BagIt checksums, its
    conformance to the profile (as a request), the person it names being the caller, the
    caller's right to the project, and then the same checks as any other request."""
    if len(data) > MAX_CRATE_BYTES:
        raise FieldError("crate", f"a submitted crate must be at most {MAX_CRATE_BYTES} bytes")
    with tempfile.TemporaryDirectory() as tmp:
        try:
            bag = open_bag(data, Path(tmp))
        except CrateError as exc:
            raise FieldError("crate", str(exc)) from None
    problems = [f for f in check(bag.metadata, bag, phase="request") if f.level == "MUST"]
    if problems:
        raise FieldError(
            "crate",
            "does not conform to the Five Safes RO-Crate profile 0.4: "
            + "; ".join(str(p) for p in problems),
        )
    extra = bag.payload - {"ro-crate-metadata.json", "ro-crate-preview.html"}
    if extra:
        raise FieldError(
            "crate",
            "fedsafe runs a workspace's actions: inputs travel in its git repository, not in "
            f"the crate (found {sorted(extra)[:5]})",
        )
    external = bag.info.get("External-Identifier", "")
    try:
        crate_uuid = uuid.UUID(external.removeprefix("urn:uuid:"))
    except ValueError:
        raise FieldError("crate", f"External-Identifier {external!r} is not urn:uuid:") from None
    graph = entities(bag.metadata)
    root = graph["./"]
    main_id = root["mainEntity"]["@id"]
    match = _MAIN.search(main_id)
    if not match:
        raise FieldError(
            "crate",
            f"mainEntity {main_id!r} must be a workspace at a commit: "
            "<coordinator>/workspaces/<name>/?commit=<40 hex digits>",
        )
    workspace = Workspace.objects.filter(name=match.group(1)).select_related("project").first()
    if workspace is None:
        raise FieldError(
            "crate", f"mainEntity names workspace {match.group(1)!r}, which does not exist"
        )
    runs = [e for e in graph.values() if "CreateAction" in str(e.get("@type"))]
    if len(runs) != 1:
        raise FieldError("crate", f"a submitted crate has one CreateAction, found {len(runs)}")
    run = runs[0]
    person = graph.get(run["agent"]["@id"]) if isinstance(run.get("agent"), dict) else None
    who = (person or {}).get("identifier") or (person or {}).get("name")
    if who != user.get_username():
        raise FieldError(
            "crate",
            f"the requesting agent {who!r} is not the token's user {user.get_username()!r}",
        )
    check_may_submit(user, workspace.project)
    actions = _values(graph, run, "action")
    backends = _values(graph, run, "backend") or _values(graph, run, "backends") or ["all"]
    spec = RequestSpec(
        actions=actions,
        backends="all" if backends == ["all"] else [b for x in backends for b in x.split("|")],
        reason=str(root.get("description") or run.get("name") or ""),
        commit=match.group(2),
    )
    if RequestCrate.objects.filter(uuid=crate_uuid).exists():
        raise FieldError(
            "crate", f"a crate with External-Identifier {external} was already submitted"
        )
    with transaction.atomic():
        job_request = create_job_request(user, workspace, spec)
        RequestCrate.objects.create(
            job_request=job_request,
            uuid=crate_uuid,
            submitted_metadata=bag.metadata,
            bag_checked_at=timezone.now(),
            created_at=timezone.now(),
        )
        audit.record(
            f"user:{user.get_username()}",
            "request.crate_submitted",
            f"request:{job_request.pk}",
            external_identifier=external,
            profile=v.PROFILE,
        )
    return job_request
