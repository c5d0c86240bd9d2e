"""Protecting a frequency table that is published with its totals.

Primary suppression hides small counts (the totals too: a total is a count like any other);
secondary suppression (:mod:`fedsafe.disclosure.secondary`) then hides enough further cells
that the hidden ones cannot be worked out from the totals; finally every published value is
rounded. Totals are computed from the true counts before any of this, so the published totals
are the rounded true totals, not sums of rounded cells.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from fedsafe.disclosure.counts import check_count, is_suppressed, round_count
from fedsafe.disclosure.errors import TableError
from fedsafe.disclosure.policy import DisclosurePolicy
from fedsafe.disclosure.secondary import Cell, complementary_cells

__all__ = ["ProtectedCrosstab", "protect_crosstab", "protect_with_total"]


@dataclass(frozen=True)
class ProtectedCrosstab:
    """A protected table with totals. ``None`` marks a suppressed value.

    ``primary`` and ``complementary`` give suppressed positions as (row, column) in the table
    with totals, where row ``len(cells)`` is the totals row and column ``len(cells[0])`` the
    totals column.
    """

    cells: tuple[tuple[int | None, ...], ...]
    row_totals: tuple[int | None, ...]
    column_totals: tuple[int | None, ...]
    grand_total: int | None
    primary: frozenset[Cell]
    complementary: frozenset[Cell]

    def grid(self) -> list[list[int | None]]:
        """The table with its totals as one grid: totals row last, totals column last."""
        body = [[*row, total] for row, total in zip(self.cells, self.row_totals, strict=True)]
        return [*body, [*self.column_totals, self.grand_total]]


def protect_crosstab(
    cells: Sequence[Sequence[object]], policy: DisclosurePolicy
) -> ProtectedCrosstab:
    """Suppress, secondarily suppress (if the policy says so) and round a table of counts.

    Unless the policy allows full cells, a cell that comes out equal to its row's or column's
    total (100%, after rounding) is suppressed as well, and the protection run again.
    """
    counts = _check_rectangle(cells)
    grid = [[*row, sum(row)] for row in counts]
    grid.append([sum(column) for column in zip(*grid, strict=True)])
    primary = {
        (r, c)
        for r, row in enumerate(grid)
        for c, value in enumerate(row)
        if is_suppressed(value, policy)
    }
    while True:
        extra = complementary_cells(grid, primary) if policy.secondary_suppression else set()
        hidden = primary | extra
        published = [
            [None if (r, c) in hidden else round_count(v, policy) for c, v in enumerate(row)]
            for r, row in enumerate(grid)
        ]
        full = set() if policy.allow_full_cells else _full_cells(published)
        if not full:
            break
        primary |= full  # a 100% cell is class disclosure (#16): suppress it too, and again
    return ProtectedCrosstab(
        cells=tuple(tuple(row[:-1]) for row in published[:-1]),
        row_totals=tuple(row[-1] for row in published[:-1]),
        column_totals=tuple(published[-1][:-1]),
        grand_total=published[-1][-1],
        primary=frozenset(primary),
        complementary=frozenset(extra),
    )


def _full_cells(published: list[list[int | None]]) -> set[Cell]:
    """Published cells (> 0) equal to their published row or column total, where that line
    has at least two categories: what the checker fails as full cells."""
    rows, columns = len(published) - 1, len(published[0]) - 1
    found = set()
    for r in range(rows + 1):
        for c in range(columns + 1):
            value = published[r][c]
            if value is None or value == 0 or (r == rows and c == columns):
                continue
            if r < rows and c < columns and columns >= 2 and value == published[r][columns]:
                found.add((r, c))
            if r < rows and rows >= 2 and value == published[rows][c]:
                found.add((r, c))
    return found


def protect_with_total(
    values: Sequence[object], policy: DisclosurePolicy
) -> tuple[list[int | None], int | None]:
    """Counts of one variable's categories and their total, protected together.

    A single suppressed category next to a published total would be the total minus the rest,
    so this is the one-column case of :func:`protect_crosstab`.
    """
    table = protect_crosstab([[v] for v in values], policy)
    return [row[0] for row in table.cells], table.grand_total


def _check_rectangle(cells: Sequence[Sequence[object]]) -> list[list[int]]:
    rows = [list(row) for row in cells]
    if not rows or not rows[0]:
        raise TableError("a table to protect needs at least one row and one column")
    width = len(rows[0])
    counts: list[list[int]] = []
    for r, row in enumerate(rows):
        if len(row) != width:
            raise TableError(f"row {r} has {len(row)} cells; row 0 has {width}")
        checked = [check_count(v, where=f"row {r}, column {c}") for c, v in enumerate(row)]
        if any(v is None for v in checked):
            raise TableError(f"row {r} has a missing count; a table with totals needs them all")
        counts.append([v for v in checked if v is not None])
    return counts
