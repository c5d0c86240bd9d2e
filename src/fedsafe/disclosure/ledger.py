"""The release ledger: every table a backend has released, so a new table can be checked for
differencing against all of them (per backend, across projects).

The ledger is its own SQLite file (``release-ledger.sqlite``) in a folder the backend chooses,
so the airlock can use it without sharing its database. It is an append-only, hash-chained
log: each event's hash covers the previous event's hash and the event itself, SQLite triggers
refuse updates and deletes, and :meth:`ReleaseLedger.verify` recomputes the chain, so a row
changed or removed behind fedsafe's back is found. Released tables are read back from the
events themselves: there is no second copy to drift from the log.

The airlock calls, at release time::

    ledger = ReleaseLedger(directory)
    findings = ledger.check_file(path, policy, backend="tpp", project="p1")
    # ... if no finding is a FAIL and the release is approved:
    ledger.record_file(path, backend="tpp", project="p1", released_by="alice", request="r7")
"""

from __future__ import annotations

import datetime
import hashlib
import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fedsafe.disclosure.errors import LedgerError
from fedsafe.disclosure.findings import Finding, Status
from fedsafe.disclosure.policy import DisclosurePolicy
from fedsafe.disclosure.released import (
    ReleasedTable,
    added,
    canonical,
    clashes,
    contains,
    read_released_table,
    union,
)

__all__ = ["LEDGER_FILE", "LedgerEntry", "ReleaseLedger", "differencing_findings"]

