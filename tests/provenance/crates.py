"""Records of the four kinds of request the crates must describe, made directly."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fedsafe.provenance.records import (
    DisclosureDecision,
    JobRecord,
    PersonRecord,
    ReleasedFileRecord,
    RequestRecord,
)

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
COMMIT = "0123456789abcdef0123456789abcdef01234567"


def record(jobs: list[JobRecord], cancelled: bool = False, uid: str = "") -> RequestRecord:
    return RequestRecord(
        request_id=7,
        crate_uuid=uid or "9796155a-fe44-4614-89b8-71945f718ffb",
        base_url="https://coordinator.example.org/",
        organisation="Example federation operator",
        project="diabetes",
        project_id=3,
        workspace="hba1c",
        repo_url="https://example.org/hba1c.git",
        branch="main",
        commit=COMMIT,
        actions=("generate", "model"),
        requested_backends="all",
        reason="HbA1c trends by region",
        person=PersonRecord("rita", "Rita Researcher", "University of Example"),
        created_at=T0,
        jobs=tuple(jobs),
        cancelled_at=T0 + timedelta(minutes=3) if cancelled else None,
    )


def job(backend: str, action: str, state: str, leased: bool = True, **kw) -> JobRecord:
    started = T0 + timedelta(minutes=1) if state != "pending" and leased else None
    finished = T0 + timedelta(minutes=9) if state in {"succeeded", "failed", "cancelled"} else None
    return JobRecord(backend, action, state, started, finished, leased=leased, **kw)


def succeeded() -> RequestRecord:
    return record(
        [
            job(b, a, "succeeded", exit_code=0)
            for b in ("north", "south")
            for a in ("generate", "model")
        ]
    )


def failed() -> RequestRecord:
    return record(
        [
            job("north", "generate", "succeeded", exit_code=0),
            job("north", "model", "failed", exit_code=1, error="KeyError: column 'x'"),
            job("south", "generate", "succeeded", exit_code=0),
            job("south", "model", "succeeded", exit_code=0),
        ]
    )


def cancelled() -> RequestRecord:
    return record(
        [
            job("north", "generate", "cancelled"),
            job("north", "model", "cancelled", leased=False),
            job("south", "generate", "cancelled", leased=False),
            job("south", "model", "cancelled", leased=False),
        ],
        cancelled=True,
    )


TABLE = b"region,mean_hba1c\nnorth,48\n"
REJECTED = b"region,count\nisle,3\n"


def partly_released() -> tuple[RequestRecord, list[ReleasedFileRecord], list[DisclosureDecision]]:
    """Both backends succeeded; north released one table, the reviewer rejected the other
    (which a careless caller still passes in as released), south's review is pending."""
    import hashlib

    released = [
        ReleasedFileRecord("north", "output/table.csv", hashlib.sha256(TABLE).hexdigest(), TABLE),
        ReleasedFileRecord(
            "north", "output/small_counts.csv", hashlib.sha256(REJECTED).hexdigest(), REJECTED
        ),
    ]
    decisions = [
        DisclosureDecision("north", "output/table.csv", True, T0 + timedelta(hours=2), ""),
        DisclosureDecision("north", "output/table.csv", True, T0 + timedelta(hours=3), "ann"),
        DisclosureDecision(
            "north", "output/small_counts.csv", False, T0 + timedelta(hours=3), "ann"
        ),
    ]
    return succeeded(), released, decisions
