"""Receiving released files from backends' airlocks, per ``fedsafe.release_contract``.

Every rule is checked here, before a byte is kept: the backend is the one its token belongs to
(never a header), the workspace exists and this backend has been asked to run jobs in it, the
path is a plain relative path with an allowed file type, the size is within the limit and the
bytes hash to what the airlock recorded at approval. A refusal is audited and raised as a
``ReleaseRefused`` carrying the HTTP status the contract gives it; nothing is stored.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import PurePosixPath

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from fedsafe.coordinator import audit
from fedsafe.coordinator.blobs import BlobStore, TooLarge
from fedsafe.coordinator.errors import CoordinatorError
from fedsafe.coordinator.models import Backend, Job, JobRequest, Workspace
from fedsafe.coordinator.release_models import Release, ReleasedFile

__all__ = [
    "FileClaim",
    "ReleaseRefused",
    "Stored",
    "blob_store",
    "check_release_path",
    "complete_release",
    "receive_file",
]

_REQUEST_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_WORKSPACE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,49}$")
MAX_PATH = 500
MAX_FILES = 500  # a completion body stays under Django's 64 kB request limit


class ReleaseRefused(CoordinatorError):
    """A release upload or completion the coordinator will not accept, with its HTTP status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Stored:
    """The answer to one upload: 201 newly stored, 200 already stored with this hash."""

    status: int
    file: ReleasedFile


@dataclass(frozen=True)
class FileClaim:
    """One (path, sha256) the airlock says belongs to a release request."""

    path: str
    sha256: str


def blob_store() -> BlobStore:
    return BlobStore(settings.DATA_DIR)


def check_release_path(path: str) -> str:
    """A plain relative path with an allowed suffix, or ReleaseRefused(400) saying why."""
    if not path or len(path) > MAX_PATH:
        raise ReleaseRefused(400, f"path: give a relative path of 1 to {MAX_PATH} characters")
    if "\\" in path or any(ord(c) < 32 or ord(c) == 127 for c in path):
        raise ReleaseRefused(400, f"path: {path!r} has a backslash or a control character")
    pure = PurePosixPath(path)
    if pure.is_absolute() or path.startswith("/"):
        raise ReleaseRefused(400, f"path: {path!r} is absolute; give it relative to the workspace")
    parts = path.split("/")
    if any(part in ("", ".", "..") for part in parts):
        raise ReleaseRefused(400, f"path: {path!r} has an empty, '.' or '..' part")
    if any(part.startswith(".") for part in parts):
        raise ReleaseRefused(400, f"path: {path!r} names a hidden file or folder")
    suffix = pure.suffix.lower()
    if suffix not in settings.RELEASE_SUFFIXES:
        raise ReleaseRefused(
            400,
            f"path: file type {suffix or '(none)'} of {path!r} is not accepted; accepted: "
            + ", ".join(settings.RELEASE_SUFFIXES),
        )
    return path


def _check_request_id(request_id: str) -> str:
    if not _REQUEST_ID.match(request_id or ""):
        raise ReleaseRefused(
            400, f"request id: {request_id!r} is not 1 to 64 letters, digits, '.', '_' or '-'"
        )
    return request_id


def _check_sha256(value: str, field: str = "sha256") -> str:
    if not _SHA256.match(value or ""):
        raise ReleaseRefused(400, f"{field}: {value!r} is not a SHA-256 in lower-case hex")
    return value


def _workspace(backend: Backend, name: str) -> Workspace:
    """The workspace, if it exists and this backend has been asked to run jobs in it: a
    backend can only release outputs of work it was given, never into any workspace."""
    found = Workspace.objects.filter(name=name).first() if _WORKSPACE.match(name or "") else None
    if found is None:
        raise ReleaseRefused(400, f"workspace: no workspace named {name!r} on this coordinator")
    if not Job.objects.filter(backend=backend, job_request__workspace=found).exists():
        raise ReleaseRefused(
            403, f"backend {backend.name} has run no jobs in workspace {name!r}; it cannot release"
        )
    return found


