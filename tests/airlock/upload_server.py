"""A tiny real coordinator receiver for tests: the release contract over stdlib http.server."""

from __future__ import annotations

import hashlib
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


@dataclass
class Receiver:
    """What the server stored, and how many answers it should fail first (503)."""

    fail_first: int = 0
    stored: dict[tuple[str, str, str], bytes] = field(default_factory=dict)
    requests: int = 0
    url: str = ""


@contextmanager
def receiver(fail_first: int = 0) -> Iterator[Receiver]:
    state = Receiver(fail_first=fail_first)
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
                    return self._answer(503, "try again")
                if self.path != UPLOAD_PATH:
                    return self._answer(404, "no such endpoint")
                if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                    return self._answer(401, "bad token")
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

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
