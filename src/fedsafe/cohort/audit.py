"""The backend's local, append-only audit log of cohort answers (JSON Lines).

It is the one place a raw count is written, and it never leaves the backend. It is also the
differencing ledger's memory: the populations of answered queries are read back from it, so
there is a single record of what was released and nothing to keep in step.

Each record is written and fsync'ed *before* the answer is returned, so a released count always
has its record. A crash mid-write can leave only a truncated last line, whose answer was
therefore never returned; it is skipped on reading. Any other unreadable line stops everything:
a damaged ledger must not quietly forget releases.
"""

from __future__ import annotations

import datetime
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fedsafe.cohort.errors import AuditLogError


@dataclass(frozen=True)
class AuditLog:
    path: Path

    def append(self, record: dict[str, Any]) -> dict[str, Any]:
        """Add a record (with its sequence number and time) and return it as written."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        records = list(self.records())
        full = {
            "seq": (records[-1]["seq"] + 1) if records else 1,
            "time": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
            **record,
        }
        line = json.dumps(full, sort_keys=True) + "\n"
        try:
            self._drop_torn_tail()
            with open(self.path, "a", encoding="utf-8") as f:
                f.write(line)
                f.flush()
                os.fsync(f.fileno())
        except OSError as exc:
            raise AuditLogError(f"cohort audit log {self.path}: cannot write ({exc})") from None
        return full

    def _drop_torn_tail(self) -> None:
        """Cut a torn last line (a crash mid-write; never a returned answer) before appending."""
        if not self.path.exists():
            return
        with open(self.path, "rb+") as f:
            data = f.read()
            if data and not data.endswith(b"\n"):
                f.truncate(data.rfind(b"\n") + 1)

    def records(self) -> Iterator[dict[str, Any]]:
        if not self.path.exists():
            return
        try:
            lines = self.path.read_text(encoding="utf-8").split("\n")
        except OSError as exc:
            raise AuditLogError(f"cohort audit log {self.path}: cannot read ({exc})") from None
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                if not isinstance(record, dict) or not isinstance(record.get("seq"), int):
                    raise ValueError("not a record")
            except ValueError:
                if number == len(lines):
                    continue  # a torn final line (no newline yet): its answer was never returned
                raise AuditLogError(
                    f"cohort audit log {self.path}, line {number}: not a valid record; the "
                    "log is damaged and no answer may be given until an operator repairs it"
                ) from None
            yield record
