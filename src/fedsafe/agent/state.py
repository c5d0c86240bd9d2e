"""The agent's own record of its jobs, in a local SQLite database, so a restart knows where
each job had got to.

Each job moves through phases, written (and committed) before the step they name is taken:

``leased``    the coordinator gave it to us; nothing has run.
``running``   the action may be running (``attempt`` counts the starts); outputs, if any,
              are only in the job's private working copy and staging folders.
``staged``    the action succeeded and its outputs are in the stores' staging folders, with
              their hashes here: from now on the outputs are kept, never made again.
``done``      the final state and its safe facts are decided; only the report is left.
``reported``  the coordinator has the final state (or no longer holds the job for us).

SQLite's transactions make each phase change all-or-nothing, so after ``kill -9`` a job is in
exactly one of them.
"""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["PHASES", "AgentState", "JobRecord"]

PHASES = ("leased", "running", "staged", "done", "reported")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    job_id INTEGER PRIMARY KEY,
    lease_id TEXT NOT NULL,
    workspace TEXT NOT NULL,
    action TEXT NOT NULL,
    phase TEXT NOT NULL,
    attempt INTEGER NOT NULL DEFAULT 0,
    started_at TEXT,
    finished_at TEXT,
    final_state TEXT,
    exit_code INTEGER,
    error_class TEXT,
    message TEXT,
    outputs TEXT NOT NULL DEFAULT '{}'
);
"""


@dataclass(frozen=True)
class JobRecord:
    job_id: int
    lease_id: str
    workspace: str
    action: str
    phase: str
    attempt: int
    started_at: str | None
    finished_at: str | None
    final_state: str | None
    exit_code: int | None
    error_class: str | None
    message: str | None
    outputs: dict[str, dict[str, Any]]  # path -> {"level", "sha256", "size"}


class AgentState:
    """One SQLite file; every method is one committed transaction."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with closing(self._connect()) as con, con:
            con.execute("PRAGMA journal_mode=WAL")
            con.executescript(_SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        con = sqlite3.connect(self.path, timeout=30)
        con.row_factory = sqlite3.Row
        con.execute("PRAGMA synchronous=FULL")
        return con

    def get(self, job_id: int) -> JobRecord | None:
        with closing(self._connect()) as con:
            row = con.execute("SELECT * FROM jobs WHERE job_id = ?", (job_id,)).fetchone()
        return _record(row) if row else None

    def unfinished(self) -> list[JobRecord]:
        with closing(self._connect()) as con:
            rows = con.execute(
                "SELECT * FROM jobs WHERE phase != 'reported' ORDER BY job_id"
            ).fetchall()
        return [_record(r) for r in rows]

    def all(self) -> list[JobRecord]:
        with closing(self._connect()) as con:
            rows = con.execute("SELECT * FROM jobs ORDER BY job_id").fetchall()
        return [_record(r) for r in rows]

    def begin(self, job_id: int, lease_id: str, workspace: str, action: str) -> JobRecord:
        """Record a newly leased job, or take a new lease on one we already know."""
        with closing(self._connect()) as con, con:
            con.execute(
                "INSERT INTO jobs (job_id, lease_id, workspace, action, phase) "
                "VALUES (?, ?, ?, ?, 'leased') "
                "ON CONFLICT (job_id) DO UPDATE SET lease_id = excluded.lease_id, "
                "phase = CASE WHEN phase = 'reported' AND lease_id != excluded.lease_id "
                "AND final_state IS NOT NULL THEN 'done' ELSE phase END",
                (job_id, lease_id, workspace, action),
            )
        found = self.get(job_id)
        assert found is not None
        return found

    def update(self, job_id: int, **fields: Any) -> JobRecord:
        if "phase" in fields and fields["phase"] not in PHASES:
            raise ValueError(f"unknown phase {fields['phase']!r}")
        if "outputs" in fields:
            fields["outputs"] = json.dumps(fields["outputs"], sort_keys=True)
        names = ", ".join(f"{name} = ?" for name in fields)
        with closing(self._connect()) as con, con:
            con.execute(f"UPDATE jobs SET {names} WHERE job_id = ?", (*fields.values(), job_id))
        found = self.get(job_id)
        assert found is not None
        return found

    def start_attempt(self, job_id: int, started_at: str) -> JobRecord:
        with closing(self._connect()) as con, con:
            con.execute(
                "UPDATE jobs SET phase = 'running', attempt = attempt + 1, "
                "started_at = COALESCE(started_at, ?) WHERE job_id = ?",
                (started_at, job_id),
            )
        found = self.get(job_id)
        assert found is not None
        return found


def _record(row: sqlite3.Row) -> JobRecord:
    data = dict(row)
    data["outputs"] = json.loads(data["outputs"] or "{}")
    return JobRecord(**data)