LEDGER_FILE = "release-ledger.sqlite"
_GENESIS = "0" * 64
_SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY,
    recorded_at TEXT NOT NULL,
    action TEXT NOT NULL,
    payload TEXT NOT NULL,
    previous_hash TEXT NOT NULL,
    hash TEXT NOT NULL UNIQUE
);
CREATE TRIGGER IF NOT EXISTS events_no_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'the release ledger is append-only'); END;
CREATE TRIGGER IF NOT EXISTS events_no_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'the release ledger is append-only'); END;
"""


@dataclass(frozen=True)
class LedgerEntry:
    """One recorded release: its place in the chain, its hash and the table recorded."""

    seq: int
    hash: str
    recorded_at: str
    table: ReleasedTable
    file_sha256: str
    released_by: str
    request: str


class ReleaseLedger:
    """The ledger in ``directory`` (created if missing unless ``create=False``). Opening it
    verifies the chain."""

    def __init__(self, directory: Path | str, *, create: bool = True) -> None:
        """Open the ledger in ``directory``; with ``create=False`` (for readers such as
        ``check-outputs --ledger``) a folder without one is an error rather than a new, empty
        ledger that would let everything pass."""
        directory = Path(directory)
        if directory.exists() and not directory.is_dir():
            raise LedgerError(f"{directory}: the release ledger needs a folder, not a file")
        self.path = directory / LEDGER_FILE
        if not create and not self.path.is_file():
            raise LedgerError(f"{directory}: no release ledger here (expected {LEDGER_FILE})")
        directory.mkdir(parents=True, exist_ok=True)
        try:
            with self._connect() as db:
                db.executescript(_SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise LedgerError(f"{self.path}: not a release ledger ({exc})") from None
        self.verify()

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        try:
            yield db
        finally:
            db.close()

    def verify(self) -> int:
        """Recompute the hash chain; the number of events, or a LedgerError at the first event
        that does not match (changed, removed or reordered)."""
        previous = _GENESIS
        with self._connect() as db:
            rows = db.execute(
                "SELECT seq, recorded_at, action, payload, previous_hash, hash FROM events "
                "ORDER BY seq"
            ).fetchall()
        for expected_seq, (seq, at, action, payload, prev, digest) in enumerate(rows, start=1):
            if (
                seq != expected_seq
                or prev != previous
                or digest != _hash(prev, seq, at, action, payload)
            ):
                raise LedgerError(
                    f"{self.path}: event {seq} does not match the hash chain; the ledger has "
                    "been altered outside fedsafe and must not be trusted"
                )
            previous = digest
        return len(rows)

    def entries(self) -> list[LedgerEntry]:
        """Every recorded release, oldest first."""
        with self._connect() as db:
            rows = db.execute(
                "SELECT seq, recorded_at, payload, hash FROM events WHERE action = 'released' "
                "ORDER BY seq"
            ).fetchall()
        result = []
        for seq, at, payload, digest in rows:
            data = json.loads(payload)
            result.append(
                LedgerEntry(
                    seq=seq,
                    hash=digest,
                    recorded_at=at,
                    table=ReleasedTable.from_json(data["table"]),
                    file_sha256=data["file_sha256"],
                    released_by=data["released_by"],
                    request=data["request"],
                )
            )
        return result

    def check_file(
        self, path: Path | str, policy: DisclosurePolicy, *, backend: str, project: str = ""
    ) -> tuple[Finding, ...]:
        """Findings for ``path`` against every table this backend released: FAIL for each cell
        that subtracting it from, or adding it to, an earlier table puts in 1..threshold (both
        files named), else one PASS. Unreadable files raise OutputFileError."""
        new = read_released_table(Path(path), backend=backend, project=project)
        earlier = [
            e.table
            for e in self.entries()
            if e.table.backend == backend and e.table.dimensions == new.dimensions
        ]
        return differencing_findings(new, earlier, policy.suppress_at_or_below)

    def record_file(
        self,
        path: Path | str,
        *,
        backend: str,
        project: str,
        released_by: str,
        request: str = "",
    ) -> LedgerEntry:
        """Record that ``path`` was released. Call it when the release happens (after the
        checks and approvals); it records what was released even if a person overrode a
        finding, because the ledger must know everything that is out."""
        path = Path(path)
        for name, value in (("backend", backend), ("released_by", released_by)):
            if not isinstance(value, str) or not value.strip():
                raise LedgerError(f"record_file: {name} must be a non-empty string, got {value!r}")
        table = read_released_table(path, backend=backend, project=project)
        return self.record_table(
            table,
            file_sha256=hashlib.sha256(path.read_bytes()).hexdigest(),
            released_by=released_by,
            request=request,
        )

    def record_table(
        self, table: ReleasedTable, *, file_sha256: str, released_by: str, request: str = ""
    ) -> LedgerEntry:
        """Record an already-read released table (the airlock reads each file once, names it
        by workspace and path rather than by its place on disk, and records what it checked)."""
        for name, value in (("backend", table.backend), ("released_by", released_by)):
            if not isinstance(value, str) or not value.strip():
                raise LedgerError(f"record_table: {name} must be a non-empty string, got {value!r}")
        payload = {
            "table": table.to_json(),
            "file_sha256": file_sha256,
            "released_by": released_by,
            "request": request,
        }
        return self._append("released", payload, table)

    def _append(self, action: str, payload: dict[str, Any], table: ReleasedTable) -> LedgerEntry:
        text = canonical(payload)
        at = datetime.datetime.now(datetime.UTC).isoformat()
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")  # one writer at a time: the chain stays a chain
            try:
                last = db.execute(
                    "SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1"
                ).fetchone()
                seq, previous = (last[0] + 1, last[1]) if last else (1, _GENESIS)
                digest = _hash(previous, seq, at, action, text)
                db.execute(
                    "INSERT INTO events VALUES (?, ?, ?, ?, ?, ?)",
                    (seq, at, action, text, previous, digest),
                )
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        return LedgerEntry(
            seq,
            digest,
            at,
            table,
            payload["file_sha256"],
            payload["released_by"],
            payload["request"],
        )


def differencing_findings(
    new: ReleasedTable, earlier: list[ReleasedTable], threshold: int
) -> tuple[Finding, ...]:
    """The ledger's verdict on ``new`` against ``earlier`` tables over the same dimensions."""
    found = []
    for old in earlier:
        if contains(old.filters, new.filters):
            found += clashes(old, new, threshold, f"{old.file!r} minus {new.file!r}")
        if contains(new.filters, old.filters):
            found += clashes(new, old, threshold, f"{new.file!r} minus {old.file!r}")
        together = union(new.filters, old.filters)
        if together is None:
            continue
        combined = added(new, old, together)
        for third in earlier:
            if third is old:
                continue
            if contains(third.filters, together):
                found += clashes(
                    third,
                    combined,
                    threshold,
                    f"{third.file!r} minus ({new.file!r} + {old.file!r})",
                )
            if contains(together, third.filters):
                found += clashes(
                    combined,
                    third,
                    threshold,
                    f"({new.file!r} + {old.file!r}) minus {third.file!r}",
                )
    for index, first in enumerate(earlier):  # two earlier releases added up, against the new one
        for second in earlier[index + 1 :]:
            together = union(first.filters, second.filters)
            if together is None:
                continue
            combined = added(first, second, together)
            if contains(new.filters, together):
                found += clashes(
                    new,
                    combined,
                    threshold,
                    f"{new.file!r} minus ({first.file!r} + {second.file!r})",
                )
            if contains(together, new.filters):
                found += clashes(
                    combined,
                    new,
                    threshold,
                    f"({first.file!r} + {second.file!r}) minus {new.file!r}",
                )
    findings = [
        Finding(
            Status.FAIL,
            "differencing_across_releases",
            f"{clash.how} gives {clash.value} for {_describe(new, clash.cell)}, at or below "
            f"{threshold}: the two releases together reveal a small group",
            column=clash.cell[1],
        )
        for clash in found
    ]
    return tuple(findings) or (
        Finding(
            Status.PASS,
            "differencing_across_releases",
            f"compared with {len(earlier)} earlier release(s) over the same dimensions "
            f"({', '.join(new.dimensions) or 'none'}): no difference or sum gives a cell "
            f"in 1..{threshold}",
        ),
    )


def _describe(table: ReleasedTable, cell: tuple[tuple[str, ...], str]) -> str:
    labels = ", ".join(f"{d}={v!r}" for d, v in zip(table.dimensions, cell[0], strict=True))
    return f"column {cell[1]!r}" + (f" where {labels}" if labels else "")


def _hash(previous: str, seq: int, at: str, action: str, payload: str) -> str:
    text = canonical([previous, seq, at, action, payload])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
