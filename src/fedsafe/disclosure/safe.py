"""Safe helpers for analysis code: counts, crosstabs and summary tables that come out
protected, with a sidecar recording the rules that ran.

An analysis script inside a backend calls these instead of ``value_counts`` or
``pandas.crosstab``; the output then passes the checker as safe by construction instead of
waiting for a person to redact it. Each helper takes one value per patient (a list, a pandas
Series: any sequence of plain Python or NumPy values), builds the table, applies the policy
and writes the file and its sidecar. Without a ``policy`` argument they use the backend's
(:meth:`DisclosurePolicy.from_environment`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Sequence
from pathlib import Path

import pyarrow as pa

from fedsafe.disclosure.counts import protect_count
from fedsafe.disclosure.crosstab import protect_crosstab
from fedsafe.disclosure.errors import TableError
from fedsafe.disclosure.magnitude import check_magnitude_cell
from fedsafe.disclosure.policy import DisclosurePolicy
from fedsafe.disclosure.record import count_rules, make_record, secondary_rule
from fedsafe.disclosure.writing import write_protected_table

__all__ = ["TOTAL_LABEL", "safe_counts", "safe_crosstab", "safe_summary_table"]

TOTAL_LABEL = "Total"


def safe_counts(
    values: Sequence[Hashable],
    output: Path | str,
    *,
    name: str = "category",
    policy: DisclosurePolicy | None = None,
) -> pa.Table:
    """How many of ``values`` fall in each category, with a Total row, protected and written.

    Written as two columns, ``name`` and ``n``. Categories are sorted by their text. The total
    is the true total, protected like the rest, with secondary suppression so a redacted
    category is not the total minus the others.
    """
    return _frequency_table(
        values, None, output, name, policy or DisclosurePolicy.from_environment()
    )


def safe_crosstab(
    rows: Sequence[Hashable],
    columns: Sequence[Hashable],
    output: Path | str,
    *,
    row_name: str = "row",
    policy: DisclosurePolicy | None = None,
) -> pa.Table:
    """A two-way frequency table of ``rows`` by ``columns`` with row and column totals.

    Written wide: the first column holds the ``row_name`` categories (and ``Total`` last), then
    one column per ``columns`` category, then ``Total``. Cells are suppressed, secondarily
    suppressed so totals give nothing away, and rounded.
    """
    if len(rows) != len(columns):
        raise TableError(f"rows has {len(rows)} values but columns has {len(columns)}")
    return _frequency_table(
        rows, columns, output, row_name, policy or DisclosurePolicy.from_environment()
    )


def _frequency_table(
    rows: Sequence[Hashable],
    columns: Sequence[Hashable] | None,
    output: Path | str,
    row_name: str,
    policy: DisclosurePolicy,
) -> pa.Table:
    """One- (``columns`` None) or two-way table, protected with its totals, and written."""
    row_keys = _categories(rows, "rows")
    if columns is None:
        column_keys: list[Hashable] = [None]
        headers = ["n"]  # one column; its total is the Total row
        pairs = Counter((r, None) for r in rows)
    else:
        column_keys = _categories(columns, "columns")
        headers = [*(str(c) for c in column_keys), TOTAL_LABEL]
        pairs = Counter(zip(rows, columns, strict=True))
    if row_name in headers or len(set(headers)) != len(headers):
        raise TableError(f"column names {headers} clash with each other or with {row_name!r}")
    cells = [[pairs[(r, c)] for c in column_keys] for r in row_keys]
    protected = protect_crosstab(cells, policy) if cells and column_keys else None
    empty = [protect_count(0, policy)] * (len(column_keys) + 1)  # no patients: a zero total
    grid = protected.grid() if protected else [empty]
    data: dict[str, pa.Array] = {
        row_name: pa.array([*(str(r) for r in row_keys), TOTAL_LABEL], pa.string())
    }
    for index, header in enumerate(headers):
        data[header] = pa.array([line[index] for line in grid], pa.int64())
    table = pa.table(data)
    rules = count_rules(headers, policy)
    if policy.secondary_suppression:
        complementary = len(protected.complementary) if protected else 0
        rules.insert(1, secondary_rule(headers, complementary))
    kinds = {row_name: "label", **dict.fromkeys(headers, "count")}
    write_protected_table(table, output, make_record(kinds, rules, policy))
    return table


def safe_summary_table(
    groups: Sequence[Hashable],
    values: Sequence[float],
    output: Path | str,
    *,
    group_name: str = "group",
    value_name: str = "value",
    policy: DisclosurePolicy | None = None,
) -> pa.Table:
    """Per group: how many patients (protected count) and the mean of ``values``.

    The mean is published only where the group's values pass the threshold, (n, k) and p%
    rules. The sum is not published: beside the mean it would give the unrounded count back.
    Missing values (None) are left out of the mean but counted in ``n``.
    """
    policy = policy or DisclosurePolicy.from_environment()
    if len(groups) != len(values):
        raise TableError(f"groups has {len(groups)} values but values has {len(values)}")
    mean_name = f"mean_{value_name}"
    if group_name in ("n", mean_name):
        raise TableError(f"group_name {group_name!r} clashes with the column 'n' or {mean_name!r}")
    keys = _categories(groups, "groups")
    by_group: dict[Hashable, list[float]] = {k: [] for k in keys}
    sizes = Counter(groups)
    for group, value in zip(groups, values, strict=True):
        if value is not None:
            by_group[group].append(value)
    means: list[float | None] = []
    for key in keys:
        contributions = by_group[key]
        verdict = check_magnitude_cell(
            contributions, policy, where=f"{group_name} {key!r}, {value_name}"
        )
        means.append(sum(contributions) / len(contributions) if verdict.safe else None)
    table = pa.table(
        {
            group_name: pa.array([str(k) for k in keys], pa.string()),
            "n": pa.array([protect_count(sizes[k], policy) for k in keys], pa.int64()),
            mean_name: pa.array(means, pa.float64()),
        }
    )
    rules = [
        *count_rules(["n"], policy),
        {
            "rule": "dominance",
            "columns": [mean_name],
            "threshold_contributors_above": policy.suppress_at_or_below,
            "n": policy.dominance_n,
            "k": policy.dominance_k,
            "p_percent": policy.p_percent,
        },
    ]
    kinds = {group_name: "label", "n": "count", mean_name: "magnitude"}
    write_protected_table(table, output, make_record(kinds, rules, policy))
    return table


def _categories(values: Sequence[Hashable], what: str) -> list[Hashable]:
    distinct = set(values)
    if None in distinct:
        raise TableError(f"{what} contains a missing value; give it a category of its own")
    return sorted(distinct, key=str)
