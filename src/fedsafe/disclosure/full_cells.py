"""Full cells: a count that is its whole row's or column's total (100%).

"All 40 women aged 45-49 in the practice had X" tells anyone who knows a woman of that age
there that she has X: class (attribute) disclosure without any small number. The SDC Handbook
(section 5.2, "group disclosure") and ONS guidance on zeros and full cells in frequency tables
treat a 100% cell like a zero: unsafe unless it is structural. fedsafe fails it unless the
policy allows full cells. The checker finds totals by name, as for secondary suppression.
"""

from __future__ import annotations

from collections.abc import Mapping

from fedsafe.disclosure.differencing import table_shape
from fedsafe.disclosure.findings import Finding, Status
from fedsafe.disclosure.reading import Table, parse_number

__all__ = ["full_cells"]


def full_cells(table: Table, kinds: Mapping[str, tuple[str, bool]]) -> list[Finding]:
    """FAIL findings for body cells equal (and > 0) to their row's or column's published
    total, in a table with at least two categories on that side."""
    shape = table_shape(table.columns, {c: kind for c, (kind, _) in kinds.items()})
    if shape is None:
        return []
    inferred = any(inferred for _, inferred in kinds.values())

    def value(row: int, column: str) -> object:
        return parse_number(table.columns[column][row])

    found: dict[tuple[int, str], str] = {}
    if shape.total_column is not None and len(shape.body_columns) >= 2:
        for row in shape.body_rows:
            total = value(row, shape.total_column)
            for column in shape.body_columns:
                cell = value(row, column)
                if isinstance(cell, int | float) and cell > 0 and cell == total:
                    found[(row, column)] = f"its row's total {shape.total_column!r}"
    if shape.total_row is not None and len(shape.body_rows) >= 2:
        for column in (*shape.body_columns, *filter(None, [shape.total_column])):
            total = value(shape.total_row, column)
            for row in shape.body_rows:
                cell = value(row, column)
                if isinstance(cell, int | float) and cell > 0 and cell == total:
                    found.setdefault((row, column), "its column's total")
    return [
        Finding(
            Status.FAIL,
            "full_cell",
            f"count {value(row, column)!r} is all of {what}: a 100% cell is class disclosure "
            "(everyone in the group has the attribute); redact it or merge categories",
            column=column,
            row=row + 1,
            line=table.line_of(row),
            inferred=inferred,
        )
        for (row, column), what in sorted(found.items(), key=lambda item: item[0])
    ]
