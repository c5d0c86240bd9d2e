"""Uploading released files to the coordinator over the release contract, with retries, and
saying when a release request is complete.

Temporary failures (a broken connection, a 5xx, anything not in the contract's permanent list)
are retried with a growing pause until the attempts run out; a permanent refusal stops at once,
since sending the same bytes again cannot change the answer.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass

from fedsafe.airlock.errors import AirlockError
from fedsafe.release_contract import (
    COMPLETE_PATH,
    HEADER_PATH,
    HEADER_REQUEST_ID,
    HEADER_SHA256,
    HEADER_WORKSPACE,
    PERMANENT_FAILURES,
    STORED,
    UPLOAD_PATH,
)

__all__ = ["UploadError", "Uploader"]


class UploadError(AirlockError):
    """A file could not be delivered (refused, or still failing after every attempt)."""


@dataclass(frozen=True)
class Uploader:
    base_url: str
    token: str
    attempts: int = 5
    first_pause: float = 0.5
    timeout: float = 30.0

    def upload(
        self, *, request_id: str, workspace: str, path: str, data: bytes, sha256: str
    ) -> int:
        """Send one file; returns the number of attempts it took."""
        request = urllib.request.Request(
            self.base_url.rstrip("/") + UPLOAD_PATH,
            data=data,
            method="POST",
            headers={
                "Authorization": f"Bearer {self.token}",
                "Content-Type": "application/octet-stream",
                HEADER_REQUEST_ID: request_id,
                HEADER_WORKSPACE: workspace,
                HEADER_PATH: path,
                HEADER_SHA256: sha256,
            },
        )
        return self._send(request, path)

    def complete(self, *, request_id: str, workspace: str, files: list[tuple[str, str]]) -> int:
        """Tell the coordinator every file of the request arrived, listing (path, sha256) of
        each; it accepts only if exactly those files arrived with those hashes. Returns the
        number of attempts it took."""
        body = json.dumps(
            {"workspace": workspace, "files": [{"path": p, "sha256": h} for p, h in files]}
        ).encode()
        request = urllib.request.Request(
            self.base_url.rstrip("/")
            + COMPLETE_PATH.format(request_id=urllib.parse.quote(request_id, safe="")),
            data=body,
            method="POST",
            headers={
                "Authorization": f"Bearer {self.token}",
                "Content-Type": "application/json",
            },
        )
        return self._send(request, f"the completion of release request {request_id}")

    def _send(self, request: urllib.request.Request, what: str) -> int:
        pause = self.first_pause
        last = ""
        for attempt in range(1, self.attempts + 1):
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:
                    status = response.status
                    last = f"HTTP {status}"
            except urllib.error.HTTPError as exc:
                status = exc.code
                last = f"HTTP {exc.code}: {exc.read(500).decode(errors='replace')}"
            except (urllib.error.URLError, OSError) as exc:
                status = None
                last = f"connection failed ({exc})"
            if status in STORED:
                return attempt
            if status in PERMANENT_FAILURES:
                raise UploadError(f"the coordinator refused {what}: {last}", field="upload")
            if attempt < self.attempts:
                time.sleep(pause)
                pause = min(pause * 2, 30.0)
        raise UploadError(
            f"{what} not delivered after {self.attempts} attempts; last: {last}", field="upload"
        )
