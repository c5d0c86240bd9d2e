"""Protecting a measures table (numerator, denominator, ratio per row) before it is written.

Numerator and denominator are each suppressed then rounded; the ratio is then recomputed from
the protected values, never kept from the raw ones, because a ratio of raw counts next to
rounded counts gives the raw counts back (3/7 = 0.4286 identifies both).
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from fedsafe.disclosure.counts import check_count, protect_count
from fedsafe.disclosure.errors import TableError
from fedsafe.disclosure.policy import DisclosurePolicy
from fedsafe.disclosure.record import count_rules, derived_rule, make_record

__all__ = ["protect_measure_table"]


def protect_measure_table(
    table: pa.Table,
    policy: DisclosurePolicy,
    *,
    numerator: str = "numerator",
    denominator: str = "denominator",
    ratio: str = "ratio",
) -> tuple[pa.Table, dict[str, Any]]:
    """The table with counts protected and the ratio recomputed, and the record of rules.

    A numerator that comes out equal to its denominator is redacted unless the policy allows
    full cells. The ratio is null where either count is suppressed (or was null) and where the
    protected denominator is 0. Other columns (measure name, interval, groups) pass through
    unchanged and are recorded as labels. The table's column order is kept; the ratio column is
    added at the end if the table had none. Bad input (a missing or non-integer count column, a
    negative count) raises a TableError naming the column and row, and nothing is returned.
    """
    for name in (numerator, denominator):
        if name not in table.column_names:
            raise TableError(
                f"measure table has no column {name!r}; its columns are "
                f"{', '.join(table.column_names)}"
            )
        column_type = table.schema.field(name).type
        if not (pa.types.is_integer(column_type) or pa.types.is_null(column_type)):
            raise TableError(
                f"measure table column {name!r} must hold whole-number counts, "
                f"but its type is {column_type}"
            )
    protected = {
        name: [
            protect_count(check_count(v, where=f"column {name!r}, row {row}"), policy)
            for row, v in enumerate(table.column(name).to_pylist())
        ]
        for name in (numerator, denominator)
    }
    if not policy.allow_full_cells:
        # A numerator equal to its denominator says everyone in the group has the attribute
        # (class disclosure, #16); with rounding it also fails the checker, so redact it.
        protected[numerator] = [
            None if n is not None and n > 0 and n == d else n
            for n, d in zip(protected[numerator], protected[denominator], strict=True)
        ]
    ratios = [
        None if n is None or d is None or d == 0 else n / d
        for n, d in zip(protected[numerator], protected[denominator], strict=True)
    ]
    result = table
    for name in (numerator, denominator):
        index = result.column_names.index(name)
        result = result.set_column(index, name, pa.array(protected[name], type=pa.int64()))
    ratio_array = pa.array(ratios, type=pa.float64())
    if ratio in result.column_names:
        result = result.set_column(result.column_names.index(ratio), ratio, ratio_array)
    else:
        result = result.append_column(ratio, ratio_array)
    kinds = {name: "label" for name in result.column_names}
    kinds.update({numerator: "count", denominator: "count", ratio: "derived"})
    rules = [
        *count_rules([numerator, denominator], policy),
        derived_rule(ratio, [numerator, denominator], "numerator / denominator"),
    ]
    return result, make_record(kinds, rules, policy)
