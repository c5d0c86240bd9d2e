"""Pooling count and measures tables across backends, with the disclosure rules re-applied.

Each backend released the same table (same path, same columns, a sidecar saying which columns
are counts and which are labels). Rows are matched on their label columns and counts summed;
the combined table is then protected again with the policy (suppression, rounding, ratio
recomputed from the protected counts) and written with its own sidecar, so the output checker
recognises it as safe by construction.

Why this cannot reveal a suppressed cell: a combined cell is a sum of *released* values only.
Where any backend's cell was redacted the combined cell is redacted too (never the sum of the
others, which next to a total would let anyone subtract their way to the redacted value; see
``tests/federation/test_pooling_attacks.py``). So every combined number is a function of what
the backends already published, and re-protecting it can only hide more.

A row that a backend's measures table leaves out has no patient in its denominator (see
``docs/measures.md``), so it counts as 0; a row missing from any other table is unknown, so the
combined cell is redacted.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

from fedsafe.disclosure import DisclosurePolicy, protect_counts, protect_measure_table
from fedsafe.disclosure.errors import OutputFileError
from fedsafe.disclosure.reading import Redacted, parse_number, read_table
from fedsafe.disclosure.record import count_rules, make_record
from fedsafe.disclosure.sidecar import read_sidecar
from fedsafe.federation.errors import ReleasedFilesError

__all__ = ["PooledTable", "SkipTable", "pool_tables"]

MEASURE_COUNTS = ("numerator", "denominator")
RATIO = "ratio"
_POOLABLE_KINDS = ("count", "label", "derived")


class SkipTable(Exception):
    """This file is not a table the combine step can pool; the reason goes in the manifest."""


@dataclass(frozen=True)
class PooledTable:
    """A combined, re-protected table, its sidecar record, and what was withheld and why."""

    table: pa.Table
    record: dict[str, Any]
    is_measures: bool
    withheld_by_backend: int  # combined cells redacted because a backend redacted its cell
    unreported: int  # combined cells redacted because a backend's table lacked the row


@dataclass(frozen=True)
class _Input:
    backend: str
    path: Path
    columns: dict[str, list[object]]
    lines: list[int] | None
    kinds: Mapping[str, str]


def pool_tables(
    files: Mapping[str, Path], policy: DisclosurePolicy, *, relative: str
) -> PooledTable:
    """Pool the tables released as ``relative`` by each backend (``files``: backend -> path).

    Raises SkipTable for files that are not poolable count tables, and ReleasedFilesError when
    the backends' files disagree or hold values that are not counts.
    """
    inputs = [_read(backend, path) for backend, path in files.items()]
    first = inputs[0]
    for other in inputs[1:]:
        if list(other.columns) != list(first.columns) or dict(other.kinds) != dict(first.kinds):
            raise ReleasedFilesError(
                f"{relative}: {other.path} has columns {_describe(other)} but {first.path} has "
                f"{_describe(first)}; each backend must release the same table"
            )
    kinds = first.kinds
    counts = [c for c, k in kinds.items() if k == "count"]
    labels = [c for c, k in kinds.items() if k == "label"]
    derived = [c for c, k in kinds.items() if k == "derived"]
    is_measures = set(MEASURE_COUNTS) <= set(counts) and derived in ([], [RATIO])
    if not counts:
        raise SkipTable("its sidecar declares no count columns")
    if derived and not is_measures:
        raise SkipTable(
            f"derived column{'s' if len(derived) > 1 else ''} {', '.join(derived)} cannot be "
            "recomputed after pooling (only a measures table's ratio can)"
        )
    keyed = [_rows_by_key(one, labels, counts) for one in inputs]
    keys: list[tuple[str, ...]] = []
    for rows in keyed:
        keys.extend(k for k in rows if k not in keys)
    columns: dict[str, list[Any]] = {c: [] for c in first.columns if c not in derived}
    withheld = unreported = 0
    for key in keys:
        for label, value in zip(labels, key, strict=True):
            columns[label].append(value)
        for count in counts:
            total: int | None = 0
            for rows in keyed:
                row = rows.get(key)
                value = (0 if is_measures else None) if row is None else row[count]
                if value is None:
                    if total is not None:
                        if row is None:
                            unreported += 1
                        else:
                            withheld += 1
                    total = None
                elif total is not None:
                    total += value
            columns[count].append(total)
    arrays = {
        name: pa.array(values, type=pa.int64() if name in counts else pa.string())
        for name, values in columns.items()
    }
    table = pa.table(arrays)
    if is_measures:
        protected, record = protect_measure_table(table, policy)
        order = [c for c in first.columns if c in protected.column_names]
        order += [c for c in protected.column_names if c not in order]
        protected = protected.select(order)
    else:
        protected = table
        for name in counts:
            values = protect_counts(table.column(name).to_pylist(), policy)
            index = protected.column_names.index(name)
            protected = protected.set_column(index, name, pa.array(values, type=pa.int64()))
        record = make_record(dict(kinds), count_rules(counts, policy), policy)
    return PooledTable(protected, record, is_measures, withheld, unreported)


def _read(backend: str, path: Path) -> _Input:
    if not path.name.lower().endswith(".csv"):
        raise SkipTable("only CSV tables are pooled")
    try:
        sidecar = read_sidecar(path)
    except OutputFileError as exc:
        raise ReleasedFilesError(f"{backend}: {exc}") from None
    if sidecar is None:
        raise SkipTable(
            "it has no .disclosure.json sidecar, so which columns are counts is not known"
        )
    try:
        table = read_table(path)
    except OutputFileError as exc:
        raise ReleasedFilesError(str(exc)) from None
    kinds = {name: sidecar.columns.get(name, "") for name in table.columns}
    unknown = [n for n, k in kinds.items() if k not in _POOLABLE_KINDS]
    if unknown:
        raise SkipTable(
            f"column{'s' if len(unknown) > 1 else ''} {', '.join(unknown)} "
            "cannot be pooled (only count, label and a measures ratio can)"
        )
    return _Input(backend, path, table.columns, table.lines, kinds)


def _rows_by_key(
    one: _Input, labels: Sequence[str], counts: Sequence[str]
) -> dict[tuple[str, ...], dict[str, int | None]]:
    rows: dict[tuple[str, ...], dict[str, int | None]] = {}
    size = len(next(iter(one.columns.values()), []))
    for index in range(size):
        line = one.lines[index] if one.lines else index + 2
        key = tuple(str(one.columns[label][index]) for label in labels)
        if key in rows:
            raise ReleasedFilesError(
                f"{one.path}, line {line}: the labels {', '.join(labels) or '(none)'} repeat an "
                "earlier row, so its counts cannot be matched with other backends'"
            )
        values: dict[str, int | None] = {}
        for count in counts:
            value = parse_number(one.columns[count][index])
            if isinstance(value, Redacted):
                values[count] = None
            elif isinstance(value, int) and value >= 0:
                values[count] = value
            else:
                raise ReleasedFilesError(
                    f"{one.path}, line {line}, column {count!r}: expected a count (a whole "
                    f"number >= 0) or an empty redacted cell, got {one.columns[count][index]!r}"
                )
        rows[key] = values
    return rows


def _describe(one: _Input) -> str:
    return ", ".join(f"{c} ({one.kinds[c]})" for c in one.columns)
