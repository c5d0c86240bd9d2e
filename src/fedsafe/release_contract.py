"""The HTTP contract between a backend's airlock (uploader) and the coordinator (receiver).

It lives apart from both sides so that neither imports the other: releases travel over HTTP
only. One file per request::

    POST {coordinator}/api/v1/releases/files
    Authorization: Bearer <backend token>
    Content-Type: application/octet-stream
    X-Fedsafe-Request-Id: <release request id>
    X-Fedsafe-Workspace: <workspace name>
    X-Fedsafe-Path: <file path relative to the workspace, e.g. output/table.csv>
    X-Fedsafe-Sha256: <hex sha256 of the body>
    body: the file's bytes

Answers: 201 stored (the receiver checked the hash); 200 already stored with the same hash
(so a retry after a lost answer is harmless); 400 the hash or a header is wrong and 401/403 the
token is refused (permanent: the uploader stops); 409 the same path was stored with a different
hash (permanent); any other status or a broken connection is temporary and is retried.
"""

from __future__ import annotations

__all__ = [
    "HEADER_PATH",
    "HEADER_REQUEST_ID",
    "HEADER_SHA256",
    "HEADER_WORKSPACE",
    "PERMANENT_FAILURES",
    "STORED",
    "UPLOAD_PATH",
]

UPLOAD_PATH = "/api/v1/releases/files"
HEADER_REQUEST_ID = "X-Fedsafe-Request-Id"
HEADER_WORKSPACE = "X-Fedsafe-Workspace"
HEADER_PATH = "X-Fedsafe-Path"
HEADER_SHA256 = "X-Fedsafe-Sha256"
STORED = frozenset({200, 201})
PERMANENT_FAILURES = frozenset({400, 401, 403, 409})
