"""A small append-only, hash-chained log in a JSON-lines file, for any part that needs one.

Each record's hash covers its fields and the previous record's hash, so an edited record breaks
its own hash and a removed one breaks the chain. The airlock's log (``airlock/audit.py``) keeps
its own columns in its database but hashes and verifies its chain with these functions; the
file log here has free ``details``. This module imports nothing from fedsafe, so backends
(which write logs) and the coordinator (which verifies published copies) can share it without
importing each other.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

__all__ = [
    "GENESIS",
    "append_record",
    "chain_problems",
    "last_line",
    "read_records",
    "record_hash",
]

GENESIS = "0" * 64


def record_hash(fields: Mapping[str, Any]) -> str:
    body = {k: fields[k] for k in sorted(fields) if k != "hash"}
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def append_record(
    log_file: Path, *, actor: str, event: str, details: Mapping[str, Any]
) -> dict[str, Any]:
    """Append one record under an exclusive lock (two writers never share a sequence number)."""
    log_file = Path(log_file)
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with log_file.open("a+", encoding="utf-8") as file:
        fcntl.flock(file, fcntl.LOCK_EX)
        last = last_line(log_file)
        previous = json.loads(last) if last else None
        fields: dict[str, Any] = {
            "seq": previous["seq"] + 1 if previous else 1,
            "at": datetime.now(UTC).isoformat(timespec="microseconds"),
            "actor": actor,
            "event": event,
            "details": json.loads(json.dumps(details, sort_keys=True)),
            "prev_hash": previous["hash"] if previous else GENESIS,
        }
        fields["hash"] = record_hash(fields)
        file.seek(0, 2)
        file.write(json.dumps(fields, sort_keys=True) + "\n")
        file.flush()
    return fields


def last_line(log_file: Path) -> str:
    """The last non-empty line, read backwards from the end (logs only grow)."""
    with log_file.open("rb") as file:
        file.seek(0, 2)
        position = file.tell()
        chunk = b""
        while position > 0 and chunk.strip().count(b"\n") < 1:
            step = min(65536, position)
            position -= step
            file.seek(position)
            chunk = file.read(step) + chunk
    lines = chunk.decode("utf-8").strip().splitlines()
    return lines[-1] if lines else ""


def read_records(log_file: Path) -> tuple[list[dict[str, Any]], list[str]]:
    """(records, problems): lines that are not JSON records are problems, not records."""
    records: list[dict[str, Any]] = []
    problems: list[str] = []
    if not Path(log_file).exists():
        return records, problems
    for number, line in enumerate(Path(log_file).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            problems.append(f"{Path(log_file).name} line {number}: not a JSON record (edited)")
            continue
        if not isinstance(record, dict):
            problems.append(f"{Path(log_file).name} line {number}: not a record (edited)")
            continue
        records.append(record)
    return records, problems


def chain_problems(records: list[Mapping[str, Any]], source: str) -> list[str]:
    """Every break in the chain; an empty list means no record was edited, moved or removed."""
    problems = []
    previous = GENESIS
    for index, fields in enumerate(records, start=1):
        where = f"{source} record {fields.get('seq', '?')}"
        if fields.get("seq") != index:
            problems.append(f"{where}: expected record {index} (a record was deleted or moved)")
        if fields.get("prev_hash") != previous:
            problems.append(f"{where}: does not follow the record before it (deleted or edited)")
        if record_hash(fields) != fields.get("hash"):
            problems.append(f"{where}: its contents do not match its hash (edited)")
        previous = str(fields.get("hash", ""))
    return problems
