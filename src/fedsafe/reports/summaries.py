"""Per-column summaries of a dataset with the disclosure policy applied as they are made.

Every number a report shows is a protected count: small counts are suppressed, totals are
published only with secondary suppression (so a hidden cell is not the total minus the rest)
and everything is rounded, all by :func:`fedsafe.disclosure.crosstab.protect_with_total`.
Category names are shown only for categories that more patients than the threshold share;
the rest are pooled as "Other values", so a rare code or a one-off free-text value is never
named. Numbers and dates get histograms with edges that never show an extreme value
(:mod:`fedsafe.reports.bins`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from fedsafe.disclosure import DisclosurePolicy
from fedsafe.disclosure.counts import is_suppressed
from fedsafe.disclosure.crosstab import protect_crosstab, protect_with_total
from fedsafe.reports.bins import MIN_VALUES, Bins, date_bins, number_bins

__all__ = [
    "MISSING_LABEL",
    "OTHER_LABEL",
    "TOTAL_LABEL",
    "ColumnSummary",
    "CountTable",
    "DatasetSummary",
    "named_counts",
    "summarise_dataset",
]

MAX_CATEGORIES = 20
IDENTIFIER_COLUMNS = frozenset({"patient_id"})
MISSING_LABEL = "Missing"
OTHER_LABEL = "Other values"
TOTAL_LABEL = "Total"


@dataclass(frozen=True)
class CountTable:
    """Protected counts by label, with their protected total (None: suppressed)."""

    label_name: str
    labels: tuple[str, ...]
    counts: tuple[int | None, ...]
    total: int | None
    secondary_cells: int


@dataclass(frozen=True)
class ColumnSummary:
    """One column: what kind it is, and its distribution (None when it cannot be shown)."""

    name: str
    kind: str  # "number", "date", "category" or "identifier"
    distribution: CountTable | None
    note: str = ""


@dataclass(frozen=True)
class DatasetSummary:
    """Missing values per column (one protected table) and each column's distribution."""

    rows: int | None
    missing: tuple[
        tuple[str, int | None, int | None, int | None], ...
    ]  # column, missing, present, rows
    missing_secondary_cells: int
    columns: tuple[ColumnSummary, ...]


def summarise_dataset(table: pa.Table, policy: DisclosurePolicy) -> DatasetSummary:
    """Protected summaries of every column of ``table``."""
    names = table.column_names
    missing_cells = [
        [table[name].null_count, len(table) - table[name].null_count] for name in names
    ]
    protected = protect_crosstab(missing_cells, policy) if names else None
    missing = tuple(
        (name, *protected.cells[i], protected.row_totals[i])  # type: ignore[union-attr]
        for i, name in enumerate(names)
    )
    rows = protected.row_totals[0] if protected else None
    columns = tuple(_summarise_column(name, table[name], policy) for name in names)
    return DatasetSummary(
        rows=rows,
        missing=missing,  # type: ignore[arg-type]
        missing_secondary_cells=len(protected.complementary) if protected else 0,
        columns=columns,
    )


def _summarise_column(
    name: str, column: pa.ChunkedArray, policy: DisclosurePolicy
) -> ColumnSummary:
    if name in IDENTIFIER_COLUMNS:
        return ColumnSummary(name, "identifier", None, "an identifier: not summarised")
    type_ = column.type
    missing = column.null_count
    values = column.drop_null()
    if pa.types.is_timestamp(type_):
        values = values.cast(pa.date32())
        type_ = pa.date32()
    if pa.types.is_integer(type_) or pa.types.is_floating(type_):
        numbers = np.asarray(values.to_numpy(), dtype=float)
        numbers = numbers[np.isfinite(numbers)]  # NaN and infinities are not values to bin
        bins = number_bins(numbers, whole=pa.types.is_integer(type_))
        return _binned(name, "number", numbers, bins, missing, policy)
    if pa.types.is_date(type_):
        days = np.asarray(values.cast(pa.date32()).cast(pa.int32()).to_numpy(), dtype=float)
        return _binned(name, "date", days, date_bins(days), missing, policy)
    return _categories(name, values, missing, policy)


def _binned(
    name: str,
    kind: str,
    values: np.ndarray,
    bins: Bins | None,
    missing: int,
    policy: DisclosurePolicy,
) -> ColumnSummary:
    if bins is None:
        return ColumnSummary(
            name,
            kind,
            None,
            f"fewer than {MIN_VALUES} values: no histogram, as its bins would show single values",
        )
    counts = bins.counts(values)
    labels = [*bins.labels, MISSING_LABEL]
    return ColumnSummary(name, kind, _protect("bin", labels, [*counts, missing], policy))


def _categories(
    name: str, values: pa.ChunkedArray, missing: int, policy: DisclosurePolicy
) -> ColumnSummary:
    if pa.types.is_boolean(values.type):
        values = pc.if_else(values, "true", "false")
    elif pa.types.is_dictionary(values.type):
        values = values.cast(values.type.value_type)
    counted = pc.value_counts(values) if len(values) else None
    frequencies: list[tuple[Any, int]] = (
        list(
            zip(
                pc.cast(counted.field("values"), pa.string()).to_pylist(),
                counted.field("counts").to_pylist(),
                strict=True,
            )
        )
        if counted is not None
        else []
    )
    frequencies.sort(key=lambda item: (-item[1], str(item[0])))
    shown = [
        (value, count)
        for value, count in frequencies
        if not is_suppressed(count, policy) and count > 0
    ][:MAX_CATEGORIES]
    shown.sort(key=lambda item: str(item[0]))
    other = sum(count for _, count in frequencies) - sum(count for _, count in shown)
    note = (
        f"values shared by more than {policy.suppress_at_or_below} rows are named (at most "
        f"{MAX_CATEGORIES}); the rest are counted together as {OTHER_LABEL!r}"
    )
    table = named_counts("value", shown, other, missing, policy)
    return ColumnSummary(name, "category", table, note)


def named_counts(
    label_name: str,
    named: Sequence[tuple[Any, int]],
    other: int,
    missing: int | None,
    policy: DisclosurePolicy,
    other_label: str = OTHER_LABEL,
) -> CountTable:
    """Counts of named values, an "other" row and (unless None) a missing row, protected.

    Callers name only values counted more often than the threshold; the rest go in ``other``,
    so a rare value is never shown, not even as a suppressed row.
    """
    if any(is_suppressed(count, policy) for _, count in named):
        raise ValueError("named values must each be counted more often than the threshold")
    labels = [_category_label(value) for value, _ in named] + [other_label]
    counts = [count for _, count in named] + [other]
    if missing is not None:
        labels.append(MISSING_LABEL)
        counts.append(missing)
    return _protect(label_name, labels, counts, policy)


def _category_label(value: Any) -> str:
    text = str(value)
    # A label that is only a number would look like a statistic to the output checker.
    reserved = text in (OTHER_LABEL, MISSING_LABEL, TOTAL_LABEL)
    return f"value {text}" if reserved or _looks_numeric(text) else text


def _looks_numeric(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _protect(
    label_name: str, labels: Sequence[str], counts: Sequence[int], policy: DisclosurePolicy
) -> CountTable:
    protected, total = protect_with_total(list(counts), policy)
    hidden = sum(1 for c in protected if c is None) - sum(
        1 for c in counts if is_suppressed(c, policy)
    )
    return CountTable(label_name, tuple(labels), tuple(protected), total, max(hidden, 0))
