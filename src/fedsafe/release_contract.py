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
(so a retry after a lost answer is harmless); 400 the hash or a header is wrong (a path that is
not a plain relative path, a file type not accepted, an unknown workspace); 401 the token is
refused and 403 this backend may not release into that workspace (it has run no jobs there);
413 the file is over the receiver's size limit; 409 the same path was stored with a different
hash, or the release request is already complete. 400, 401, 403, 409 and 413 are permanent: the
uploader stops. Any other status or a broken connection is temporary and is retried.

The backend a file belongs to is the one the token was issued to; nothing in the request can
name another. Once every file of a release request has arrived, the airlock says so::

    POST {coordinator}/api/v1/releases/{request id}/complete
    Authorization: Bearer <backend token>
    Content-Type: application/json
    body: {"workspace": "<name>", "files": [{"path": "...", "sha256": "..."}, ...],
           "job_request_id": <optional: the coordinator's job request the outputs came from>}

Answers: 201 complete now; 200 it already was, with the same files; 409 the list is not exactly
what arrived (a file missing, one not listed, a different hash) or no file has arrived; 400,
401, 403 as above. The same permanent/temporary split applies. Only a complete release counts
on the coordinator (it is shown as complete and may start the combine step).
"""

from __future__ import annotations

__all__ = [
    "COMPLETE_PATH",
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
PERMANENT_FAILURES = frozenset({400, 401, 403, 409, 413})
COMPLETE_PATH = "/api/v1/releases/{request_id}/complete"
