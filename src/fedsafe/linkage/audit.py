"""What each backend records about a linkage, and the check that every transfer was deleted.

Records go through the shared hash-chained log (:mod:`fedsafe.hashchain`): the request (the
declaration and the permission, as published), the key ids (never keys), the counts (cohort,
identifiers that failed normalisation, matched patients, rows, bytes), the payload's hash, and
the deletion with its time and reason. The log keeps exact counts, since it stays inside the
backend; :func:`public_summary` is what people are shown, with counts rounded.

:func:`transfer_problems` is the check the coordinator's public log will run per job: every
transfer (sent or received) must have a later ``deleted`` record for the same job.

Imports no engine, table or query model, so the coordinator can verify logs with it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fedsafe.hashchain import append_record, chain_problems, read_records

__all__ = ["LinkageAudit", "public_summary", "rounded", "transfer_problems", "verify_log"]

REQUESTED = "linkage requested"
KEYS = "linkage keys confirmed"
MATCHED = "linkage matched"
SENT = "linkage sent"
RECEIVED = "linkage received"
REFUSED = "linkage refused"
DELETED = "deleted"
TRANSFERS = (SENT, RECEIVED)
_COUNTS = (
    "cohort",
    "failed_normalisation",
    "matched",
    "population_considered",
    "rows",
    "bytes",
    "patients",
)


def rounded(count: int, base: int = 5) -> int:
    """A count as shown to people: to the nearest ``base`` (half up)."""
    return int((count + base // 2) // base * base)


@dataclass(frozen=True)
class LinkageAudit:
    """One backend's linkage records, appended to its audit log file."""

    log_file: Path
    backend: str

    def _write(self, event: str, job_id: str, project: str, **details: Any) -> None:
        append_record(
            self.log_file,
            actor=self.backend,
            event=event,
            details={"job_id": job_id, "project": project, **details},
        )

    def requested(
        self,
        job_id: str,
        project: str,
        *,
        role: str,
        declaration: Mapping[str, Any],
        permission: Mapping[str, Any] | None,
    ) -> None:
        self._write(
            REQUESTED,
            job_id,
            project,
            role=role,
            declaration=dict(declaration),
            permission=None if permission is None else dict(permission),
            columns={t: s["columns"] for t, s in declaration.get("tables", {}).items()},
        )

    def refused(self, job_id: str, project: str, reason: str) -> None:
        self._write(REFUSED, job_id, project, reason=reason)

    def keys(self, job_id: str, project: str, **key_ids: str) -> None:
        self._write(KEYS, job_id, project, **key_ids)

    def matched(self, job_id: str, project: str, **counts: int) -> None:
        self._write(MATCHED, job_id, project, **counts)

    def transferred(
        self, job_id: str, project: str, *, direction: str, payload_hash: str, **counts: int
    ) -> None:
        if direction not in ("sent", "received"):
            raise ValueError("direction is 'sent' or 'received'")
        event = SENT if direction == "sent" else RECEIVED
        self._write(event, job_id, project, payload_hash=payload_hash, **counts)

    def deleted(self, deletion: Any) -> None:
        """Record a :class:`fedsafe.linkage.vault.Deletion` (usable as a vault's on_deleted)."""
        self._write(
            DELETED,
            deletion.job_id,
            deletion.project,
            reason=deletion.reason,
            files=deletion.files,
            bytes=deletion.bytes,
            data_key_id=deletion.data_key_id,
            deleted_at=deletion.at.isoformat(),
        )


def verify_log(log_file: Path) -> list[str]:
    """Chain problems and unmatched transfers in one backend's log; empty means sound."""
    records, problems = read_records(log_file)
    return problems + chain_problems(records, Path(log_file).name) + transfer_problems(records)


def transfer_problems(records: Sequence[Mapping[str, Any]]) -> list[str]:
    """Each transfer without a later ``deleted`` record for the same job."""
    problems = []
    open_transfers: dict[str, Mapping[str, Any]] = {}
    for record in records:
        details = record.get("details") or {}
        job = str(details.get("job_id", ""))
        if record.get("event") in TRANSFERS:
            open_transfers.setdefault(job, record)
        elif record.get("event") == DELETED:
            open_transfers.pop(job, None)
    for job, record in open_transfers.items():
        problems.append(
            f"job {job}: {record.get('event')} at {record.get('at')} (record {record.get('seq')})"
            " has no deletion recorded after it"
        )
    return problems


def public_summary(records: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per job, what the public log shows: events in order, counts rounded, hashes and ids."""
    jobs: dict[str, dict[str, Any]] = {}
    for record in records:
        details = dict(record.get("details") or {})
        job = str(details.pop("job_id", ""))
        entry = jobs.setdefault(job, {"project": details.get("project"), "events": []})
        shown = {
            k: rounded(v) if k in _COUNTS and isinstance(v, int) else v
            for k, v in details.items()
            if k != "project"
        }
        entry["events"].append({"event": record.get("event"), "at": record.get("at"), **shown})
    for job, entry in jobs.items():
        entry["deleted_after_every_transfer"] = not transfer_problems(
            [r for r in records if (r.get("details") or {}).get("job_id") == job]
        )
    return jobs
