"""Safe helpers for analysis code: counts, crosstabs and summary tables that come out
protected, with a sidecar recording the rules that ran.

An analysis script inside a backend calls these instead of ``value_counts`` or
``pandas.crosstab``; the output then passes the checker as safe by construction instead of
waiting for a person to redact it. Each helper takes one value per patient (a list, a pandas
Series: any sequence of plain Python or NumPy values), builds the table, applies the policy
and writes the file and its sidecar. Without a ``policy`` argument they use the backend's
(:meth:`DisclosurePolicy.from_environment`). ``filters`` (e.g. ``{"sex": ["M"]}``) records the
population the table counts, for the release ledger's differencing check.
"""

from __future__ import annotations

import math
import re
import statistics as statistics_module
from collections import Counter
from collections.abc import Hashable, Mapping, Sequence
from numbers import Real
from pathlib import Path
from typing import Any

import pyarrow as pa

from fedsafe.disclosure.counts import protect_count
from fedsafe.disclosure.crosstab import protect_crosstab
from fedsafe.disclosure.errors import TableError
from fedsafe.disclosure.histogram import safe_histogram
from fedsafe.disclosure.magnitude import check_magnitude_cell
from fedsafe.disclosure.order_statistics import percentile, side_counts, statistic_of
from fedsafe.disclosure.policy import DisclosurePolicy
from fedsafe.disclosure.record import count_rules, make_record, secondary_rule
from fedsafe.disclosure.writing import write_protected_table

__all__ = ["TOTAL_LABEL", "safe_counts", "safe_crosstab", "safe_histogram", "safe_summary_table"]

TOTAL_LABEL = "Total"


def safe_counts(
    values: Sequence[Hashable],
    output: Path | str,
    *,
    name: str = "category",
    policy: DisclosurePolicy | None = None,
    filters: Mapping[str, Any] | None = None,
) -> pa.Table:
    """How many of ``values`` fall in each category, with a Total row, protected and written.

    Written as two columns, ``name`` and ``n``. Categories are sorted by their text. The total
    is the true total, protected like the rest, with secondary suppression so a redacted
    category is not the total minus the others.
    """
    return _frequency_table(
        values, None, output, name, policy or DisclosurePolicy.from_environment(), filters
    )


def safe_crosstab(
    rows: Sequence[Hashable],
    columns: Sequence[Hashable],
    output: Path | str,
    *,
    row_name: str = "row",
    policy: DisclosurePolicy | None = None,
    filters: Mapping[str, Any] | None = None,
) -> pa.Table:
    """A two-way frequency table of ``rows`` by ``columns`` with row and column totals.

    Written wide: the first column holds the ``row_name`` categories (and ``Total`` last), then
    one column per ``columns`` category, then ``Total``. Cells are suppressed, secondarily
    suppressed so totals give nothing away, and rounded.
    """
    if len(rows) != len(columns):
        raise TableError(f"rows has {len(rows)} values but columns has {len(columns)}")
    return _frequency_table(
        rows, columns, output, row_name, policy or DisclosurePolicy.from_environment(), filters
    )


