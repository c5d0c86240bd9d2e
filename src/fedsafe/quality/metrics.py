"""Per-table data-quality metrics computed inside a backend, every count protected.

For each table: how many rows and patients; how complete each column is; for each date column,
how many rows fall in each month (coverage over time); for each code column, the most used
codes. The database does the counting (one grouped query per metric, through Ibis), so no
patient-level row leaves it, and the counts are protected by the backend's policy before they
are kept: months and codes are named only when more rows than the threshold have them, the
rest are pooled, and totals go out only with secondary suppression.

These are the backend half of a cross-backend data-quality report; the released reports of
several backends are put side by side by :mod:`fedsafe.federation.quality` (``fedsafe combine``).
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import ibis

from fedsafe.disclosure import DisclosurePolicy, protect_count
from fedsafe.disclosure.counts import is_suppressed
from fedsafe.disclosure.crosstab import protect_crosstab
from fedsafe.query_model import nodes as qm
from fedsafe.query_model.types import is_code_type
from fedsafe.reports.summaries import CountTable, named_counts

__all__ = ["MAX_CODES", "BackendMetrics", "TableMetrics", "compute_backend_metrics"]

MAX_CODES = 20


@dataclass(frozen=True)
class TableMetrics:
    """One table's protected metrics."""

    name: str
    rows: int | None
    patients: int | None
    completeness: tuple[tuple[str, int | None, int | None, int | None], ...]
    completeness_secondary_cells: int
    months: Mapping[str, CountTable]  # date column -> rows per month
    codes: Mapping[str, CountTable]  # code column -> most used codes


@dataclass(frozen=True)
class BackendMetrics:
    """Every table's metrics, and the policy they were protected with."""

    tables: tuple[TableMetrics, ...]
    policy: DisclosurePolicy


def compute_backend_metrics(
    backend: ibis.BaseBackend,
    tables: Mapping[str, qm.SelectTable | qm.SelectPatientTable],
    policy: DisclosurePolicy,
    *,
    load: Callable[[str], ibis.Table] | None = None,
) -> BackendMetrics:
    """Protected metrics for each of ``tables`` (name -> table node) on ``backend``.

    ``load`` reads a logical table (a configured backend passes its mapping's, so an OMOP
    database is measured as the core tables it provides); by default the database's table of
    the same name is read as it is."""
    read = load or backend.table
    return BackendMetrics(
        tuple(
            _table_metrics(read(name), name, node, policy) for name, node in sorted(tables.items())
        ),
        policy,
    )


def _scalar(expr: Any) -> int:
    return int(expr.execute() or 0)


def _table_metrics(
    table: ibis.Table, name: str, node: Any, policy: DisclosurePolicy
) -> TableMetrics:
    rows = _scalar(table.count())
    columns = node.schema.columns
    missing = (
        table.aggregate(**{c.name: table[c.name].isnull().sum() for c in columns}).execute()
        if columns
        else None
    )
    cells = [[int(missing[c.name][0] or 0), rows - int(missing[c.name][0] or 0)] for c in columns]
    completeness: tuple[tuple[str, int | None, int | None, int | None], ...] = ()
    secondary = 0
    if cells:
        protected = protect_crosstab(cells, policy)
        completeness = tuple(
            (c.name, *protected.cells[i], protected.row_totals[i])  # type: ignore[misc]
            for i, c in enumerate(columns)
        )
        secondary = len(protected.complementary)
    months = {c.name: _months(table, c.name, policy) for c in columns if c.type is datetime.date}
    codes = {c.name: _codes(table, c.name, policy) for c in columns if is_code_type(c.type)}
    return TableMetrics(
        name=name,
        rows=protect_count(rows, policy),
        patients=protect_count(_scalar(table.patient_id.nunique()), policy),
        completeness=completeness,
        completeness_secondary_cells=secondary,
        months=months,
        codes=codes,
    )


def _grouped(table: ibis.Table, key: Any, policy: DisclosurePolicy) -> tuple[list, int, int]:
    """(values counted more often than the threshold, other rows, missing rows)."""
    present = table.filter(key.notnull())
    counts = present.group_by(value=key).aggregate(n=ibis._.count()).execute()
    pairs = [(v, int(n)) for v, n in zip(counts["value"], counts["n"], strict=True)]
    named = [(v, n) for v, n in pairs if not is_suppressed(n, policy) and n > 0]
    other = sum(n for _, n in pairs) - sum(n for _, n in named)
    missing = _scalar(table.filter(key.isnull()).count())
    return named, other, missing


def _months(table: ibis.Table, column: str, policy: DisclosurePolicy) -> CountTable:
    key = table[column].year() * 100 + table[column].month()
    named, other, missing = _grouped(table, key, policy)
    labelled = sorted((f"{int(v) // 100:04d}-{int(v) % 100:02d}", n) for v, n in named)
    return named_counts("month", labelled, other, missing, policy, other_label="Other months")


def _codes(table: ibis.Table, column: str, policy: DisclosurePolicy) -> CountTable:
    named, other, missing = _grouped(table, table[column], policy)
    named.sort(key=lambda item: (-item[1], str(item[0])))
    top, rest = named[:MAX_CODES], named[MAX_CODES:]
    other += sum(n for _, n in rest)
    return named_counts("code", top, other, missing, policy, other_label="Other codes")
