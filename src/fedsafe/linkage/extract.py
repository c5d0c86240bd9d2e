"""B's minimal extract: declared columns, matched patients, coarsened dates, shuffled rows.

The selection runs in B's own database (an Ibis expression: the matched patients are joined as
a small in-memory table, so nothing but the result leaves the engine). Each table sent has the
job's pseudonym in place of B's patient id, then exactly the declared columns; dates are
truncated to the declared precision and rows outside the declared date range are dropped; rows
are shuffled so their order says nothing about B's storage or its patient ids.

The payload is the tables as Arrow IPC streams in a small length-prefixed container, so A can
read them back without trusting anything but the sealed bytes.
"""

from __future__ import annotations

import io
import json
import secrets
import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import ibis
import numpy as np
import pyarrow as pa

from fedsafe.linkage.declaration import LinkageDeclaration, TableRequest
from fedsafe.linkage.errors import LinkageError

__all__ = [
    "Extract",
    "build_extract",
    "pack_extract",
    "patients_with_rows",
    "unpack_extract",
]

PSEUDONYM = "pseudonym"
_TRUNCATE = {"month": "M", "year": "Y"}


@dataclass(frozen=True)
class Extract:
    tables: Mapping[str, pa.Table]

    @property
    def rows(self) -> int:
        return sum(t.num_rows for t in self.tables.values())

    @property
    def patients(self) -> int:
        seen: set[str] = set()
        for table in self.tables.values():
            seen.update(table.column(PSEUDONYM).to_pylist())
        return len(seen)


def build_extract(
    tables: Mapping[str, ibis.Table],
    matched_ids: Sequence[int],
    matched_pseudonyms: Sequence[str],
    declaration: LinkageDeclaration,
) -> Extract:
    """Select, for each declared table, the declared columns of the matched patients.

    ``tables`` maps each qualified table name to B's logical table (``patient_id`` first);
    ``matched_ids[i]`` is B's patient whose pseudonym is ``matched_pseudonyms[i]``.
    """
    if len(matched_ids) != len(matched_pseudonyms):
        raise ValueError("one pseudonym per matched patient")
    matched = ibis.memtable(
        pa.table(
            {
                "patient_id": pa.array(matched_ids, pa.int64()),
                PSEUDONYM: pa.array(matched_pseudonyms, pa.string()),
            }
        )
    )
    out = {}
    for request in declaration.tables:
        if request.name not in tables:
            raise LinkageError(f"this backend does not provide {request.name}")
        out[request.name] = _one(tables[request.name], matched, request, declaration)
    return Extract(out)


def patients_with_rows(
    tables: Mapping[str, ibis.Table], declaration: LinkageDeclaration
) -> set[int]:
    """B's patients who have at least one row to send (in range, in a declared table).

    Only they need to take part in matching: a patient with nothing to send adds EC work to
    the PSI setup (which grows with B's side) and tells A nothing it could use.
    """
    found: set[int] = set()
    for request in declaration.tables:
        if request.name not in tables:
            raise LinkageError(f"this backend does not provide {request.name}")
        table = _in_range(tables[request.name], request, declaration)
        ids = table.select("patient_id").distinct().to_pyarrow().column("patient_id")
        found.update(ids.to_pylist())
    return found


def _in_range(
    table: ibis.Table, request: TableRequest, declaration: LinkageDeclaration
) -> ibis.Table:
    if declaration.date_range is not None and request.date_column is not None:
        column = table[request.date_column]
        table = table.filter(
            column.between(declaration.date_range.start, declaration.date_range.end)
        )
    return table


def _one(
    table: ibis.Table, matched: ibis.Table, request: TableRequest, declaration: LinkageDeclaration
) -> pa.Table:
    missing = [c for c in (*request.columns, "patient_id") if c not in table.columns]
    if missing:
        raise LinkageError(f"{request.name} on this backend lacks columns {', '.join(missing)}")
    table = _in_range(table, request, declaration)
    joined = table.inner_join(matched, "patient_id")
    selected = [joined[PSEUDONYM]]
    for name in request.columns:
        column = joined[name]
        if column.type().is_date() and declaration.coarsen_dates in _TRUNCATE:
            column = column.truncate(_TRUNCATE[declaration.coarsen_dates]).name(name)
        selected.append(column)
    result = joined.select(*selected).to_pyarrow()
    order = np.random.default_rng(secrets.randbits(128)).permutation(result.num_rows)
    shuffled = result.take(pa.array(order, pa.int64())).combine_chunks()
    assert shuffled.column_names == [PSEUDONYM, *request.columns]  # nothing else is ever sent
    return shuffled


def pack_extract(extract: Extract) -> bytes:
    """``len(header) | header (JSON: names and sizes) | one Arrow IPC stream per table``."""
    blobs = []
    for table in extract.tables.values():
        sink = io.BytesIO()
        with pa.ipc.new_stream(sink, table.schema) as writer:
            writer.write_table(table)
        blobs.append(sink.getvalue())
    header = json.dumps(
        [[name, len(blob)] for name, blob in zip(extract.tables, blobs, strict=True)]
    ).encode()
    return struct.pack(">I", len(header)) + header + b"".join(blobs)


def unpack_extract(data: bytes) -> Extract:
    try:
        (size,) = struct.unpack(">I", data[:4])
        entries = json.loads(data[4 : 4 + size])
        position = 4 + size
        tables = {}
        for name, length in entries:
            blob = data[position : position + length]
            position += length
            tables[str(name)] = pa.ipc.open_stream(blob).read_all()
    except (struct.error, ValueError, TypeError, pa.ArrowInvalid):
        raise LinkageError("the linked extract is not in the expected format") from None
    if position != len(data):
        raise LinkageError("the linked extract has trailing bytes")
    return Extract(tables)
