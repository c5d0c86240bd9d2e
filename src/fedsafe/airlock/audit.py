"""The append-only, hash-chained audit log.

Each record's hash covers its own fields and the previous record's hash, so editing a record
breaks its hash and deleting one breaks the chain. Records are kept twice, in the database's
``audit`` table and as lines of ``audit.jsonl``; :func:`verify_audit` checks both chains and
that they agree, so rewriting one copy consistently is still caught by the other. (Deleting the
newest records from both copies at once is what an outside anchor would catch: the coordinator
can hold the latest hash; not built yet.)
"""

from __future__ import annotations

import fcntl
import json
import sqlite3
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fedsafe.hashchain import GENESIS, chain_problems, last_line, record_hash

__all__ = ["AuditRecord", "append", "record_hash", "sync_file", "verify_audit"]


@dataclass(frozen=True)
class AuditRecord:
    seq: int
    at: str
    actor: str
    event: str
    workspace: str
    request_id: str
    path: str
    details: str
    prev_hash: str
    hash: str


def append(
    connection: sqlite3.Connection,
    *,
    actor: str,
    event: str,
    workspace: str = "",
    request_id: str = "",
    path: str = "",
    details: dict[str, Any] | None = None,
) -> AuditRecord:
    """Append one record inside the caller's transaction; :func:`sync_file` copies it to the
    log file once the transaction has committed."""
    last = connection.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
    fields: dict[str, Any] = {
        "seq": (last["seq"] + 1) if last else 1,
        "at": datetime.now(UTC).isoformat(timespec="microseconds"),
        "actor": actor,
        "event": event,
        "workspace": workspace,
        "request_id": request_id,
        "path": path,
        "details": json.dumps(details or {}, sort_keys=True),
        "prev_hash": last["hash"] if last else GENESIS,
    }
    fields["hash"] = record_hash(fields)
    record = AuditRecord(**fields)
    connection.execute(
        "INSERT INTO audit VALUES (:seq, :at, :actor, :event, :workspace, :request_id, :path,"
        " :details, :prev_hash, :hash)",
        fields,
    )
    return record


def sync_file(database: Path, log_file: Path) -> None:
    """Append to the log file the committed records it does not have yet (under a lock, so
    two writers never copy the same record twice)."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with (log_file.parent / ".audit.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        _sync(database, log_file)


def _sync(database: Path, log_file: Path) -> None:
    last = 0
    if log_file.exists() and log_file.stat().st_size:
        try:
            last = int(json.loads(last_line(log_file))["seq"])
        except (ValueError, KeyError, TypeError):
            return  # a damaged file is verify_audit's to report, never ours to "repair"
    connection = sqlite3.connect(database)
    connection.row_factory = sqlite3.Row
    try:
        rows = connection.execute("SELECT * FROM audit WHERE seq > ? ORDER BY seq", (last,))
        new = [json.dumps(asdict(AuditRecord(**dict(r))), sort_keys=True) + "\n" for r in rows]
    finally:
        connection.close()
    if new:
        with log_file.open("a", encoding="utf-8") as out:
            out.writelines(new)


def verify_audit(database: Path, log_file: Path) -> list[str]:
    """Every problem found in either copy of the log; an empty list means both are intact."""
    problems: list[str] = []
    connection = sqlite3.connect(database)
    connection.row_factory = sqlite3.Row
    try:
        rows = [dict(r) for r in connection.execute("SELECT * FROM audit ORDER BY seq")]
    finally:
        connection.close()
    problems += chain_problems(rows, "database")
    lines: list[dict[str, Any]] = []
    if log_file.exists():
        for number, line in enumerate(log_file.read_text(encoding="utf-8").splitlines(), 1):
            try:
                lines.append(json.loads(line))
            except json.JSONDecodeError:
                problems.append(f"{log_file.name} line {number}: not a JSON record (edited)")
    problems += chain_problems(lines, log_file.name)
    if [r["hash"] for r in rows] != [r.get("hash") for r in lines]:
        problems.append(
            f"the database has {len(rows)} records and {log_file.name} {len(lines)}, and they"
            " differ: one copy was edited or had records removed"
        )
    return problems
