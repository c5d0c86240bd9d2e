"""Differencing across releases, in the airlock: every output is checked against every table
this backend has released before and against the other outputs of its own request, and what
leaves is recorded in the backend's release ledger.

Two tables that each pass the small-number rule can together reveal a small group ("all"
minus "males", a re-run with one more code, N vs N+1 months), so a file's own check is not
enough. The ledger (:mod:`fedsafe.disclosure.ledger`) lives in the airlock's folder
(``DIR/airlock/release-ledger.sqlite``), append-only and hash-chained; each recording is also an
event in the airlock's audit log.

The check runs three times, because the ledger can grow while a request waits: at submission
(a finding is shown to the author and the checkers, and a failing file needs a justification),
at approval and just before upload (a failure that nobody has seen yet stops the request).
Tables are named ``workspace/path (request id)`` so a finding names both files the way people
in the airlock know them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

from fedsafe.airlock.config import AirlockConfig
from fedsafe.airlock.files import OutputFile
from fedsafe.disclosure.errors import OutputFileError
from fedsafe.disclosure.findings import Finding, Status
from fedsafe.disclosure.ledger import LedgerEntry, ReleaseLedger, differencing_findings
from fedsafe.disclosure.reading import is_table_file
from fedsafe.disclosure.released import ReleasedTable, read_released_table
from fedsafe.disclosure.sidecar import read_sidecar

__all__ = [
    "RULE",
    "ReleaseLedger",
    "differencing",
    "new_failures",
    "open_ledger",
    "record",
    "released_table",
]

RULE = "differencing_across_releases"


def open_ledger(config: AirlockConfig) -> ReleaseLedger:
    """The backend's release ledger (created empty on first use; its chain verified)."""
    return ReleaseLedger(config.directory)


def label(output: OutputFile, request_id: str) -> str:
    return f"{output.workspace}/{output.path} (request {request_id})"


def released_table(
    config: AirlockConfig, output: OutputFile, request_id: str
) -> ReleasedTable | None:
    """``output`` as the ledger sees it, or None for a file without counts to compare (a text
    file, or an image whose sidecar records no histogram: the checker already sends those to
    review). A malformed table or sidecar raises OutputFileError."""
    path = output.absolute
    if not is_table_file(path):
        sidecar = read_sidecar(path)
        if sidecar is None or sidecar.histogram is None:
            return None
    table = read_released_table(path, backend=config.backend, project=output.workspace)
    return dataclasses.replace(table, file=label(output, request_id))


def differencing(
    config: AirlockConfig,
    ledger: ReleaseLedger,
    outputs: Sequence[OutputFile],
    request_id: str,
) -> dict[str, tuple[Finding, ...]]:
    """Findings per output path: each file against every earlier release of this backend over
    the same dimensions (other requests only: a file of this request recorded by an upload
    that was then interrupted is not its own earlier release) and against the request's other
    files, which leave together."""
    found: dict[str, tuple[Finding, ...]] = {}
    tables: dict[str, ReleasedTable] = {}
    for output in outputs:
        try:
            table = released_table(config, output, request_id)
        except OutputFileError as exc:
            found[output.path] = (
                Finding(Status.FAIL, RULE, f"cannot be compared with earlier releases: {exc}"),
            )
            continue
        if table is not None:
            tables[output.path] = table
    released = [
        entry.table
        for entry in ledger.entries()
        if entry.request != request_id and entry.table.backend == config.backend
    ]
    threshold = config.policy.suppress_at_or_below
    for path, table in tables.items():
        others = [t for p, t in tables.items() if p != path]
        earlier = [t for t in (*released, *others) if t.dimensions == table.dimensions]
        found[path] = differencing_findings(table, earlier, threshold)
    return found


def new_failures(
    findings: Sequence[Finding], seen: Sequence[Mapping[str, object]]
) -> list[Finding]:
    """The failing findings that are not among ``seen`` (the findings stored at submission,
    which the author justified and the checkers reviewed)."""
    reasons = {str(f.get("reason")) for f in seen if f.get("status") == Status.FAIL.value}
    return [f for f in findings if f.status is Status.FAIL and f.reason not in reasons]


def record(
    ledger: ReleaseLedger,
    table: ReleasedTable,
    *,
    sha256: str,
    released_by: str,
    request_id: str,
) -> LedgerEntry:
    """Record ``table`` as released (before it is sent, so nothing is ever out that the
    ledger does not know; a retried upload records an identical table again, which can never
    difference to a small cell)."""
    return ledger.record_table(
        table, file_sha256=sha256, released_by=released_by, request=request_id
    )
