"""Checking a finished table for cells that its totals give away, from the file alone.

Whether a suppressed cell can be recovered from published totals depends only on *which*
cells are hidden, not on the values (see :mod:`fedsafe.disclosure.secondary`: a hidden cell is
recoverable exactly when it is a bridge of the row/column graph). So the checker can verify
secondary suppression itself instead of taking a sidecar's word for it, for any table it can
read as rows x columns with totals:

* one label column naming the rows, of which at most one row is labelled as a total;
* every other column a count column, of which at most one is named as a total.

Totals the file does not publish are treated as hidden too, which is exact: an unpublished
total is just one more unknown. The analysis assumes the rows and columns add up to the totals
(before rounding); a table whose "Total" is something else is outside it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from fedsafe.disclosure.secondary import Cell, determined_cells

__all__ = ["TOTAL_NAMES", "TableShape", "recoverable_cells", "table_shape"]

TOTAL_NAMES = frozenset({"total", "totals", "all", "overall"})


@dataclass(frozen=True)
class TableShape:
    """Where a file's rows, columns and totals are."""

    label_column: str
    body_rows: tuple[int, ...]  # file row indexes (from 0) of the body, in order
    total_row: int | None
    body_columns: tuple[str, ...]
    total_column: str | None


def table_shape(
    columns: Mapping[str, Sequence[object]], kinds: Mapping[str, str]
) -> TableShape | None:
    """The file read as a table with totals, or None when it is not one (see module doc)."""
    labels = [name for name, kind in kinds.items() if kind == "label"]
    counts = [name for name, kind in kinds.items() if kind == "count"]
    if len(labels) != 1 or len(labels) + len(counts) != len(kinds) or not counts:
        return None
    label = labels[0]
    total_rows = [
        i
        for i, value in enumerate(columns[label])
        if isinstance(value, str) and value.strip().lower() in TOTAL_NAMES
    ]
    total_columns = [c for c in counts if c.strip().lower() in TOTAL_NAMES]
    if len(total_rows) > 1 or len(total_columns) > 1:
        return None
    total_row = total_rows[0] if total_rows else None
    total_column = total_columns[0] if total_columns else None
    return TableShape(
        label_column=label,
        body_rows=tuple(i for i in range(len(columns[label])) if i != total_row),
        total_row=total_row,
        body_columns=tuple(c for c in counts if c != total_column),
        total_column=total_column,
    )


def recoverable_cells(shape: TableShape, hidden: set[tuple[int, str]]) -> list[tuple[int, str]]:
    """The hidden cells (file row index, column name) that the published totals determine."""
    rows = [*shape.body_rows, shape.total_row]
    columns = [*shape.body_columns, shape.total_column]
    grid_hidden: set[Cell] = set()
    for r, row in enumerate(rows):
        for c, column in enumerate(columns):
            if row is None or column is None or (row, column) in hidden:
                grid_hidden.add((r, c))
    found = []
    for r, c in sorted(determined_cells(grid_hidden)):
        row, column = rows[r], columns[c]
        if row is not None and column is not None:
            found.append((row, column))
    return found