def _refused(backend: Backend, what: str, request_id: str, exc: ReleaseRefused, **data) -> None:
    audit.record(
        f"backend:{backend.name}",
        "release.refused",
        f"release:{backend.name}/{request_id}"[:60],
        operation=what,
        status=exc.status,
        reason=str(exc),
        **data,
    )


def receive_file(
    backend: Backend,
    *,
    request_id: str,
    workspace: str,
    path: str,
    sha256: str,
    length: str | None,
    read: Callable[[int], bytes],
) -> Stored:
    """Check and store one released file (see the module docstring); refusals are audited."""
    try:
        return _receive(backend, request_id, workspace, path, sha256, length, read)
    except ReleaseRefused as exc:
        _refused(backend, "upload", request_id, exc, workspace=workspace, path=path[:MAX_PATH])
        raise


def _receive(
    backend: Backend,
    request_id: str,
    workspace_name: str,
    path: str,
    sha256: str,
    length: str | None,
    read: Callable[[int], bytes],
) -> Stored:
    _check_request_id(request_id)
    check_release_path(path)
    _check_sha256(sha256)
    limit = settings.RELEASE_MAX_BYTES
    try:
        declared = int(length or "")
    except ValueError:
        raise ReleaseRefused(400, "Content-Length: required, a whole number of bytes") from None
    if declared < 0:
        raise ReleaseRefused(400, "Content-Length: must not be negative")
    if declared > limit:
        raise ReleaseRefused(413, f"{path}: {declared} bytes is over the limit of {limit}")
    workspace = _workspace(backend, workspace_name)
    existing = _existing(backend, request_id, workspace, path, sha256)
    if existing is not None:
        return existing
    store = blob_store()
    try:
        incoming = store.receive(read, min(declared, limit))
    except TooLarge:
        raise ReleaseRefused(413, f"{path}: more bytes than Content-Length said") from None
    try:
        if incoming.size != declared:
            raise ReleaseRefused(
                400, f"{path}: {incoming.size} bytes arrived, Content-Length said {declared}"
            )
        if incoming.sha256 != sha256:
            raise ReleaseRefused(
                400,
                f"{path}: the sha256 of the body is {incoming.sha256}, not {sha256} as the "
                "header says; nothing was stored",
            )
        store.keep(incoming)
    finally:
        incoming.discard()
    now = timezone.now()
    try:
        with transaction.atomic():
            release, _ = Release.objects.get_or_create(
                backend=backend,
                request_id=request_id,
                defaults={"workspace": workspace, "created_at": now},
            )
            if release.workspace_id != workspace.pk or release.completed_at is not None:
                raise IntegrityError("changed under us")
            stored = ReleasedFile.objects.create(
                release=release,
                workspace=workspace,
                backend=backend,
                request_id=request_id,
                path=path,
                sha256=sha256,
                size=declared,
                released_at=now,
            )
            audit.record(
                f"backend:{backend.name}",
                "release.file_stored",
                f"release:{release.pk}",
                request_id=request_id,
                workspace=workspace.name,
                path=path,
                sha256=sha256,
                size=declared,
            )
    except IntegrityError:
        # Another upload of the same file won the race: answer as if it had come first.
        again = _existing(backend, request_id, workspace, path, sha256)
        if again is None:
            raise
        return again
    return Stored(201, stored)


def _existing(
    backend: Backend, request_id: str, workspace: Workspace, path: str, sha256: str
) -> Stored | None:
    """The answer for a file already seen: 200 for the same bytes, 409 for anything else."""
    release = Release.objects.filter(backend=backend, request_id=request_id).first()
    if release is None:
        return None
    if release.workspace_id != workspace.pk:
        raise ReleaseRefused(
            409,
            f"release request {request_id} of {backend.name} is for workspace "
            f"{release.workspace.name}, not {workspace.name}",
        )
    found = release.files.filter(path=path).first()
    if found is not None:
        if found.sha256 == sha256:
            return Stored(200, found)
        raise ReleaseRefused(
            409,
            f"{path} of release request {request_id} was stored with sha256 {found.sha256}; "
            "a different file cannot replace it",
        )
    if release.completed_at is not None:
        raise ReleaseRefused(
            409, f"release request {request_id} is complete; no file can be added to it"
        )
    return None


