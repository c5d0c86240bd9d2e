"""The local audit log: append-only, read back as the ledger, never silently forgetting."""

from __future__ import annotations

import pytest

from fedsafe.cohort.audit import AuditLog
from fedsafe.cohort.errors import AuditLogError


def test_appends_with_sequence_numbers(tmp_path):
    log = AuditLog(tmp_path / "a" / "audit.jsonl")
    log.append({"kind": "count", "raw_count": 3})
    log.append({"kind": "count", "raw_count": 4})
    assert [(r["seq"], r["raw_count"]) for r in log.records()] == [(1, 3), (2, 4)]


def test_a_torn_last_line_is_skipped_and_closed(tmp_path):
    log = AuditLog(tmp_path / "audit.jsonl")
    log.append({"kind": "count"})
    with open(log.path, "a") as f:
        f.write('{"seq": 2, "kin')  # crash mid-write: that answer was never returned
    assert [r["seq"] for r in log.records()] == [1]
    log.append({"kind": "count"})
    assert [r["seq"] for r in log.records()] == [1, 2]


def test_a_damaged_line_stops_everything(tmp_path):
    log = AuditLog(tmp_path / "audit.jsonl")
    log.append({"kind": "count"})
    with open(log.path, "a") as f:
        f.write("garbage\n")
    with pytest.raises(AuditLogError, match="line 2"):
        list(log.records())
    with pytest.raises(AuditLogError):
        log.append({"kind": "count"})