def _frequency_table(
    rows: Sequence[Hashable],
    columns: Sequence[Hashable] | None,
    output: Path | str,
    row_name: str,
    policy: DisclosurePolicy,
    filters: Mapping[str, Any] | None,
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
    write_protected_table(table, output, make_record(kinds, rules, policy, filters))
    return table


def safe_summary_table(
    groups: Sequence[Hashable],
    values: Sequence[float],
    output: Path | str,
    *,
    group_name: str = "group",
    value_name: str = "value",
    statistics: Sequence[str] = ("mean",),
    policy: DisclosurePolicy | None = None,
    filters: Mapping[str, Any] | None = None,
) -> pa.Table:
    """Per group: how many patients (protected count) and the ``statistics`` of ``values``.

    ``statistics`` may name ``mean``, ``sd``, ``median`` and percentiles ``p1``..``p99``;
    each becomes a column ``<statistic>_<value_name>``. A minimum or maximum is refused: it is
    one patient's value, and no rule makes it safe (#16). Each statistic is published only
    where it is safe, else null:

    * every statistic: not when all the group's values are the same (it would give each
      member's value), nor for a group of at most the threshold number of patients;
    * ``mean``: the (n, k) and p% rules pass;
    * ``median`` and percentiles: more than the threshold number of patients lie strictly on
      each side of it.

    The sidecar records, per row, whether the values were all equal and (for order
    statistics) how many patients lie on the sparser side, capped at threshold + 1, so the
    checker can verify the rules without the data. The sum is not published: beside the mean
    it would give the unrounded count back. Missing values (None) are left out of the
    statistics but counted in ``n``.
    """
    policy = policy or DisclosurePolicy.from_environment()
    if len(groups) != len(values):
        raise TableError(f"groups has {len(groups)} values but values has {len(values)}")
    chosen = _summary_statistics(statistics)
    names = {stat: f"{stat}_{value_name}" for stat in chosen}
    if group_name in ("n", *names.values()):
        raise TableError(
            f"group_name {group_name!r} clashes with the column 'n' or one of "
            f"{', '.join(map(repr, names.values()))}"
        )
    keys = _categories(groups, "groups")
    by_group: dict[Hashable, list[float]] = {k: [] for k in keys}
    sizes = Counter(groups)
    for index, (group, value) in enumerate(zip(groups, values, strict=True)):
        if value is not None:
            if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(value):
                raise TableError(f"values, item {index}: expected a finite number, got {value!r}")
            by_group[group].append(float(value))
    threshold = policy.suppress_at_or_below
    columns: dict[str, list[float | None]] = {name: [] for name in names.values()}
    fewest: dict[str, list[int | None]] = {stat: [] for stat in chosen if stat not in _MOMENTS}
    all_equal: list[bool] = []
    for key in keys:
        group_values = by_group[key]
        same = len(set(group_values)) <= 1
        all_equal.append(same)
        large = len(group_values) > threshold
        for stat in chosen:
            published: float | None = None
            if stat == "mean":
                verdict = check_magnitude_cell(
                    group_values, policy, where=f"{group_name} {key!r}, {value_name}"
                )
                if verdict.safe and not same:
                    published = sum(group_values) / len(group_values)
            elif stat == "sd":
                if large and not same:
                    published = statistics_module.stdev(group_values)
            else:
                side = None
                if large and not same:
                    candidate = percentile(group_values, stat)
                    sides = side_counts(group_values, candidate)
                    if sides.fewest > threshold:
                        published, side = candidate, min(sides.fewest, threshold + 1)
                fewest[stat].append(side)
            columns[names[stat]].append(published)
    table = pa.table(
        {
            group_name: pa.array([str(k) for k in keys], pa.string()),
            "n": pa.array([protect_count(sizes[k], policy) for k in keys], pa.int64()),
            **{name: pa.array(column, pa.float64()) for name, column in columns.items()},
        }
    )
    rules: list[dict[str, Any]] = [*count_rules(["n"], policy)]
    kinds = {group_name: "label", "n": "count"}
    for stat, name in names.items():
        if stat == "mean":
            kinds[name] = "magnitude"
            rules.append(
                {
                    "rule": "dominance",
                    "columns": [name],
                    "threshold_contributors_above": threshold,
                    "n": policy.dominance_n,
                    "k": policy.dominance_k,
                    "p_percent": policy.p_percent,
                }
            )
        elif stat == "sd":
            kinds[name] = "spread"
        else:
            kinds[name] = "order_statistic"
            rules.append(
                {
                    "rule": "order_statistic",
                    "columns": [name],
                    "statistic": stat,
                    "fewest_either_side": fewest[stat],
                    "more_than": threshold,
                }
            )
    rules.append(
        {"rule": "identical_values", "columns": list(names.values()), "all_equal": all_equal}
    )
    write_protected_table(table, output, make_record(kinds, rules, policy, filters))
    return table


_MOMENTS = ("mean", "sd")


def _summary_statistics(statistics: Sequence[str]) -> list[str]:
    if isinstance(statistics, str) or not statistics:
        raise TableError(f"statistics must be a non-empty list of names, got {statistics!r}")
    chosen = []
    for stat in statistics:
        name = (
            stat if stat in _MOMENTS else statistic_of(str(stat)) if isinstance(stat, str) else None
        )
        if name in ("min", "max"):
            raise TableError(
                f"statistics: {stat!r} is one patient's value and is never safe to publish; "
                "use a percentile such as p5 or p95 instead"
            )
        if name is None or (name not in _MOMENTS and not re.fullmatch(r"median|p\d{1,2}", name)):
            raise TableError(
                f"statistics: unknown statistic {stat!r}; expected mean, sd, median or p1..p99"
            )
        if name in chosen:
            raise TableError(f"statistics: {stat!r} is given twice")
        chosen.append(name)
    return chosen


def _categories(values: Sequence[Hashable], what: str) -> list[Hashable]:
    distinct = set(values)
    if None in distinct:
        raise TableError(f"{what} contains a missing value; give it a category of its own")
    return sorted(distinct, key=str)
