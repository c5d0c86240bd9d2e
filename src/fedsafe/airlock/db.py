"""The airlock's own SQLite database, in the backend's airlock folder.

Plain ``sqlite3`` rather than Django's ORM keeps the domain usable from the command line and
in tests without configuring Django, and keeps the airlock's data apart from the coordinator's.
Every write runs in one ``BEGIN IMMEDIATE`` transaction together with its audit record, so a
state change and its record land together or not at all.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["connect", "transaction"]

SCHEMA = """
CREATE TABLE IF NOT EXISTS requests (
    id TEXT PRIMARY KEY, workspace TEXT NOT NULL, author TEXT NOT NULL,
    status TEXT NOT NULL, created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS groups (
    request_id TEXT NOT NULL, name TEXT NOT NULL, context TEXT NOT NULL, controls TEXT NOT NULL,
    PRIMARY KEY (request_id, name)
);
CREATE TABLE IF NOT EXISTS files (
    request_id TEXT NOT NULL, path TEXT NOT NULL, grp TEXT NOT NULL, kind TEXT NOT NULL,
    sha256 TEXT NOT NULL, check_status TEXT, check_json TEXT,
    justification TEXT NOT NULL DEFAULT '',
    automatic INTEGER NOT NULL DEFAULT 0, approved_sha256 TEXT, uploaded INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (request_id, path)
);
CREATE TABLE IF NOT EXISTS votes (
    request_id TEXT NOT NULL, path TEXT NOT NULL, reviewer TEXT NOT NULL, vote TEXT NOT NULL,
    sha256 TEXT NOT NULL, PRIMARY KEY (request_id, path, reviewer)
);
CREATE TABLE IF NOT EXISTS comments (
    id INTEGER PRIMARY KEY AUTOINCREMENT, request_id TEXT NOT NULL, path TEXT NOT NULL,
    author TEXT NOT NULL, text TEXT NOT NULL, at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS audit (
    seq INTEGER PRIMARY KEY, at TEXT NOT NULL, actor TEXT NOT NULL, event TEXT NOT NULL,
    workspace TEXT NOT NULL, request_id TEXT NOT NULL, path TEXT NOT NULL, details TEXT NOT NULL,
    prev_hash TEXT NOT NULL, hash TEXT NOT NULL
);
"""


def connect(path: Path) -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(path, isolation_level=None, timeout=30)
    connection.row_factory = sqlite3.Row
    connection.executescript(SCHEMA)
    return connection


@contextmanager
def transaction(path: Path) -> Iterator[sqlite3.Connection]:
    """One write transaction; rolled back whole if anything inside raises."""
    connection = connect(path)
    try:
        connection.execute("BEGIN IMMEDIATE")
        try:
            yield connection
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")
    finally:
        connection.close()
