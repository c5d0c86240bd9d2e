"""Starting a real coordinator process for tests, and running setup code against its database.

The server is ``fedsafe coordinator serve --port 0`` in a subprocess; its first stderr line says
which port it got. Setup that has no web form (backends, users) goes through the same CLI or a
short Python subprocess on the same database, never through the server's internals.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import sqlite3
import subprocess
import sys
import threading
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

FEDSAFE = str(Path(sys.executable).with_name("fedsafe"))
STARTUP_LIMIT = 120  # seconds; a fail-safe against hanging, not a timing assertion


@dataclass
class LiveCoordinator:
    database: str
    lease_seconds: int = 300
    port: int = 0  # 0: any free port; a restart can ask for the one it had
    process: subprocess.Popen | None = None
    url: str = ""
    stderr_lines: list[str] = field(default_factory=list)

    def start(self) -> LiveCoordinator:
        env = {**os.environ, "FEDSAFE_COORDINATOR_SECRET_KEY": "test-secret-key-" + "x" * 40}
        self.process = subprocess.Popen(
            [
                FEDSAFE,
                "coordinator",
                "serve",
                "--port",
                str(self.port),
                "--database",
                self.database,
                "--lease-seconds",
                str(self.lease_seconds),
            ],
            stderr=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            text=True,
            env=env,
        )
        lines: queue.Queue[str] = queue.Queue()

        def read() -> None:
            assert self.process is not None and self.process.stderr is not None
            for line in self.process.stderr:
                lines.put(line)
            lines.put("")

        threading.Thread(target=read, daemon=True).start()
        while True:
            try:
                line = lines.get(timeout=STARTUP_LIMIT)
            except queue.Empty:
                self.kill()
                raise RuntimeError("coordinator did not start") from None
            self.stderr_lines.append(line)
            if line.startswith("listening on "):
                self.url = line.split()[-1]
                return self
            if line == "":
                raise RuntimeError("coordinator exited:\n" + "".join(self.stderr_lines))

    def kill(self) -> None:
        """kill -9: no chance to finish anything."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)


def cli(*args: str, database: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [FEDSAFE, "coordinator", *args, "--database", database],
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
    )


def add_backend(database: str, name: str, provides: str = "") -> str:
    result = cli("add-backend", name, "--provides", provides, database=database)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


SETUP_PRELUDE = """
import json, sys
from fedsafe.coordinator.runtime import configure
configure(sys.argv[1])
from django.contrib.auth.models import User
from fedsafe.coordinator.models import *
from fedsafe.coordinator.requests import RequestSpec, create_job_request, cancel_request
from fedsafe.coordinator.setup_records import create_project, create_workspace
"""


def in_coordinator(database: str, code: str) -> object:
    """Run ``code`` with Django set up on ``database``; it sets ``result`` to something JSON."""
    script = SETUP_PRELUDE + code + "\nprint(json.dumps(result))\n"
    done = subprocess.run(
        [sys.executable, "-c", script, database], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def seed(
    database: str,
    backends: dict[str, str],
    actions: list[str] | None = None,
    requested: str | list[str] = "all",
) -> tuple[dict[str, str], int | None]:
    """Backends (name -> provided tables), a user, project and workspace, and, if ``actions``
    are given, one request: one subprocess, so tests stay quick. Returns tokens and request id.
    """
    return tuple(
        in_coordinator(
            database,
            f"""
from fedsafe.coordinator.setup_records import add_backend
tokens = {{name: add_backend(name, tables).token for name, tables in {backends!r}.items()}}
user = User.objects.create_user("rita", password="x" * 12)
ws = create_workspace(user, create_project(user, "p"), "w", "https://example.org/study.git", "main")
request_id = None
if {actions!r}:
    spec = RequestSpec(actions={actions!r}, backends={requested!r}, reason="testing",
                       commit="a" * 40)
    request_id = create_job_request(user, ws, spec).pk
result = [tokens, request_id]
""",
        )
    )


def query(database: str, sql: str, *params: object) -> list[tuple]:
    """Read the coordinator's SQLite database directly, as an auditor would."""
    path = database.removeprefix("sqlite:///")
    with closing(sqlite3.connect(path)) as connection:
        return connection.execute(sql, params).fetchall()


def bare_repo(tmp_path) -> tuple[str, str]:
    """A local git repository with one commit on main, as the workspace's code."""
    work, bare = tmp_path / "work", tmp_path / "study.git"
    git = [
        "git",
        "-c",
        "user.name=t",
        "-c",
        "user.email=t@example.org",
        "-c",
        "init.defaultBranch=main",
    ]
    subprocess.run([*git, "init", "-q", str(work)], check=True)
    (work / "project.yaml").write_text("version: '1'\n")
    subprocess.run([*git, "-C", str(work), "add", "."], check=True)
    subprocess.run([*git, "-C", str(work), "commit", "-qm", "study"], check=True)
    subprocess.run([*git, "clone", "-q", "--bare", str(work), str(bare)], check=True)
    head = subprocess.run(
        ["git", "-C", str(bare), "rev-parse", "main"], capture_output=True, text=True, check=True
    ).stdout.strip()
    return f"file://{bare}", head
