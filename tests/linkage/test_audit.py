"""Linkage audit records: what is written, the transfer/deletion check, rounded public counts."""

from __future__ import annotations

import datetime
import json

import pytest

from fedsafe.linkage.audit import (
    LinkageAudit,
    public_summary,
    rounded,
    transfer_problems,
    verify_log,
)
from fedsafe.linkage.vault import Deletion

AT = datetime.datetime(2026, 6, 1, 12, tzinfo=datetime.UTC)


def deletion(job: str) -> Deletion:
    return Deletion("heart-study", job, "success", 2, 1234, "abcd", AT)


def records(audit: LinkageAudit) -> list[dict]:
    return [json.loads(line) for line in audit.log_file.read_text().splitlines()]


def full_job(audit: LinkageAudit, job: str, *, delete: bool = True) -> None:
    audit.requested(
        job,
        "heart-study",
        role="requester",
        declaration={
            "backend": "hospital",
            "tables": {"tpp.apcs": {"columns": ["admission_date"]}},
        },
        permission={"project": "heart-study"},
    )
    audit.keys(job, "heart-study", linkage_key_id="k1", job_public_key_id="p1")
    audit.matched(job, "heart-study", cohort=1203, failed_normalisation=7, matched=388)
    audit.transferred(
        job,
        "heart-study",
        direction="received",
        payload_hash="ff" * 32,
        rows=912,
        bytes=40961,
        patients=388,
    )
    if delete:
        audit.deleted(deletion(job))


def test_a_complete_job_records_each_step_and_passes_the_check(tmp_path):
    audit = LinkageAudit(tmp_path / "linkage.jsonl", "primary")
    full_job(audit, "job-1")
    written = records(audit)
    assert [r["event"] for r in written] == [
        "linkage requested",
        "linkage keys confirmed",
        "linkage matched",
        "linkage received",
        "deleted",
    ]
    assert written[0]["details"]["columns"] == {"tpp.apcs": ["admission_date"]}
    assert written[3]["details"]["payload_hash"] == "ff" * 32
    assert written[4]["details"]["deleted_at"] == AT.isoformat()
    assert all(r["actor"] == "primary" for r in written)
    assert verify_log(audit.log_file) == []


def test_a_transfer_without_a_deletion_is_reported(tmp_path):
    audit = LinkageAudit(tmp_path / "linkage.jsonl", "primary")
    full_job(audit, "job-1")
    full_job(audit, "job-2", delete=False)
    (problem,) = verify_log(audit.log_file)
    assert problem.startswith("job job-2: linkage received at ")
    assert "has no deletion recorded after it" in problem


def test_a_deletion_before_the_transfer_does_not_count():
    records_ = [
        {"seq": 1, "event": "deleted", "details": {"job_id": "job-1"}},
        {"seq": 2, "event": "linkage sent", "details": {"job_id": "job-1"}},
    ]
    assert len(transfer_problems(records_)) == 1


def test_removing_the_deletion_record_from_the_log_is_caught(tmp_path):
    audit = LinkageAudit(tmp_path / "linkage.jsonl", "primary")
    full_job(audit, "job-1")
    audit.matched("job-2", "heart-study", cohort=1)  # a later record, so the removal is inside
    lines = audit.log_file.read_text().splitlines()
    del lines[4]
    audit.log_file.write_text("\n".join(lines) + "\n")
    problems = verify_log(audit.log_file)
    assert any("has no deletion recorded" in p for p in problems)
    assert any("does not follow the record before it" in p for p in problems)


def test_the_public_summary_rounds_counts_and_says_whether_every_transfer_was_deleted(tmp_path):
    audit = LinkageAudit(tmp_path / "linkage.jsonl", "primary")
    full_job(audit, "job-1")
    full_job(audit, "job-2", delete=False)
    summary = public_summary(records(audit))
    matched = next(e for e in summary["job-1"]["events"] if e["event"] == "linkage matched")
    assert (matched["cohort"], matched["failed_normalisation"], matched["matched"]) == (
        1205,
        5,
        390,
    )
    received = next(e for e in summary["job-1"]["events"] if e["event"] == "linkage received")
    assert received["payload_hash"] == "ff" * 32
    assert summary["job-1"]["deleted_after_every_transfer"] is True
    assert summary["job-2"]["deleted_after_every_transfer"] is False


@pytest.mark.parametrize(
    ("count", "shown"), [(0, 0), (2, 0), (3, 5), (7, 5), (8, 10), (1203, 1205)]
)
def test_rounding_to_the_nearest_five(count, shown):
    assert rounded(count) == shown


def test_a_transfer_direction_is_sent_or_received(tmp_path):
    audit = LinkageAudit(tmp_path / "linkage.jsonl", "primary")
    with pytest.raises(ValueError):
        audit.transferred("job-1", "p", direction="lost", payload_hash="")
