"""A throwaway PostgreSQL server for tests: ``initdb`` + ``pg_ctl`` in a temporary folder,
listening on a free local port, removed afterwards. PostgreSQL refuses to run as root, so when
the tests run as root the server runs as the ``postgres`` system user.

(Another branch has a similar fixture in tests/engine_servers.py; they are to be unified.)
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass


def _tool(name: str) -> str:
    found = shutil.which(name) or next(
        iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)), None
    )
    if found is None:
        raise RuntimeError(f"{name} not found: install PostgreSQL (make test does)")
    return found


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass(frozen=True)
class PostgresServer:
    port: int
    user: str

    def url(self, database: str) -> str:
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(self.url("postgres"), autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


@contextmanager
def postgres_server() -> Iterator[PostgresServer]:
    folder = tempfile.mkdtemp(prefix="fedsafe-pg-")
    data = os.path.join(folder, "data")
    demote = None
    if os.geteuid() == 0:
        account = pwd.getpwnam("postgres")
        os.chown(folder, account.pw_uid, account.pw_gid)

        def demote() -> None:
            os.setgid(account.pw_gid)
            os.setuid(account.pw_uid)

    def run(*args: str) -> None:
        done = subprocess.run(
            args, capture_output=True, text=True, preexec_fn=demote, check=False, cwd=folder
        )
        if done.returncode != 0:
            raise RuntimeError(f"{args[0]} failed: {done.stderr}")

    port = _free_port()
    run(_tool("initdb"), "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8")
    run(
        _tool("pg_ctl"),
        "-D",
        data,
        "-w",
        "-l",
        os.path.join(folder, "log"),
        "-o",
        f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off",
        "start",
    )
    try:
        yield PostgresServer(port, "postgres")
    finally:
        run(_tool("pg_ctl"), "-D", data, "-m", "immediate", "stop")
        shutil.rmtree(folder, ignore_errors=True)