def complete_release(
    backend: Backend,
    request_id: str,
    workspace: str,
    files: Iterable[FileClaim],
    job_request_id: int | None = None,
) -> tuple[int, Release]:
    """Mark a release request complete once every file it lists has arrived with its hash.

    Returns (201, release) when it completes now and (200, release) when it already had with
    the same files. The job request it belongs to is the one given, or else inferred."""
    try:
        return _complete(backend, request_id, workspace, list(files), job_request_id)
    except ReleaseRefused as exc:
        _refused(backend, "complete", request_id, exc, workspace=workspace)
        raise


def _complete(
    backend: Backend,
    request_id: str,
    workspace_name: str,
    files: list[FileClaim],
    job_request_id: int | None,
) -> tuple[int, Release]:
    _check_request_id(request_id)
    if not files or len(files) > MAX_FILES:
        raise ReleaseRefused(400, f"files: list 1 to {MAX_FILES} files (path and sha256)")
    claimed: dict[str, str] = {}
    for claim in files:
        check_release_path(claim.path)
        _check_sha256(claim.sha256, f"sha256 of {claim.path}")
        if claim.path in claimed:
            raise ReleaseRefused(400, f"files: {claim.path} is listed twice")
        claimed[claim.path] = claim.sha256
    workspace = _workspace(backend, workspace_name)
    with transaction.atomic():
        release = (
            Release.objects.select_for_update()
            .filter(backend=backend, request_id=request_id)
            .first()
        )
        if release is None:
            raise ReleaseRefused(
                409, f"release request {request_id}: no file of it has arrived; upload them first"
            )
        if release.workspace_id != workspace.pk:
            raise ReleaseRefused(
                409, f"release request {request_id} is for workspace {release.workspace.name}"
            )
        received = {f.path: f.sha256 for f in release.files.all()}
        if received != claimed:
            raise ReleaseRefused(409, _difference(request_id, claimed, received))
        if release.completed_at is not None:
            return 200, release
        job_request, inferred = _job_request(backend, workspace, job_request_id)
        release.completed_at = timezone.now()
        release.job_request = job_request
        release.job_request_inferred = inferred
        release.save(update_fields=["completed_at", "job_request", "job_request_inferred"])
        audit.record(
            f"backend:{backend.name}",
            "release.completed",
            f"release:{release.pk}",
            request_id=request_id,
            workspace=workspace.name,
            files=len(received),
            job_request=job_request.pk if job_request else None,
            job_request_inferred=inferred,
        )
    return 201, release


def _difference(request_id: str, claimed: dict[str, str], received: dict[str, str]) -> str:
    missing = sorted(set(claimed) - set(received))
    extra = sorted(set(received) - set(claimed))
    differ = sorted(p for p in set(claimed) & set(received) if claimed[p] != received[p])
    parts = []
    if missing:
        parts.append("not received: " + ", ".join(missing))
    if extra:
        parts.append("received but not listed: " + ", ".join(extra))
    if differ:
        parts.append("received with another sha256: " + ", ".join(differ))
    return f"release request {request_id} does not match what arrived ({'; '.join(parts)})"


def _job_request(
    backend: Backend, workspace: Workspace, job_request_id: int | None
) -> tuple[JobRequest | None, bool]:
    if job_request_id is not None:
        found = JobRequest.objects.filter(
            pk=job_request_id, workspace=workspace, jobs__backend=backend
        ).first()
        if found is None:
            raise ReleaseRefused(
                400,
                f"job_request_id: {job_request_id} is not a request of workspace "
                f"{workspace.name} with jobs on {backend.name}",
            )
        return found, False
    inferred = (
        JobRequest.objects.filter(
            workspace=workspace, jobs__backend=backend, jobs__state="succeeded"
        )
        .order_by("-created_at", "-id")
        .first()
    )
    return inferred, inferred is not None
