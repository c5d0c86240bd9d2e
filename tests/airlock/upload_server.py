"""A stand-in receiver for the failure modes the real coordinator cannot be made to show on
demand: answering 503 a given number of times, or dropping the connection without an answer.
It follows the release contract (uploads and the completion call) otherwise. Everything else is
tested against the real coordinator (``coordinator.live_releases``)."""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from fedsafe.release_contract import (
    HEADER_PATH,
    HEADER_REQUEST_ID,
    HEADER_SHA256,
    HEADER_WORKSPACE,
    UPLOAD_PATH,
)

TOKEN = "backend-secret-token"
_COMPLETE = re.compile(r"^/api/v1/releases/([^/]+)/complete$")


@dataclass
class Receiver:
    """What the server stored, how many requests it should fail first (503, or a dropped
    connection with ``drop=True``) and how many completion calls it should answer 503."""

    fail_first: int = 0
    drop: bool = False
    fail_completions: int = 0
    stored: dict[tuple[str, str, str], bytes] = field(default_factory=dict)
    completed: set[str] = field(default_factory=set)
    requests: int = 0
    url: str = ""


@contextmanager
def receiver(
    fail_first: int = 0, *, drop: bool = False, fail_completions: int = 0
) -> Iterator[Receiver]:
    state = Receiver(fail_first=fail_first, drop=drop, fail_completions=fail_completions)
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def _answer(self, status: int, text: str) -> None:
            body = text.encode()
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:
            data = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with lock:
                state.requests += 1
                if state.fail_first > 0:
                    state.fail_first -= 1
                    if state.drop:
                        self.close_connection = True
                        return  # no answer at all: the client sees the connection close
                    return self._answer(503, "try again")
                if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                    return self._answer(401, "bad token")
                complete = _COMPLETE.match(self.path)
                if complete and state.fail_completions > 0:
                    state.fail_completions -= 1
                    return self._answer(503, "try again")
                if complete:
                    return self._complete(complete.group(1), json.loads(data))
                if self.path != UPLOAD_PATH:
                    return self._answer(404, "no such endpoint")
                digest = self.headers.get(HEADER_SHA256, "")
                if hashlib.sha256(data).hexdigest() != digest:
                    return self._answer(400, "sha256 does not match the body")
                key = (
                    self.headers.get(HEADER_REQUEST_ID, ""),
                    self.headers.get(HEADER_WORKSPACE, ""),
                    self.headers.get(HEADER_PATH, ""),
                )
                if key in state.stored:
                    same = state.stored[key] == data
                    return self._answer(200 if same else 409, "already stored")
                state.stored[key] = data
                return self._answer(201, "stored")

        def _complete(self, request_id: str, body: dict) -> None:
            arrived = {
                path: hashlib.sha256(data).hexdigest()
                for (rid, ws, path), data in state.stored.items()
                if rid == request_id and ws == body["workspace"]
            }
            listed = {f["path"]: f["sha256"] for f in body["files"]}
            if arrived != listed:
                return self._answer(409, "the list does not match what arrived")
            status = 200 if request_id in state.completed else 201
            state.completed.add(request_id)
            return self._answer(status, "complete")

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
