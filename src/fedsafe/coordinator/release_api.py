"""The release API (django-ninja) at ``/api/v1/releases/``: the receiving half of
``fedsafe.release_contract``. Its OpenAPI document is at ``/api/v1/releases/openapi.json``.

Authenticated by a backend token, exactly as the agent API: the backend a file is stored under
is the token's, never anything the request says. The rules live in ``releases``; this module
only translates between HTTP and it, and starts the combine step once a release completes.
"""

from __future__ import annotations

import logging
from typing import Any

from django.http import HttpRequest
from ninja import NinjaAPI, Schema
from ninja.errors import ValidationError

from fedsafe.coordinator.api import BackendTokenAuth
from fedsafe.coordinator.combining import combine_if_ready
from fedsafe.coordinator.releases import FileClaim, ReleaseRefused, complete_release, receive_file
from fedsafe.release_contract import (
    HEADER_PATH,
    HEADER_REQUEST_ID,
    HEADER_SHA256,
    HEADER_WORKSPACE,
)

__all__ = ["releases_api"]

log = logging.getLogger(__name__)

releases_api = NinjaAPI(
    title="fedsafe release API",
    version="1",
    description=(
        "How a backend's airlock delivers the files its output checkers approved: one file per "
        "request, checked against its SHA-256, then one call saying the release is complete."
    ),
    auth=BackendTokenAuth(),
    urls_namespace="releases_api",
)


class Error(Schema):
    detail: str


class StoredOut(Schema):
    backend: str
    request_id: str
    workspace: str
    path: str
    sha256: str
    size: int


class FileIn(Schema):
    path: str
    sha256: str


class CompleteIn(Schema):
    workspace: str
    files: list[FileIn]
    job_request_id: int | None = None


class CompleteOut(Schema):
    backend: str
    request_id: str
    workspace: str
    files: int
    job_request_id: int | None
    completed_at: Any


ERRORS: dict[int, Any] = {
    400: Error,
    401: Error,
    403: Error,
    409: Error,
    413: Error,
}


@releases_api.exception_handler(ReleaseRefused)
def _refused(request: HttpRequest, exc: ReleaseRefused) -> Any:
    return releases_api.create_response(request, {"detail": str(exc)}, status=exc.status)


@releases_api.exception_handler(ValidationError)
def _invalid(request: HttpRequest, exc: ValidationError) -> Any:
    # 400, not 422: the contract treats a malformed request as permanent, not worth retrying.
    return releases_api.create_response(
        request, {"detail": f"malformed request: {exc.errors}"}, status=400
    )


@releases_api.post(
    "/files",
    response={200: StoredOut, 201: StoredOut, **ERRORS},
    tags=["releases"],
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/octet-stream": {"schema": {"type": "string"}}},
        }
    },
)
def post_file(request: HttpRequest) -> Any:
    """Store one released file. Headers: X-Fedsafe-Request-Id, X-Fedsafe-Workspace,
    X-Fedsafe-Path, X-Fedsafe-Sha256; the body is the file's bytes. 201 stored, 200 already
    stored with this hash, 409 stored with another hash."""
    headers = request.headers
    stored = receive_file(
        request.auth,
        request_id=headers.get(HEADER_REQUEST_ID, ""),
        workspace=headers.get(HEADER_WORKSPACE, ""),
        path=headers.get(HEADER_PATH, ""),
        sha256=headers.get(HEADER_SHA256, ""),
        length=request.META.get("CONTENT_LENGTH"),
        read=request.read,
    )
    file = stored.file
    out = StoredOut(
        backend=request.auth.name,
        request_id=file.request_id,
        workspace=file.workspace.name,
        path=file.path,
        sha256=file.sha256,
        size=file.size,
    )
    return releases_api.create_response(request, out.model_dump(), status=stored.status)


@releases_api.post(
    "/{request_id}/complete",
    response={200: CompleteOut, 201: CompleteOut, **ERRORS},
    tags=["releases"],
)
def post_complete(request: HttpRequest, request_id: str, body: CompleteIn) -> Any:
    """Say the release request is complete, listing every file (path and sha256). Accepted
    only if exactly those files arrived with those hashes; then, once every backend of the
    job request has released, the workspace's combine actions run."""
    status, release = complete_release(
        request.auth,
        request_id,
        body.workspace,
        [FileClaim(f.path, f.sha256) for f in body.files],
        body.job_request_id,
    )
    if status == 201 and release.job_request_id is not None:
        _combine(release.job_request_id)  # the release is committed: it stands whatever happens
    out = CompleteOut(
        backend=request.auth.name,
        request_id=release.request_id,
        workspace=release.workspace.name,
        files=release.files.count(),
        job_request_id=release.job_request_id,
        completed_at=release.completed_at,
    )
    return releases_api.create_response(request, out.model_dump(), status=status)


def _combine(job_request_id: int) -> None:
    """Run the combine step; a failure is recorded on its run and never fails the upload."""
    try:
        combine_if_ready(job_request_id)
    except Exception:  # a bug in combining must not turn a completed release into an error
        log.exception("combining after job request %s failed", job_request_id)
