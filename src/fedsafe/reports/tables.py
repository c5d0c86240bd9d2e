"""The tables behind a dataset report, written with sidecars so the output checker passes them.

Each table is what the report shows, cell for cell: a release reviewer can check the files
(``fedsafe check-outputs``) and know the HTML holds nothing more. Suppressed cells are empty.
"""

from __future__ import annotations

import re
from pathlib import Path

import pyarrow as pa

from fedsafe.disclosure import DisclosurePolicy
from fedsafe.disclosure.record import count_rules, make_record, secondary_rule
from fedsafe.disclosure.writing import write_protected_table
from fedsafe.reports.summaries import TOTAL_LABEL, CountTable, DatasetSummary

__all__ = ["MISSING_TABLE", "missing_columns", "table_file_name", "write_report_tables"]

MISSING_TABLE = "missing_values.csv"
_MISSING_COUNTS = ["missing", "present", "rows"]


def table_file_name(column: str, taken: set[str]) -> str:
    """A safe, unique file name for a column's table (column names can be any text)."""
    stem = re.sub(r"[^A-Za-z0-9_]+", "_", column).strip("_")[:60] or "column"
    name, index = f"distribution_{stem}.csv", 2
    while name in taken:
        name, index = f"distribution_{stem}_{index}.csv", index + 1
    taken.add(name)
    return name


def write_report_tables(
    summary: DatasetSummary, folder: Path, policy: DisclosurePolicy
) -> dict[str, Path]:
    """Write every table into ``folder``; returns the file of each (``""`` for missing values)."""
    folder.mkdir(parents=True, exist_ok=True)
    written = {"": _write_missing(summary, folder / MISSING_TABLE, policy)}
    taken = {MISSING_TABLE}
    for column in summary.columns:
        if column.distribution is not None:
            path = folder / table_file_name(column.name, taken)
            written[column.name] = _write_counts(column.distribution, path, policy)
    return written


def missing_columns(policy: DisclosurePolicy) -> list[str]:
    """The count columns of the missing values table.

    Without secondary suppression a suppressed ``missing`` would be ``rows - present``, so
    then only ``missing`` is published.
    """
    return _MISSING_COUNTS if policy.secondary_suppression else _MISSING_COUNTS[:1]


def _write_missing(summary: DatasetSummary, path: Path, policy: DisclosurePolicy) -> Path:
    names = missing_columns(policy)
    table = pa.table(
        {
            "column": pa.array([row[0] for row in summary.missing], pa.string()),
            **{
                name: pa.array([row[i + 1] for row in summary.missing], pa.int64())
                for i, name in enumerate(names)
            },
        }
    )
    rules = count_rules(names, policy)
    if policy.secondary_suppression:
        rules.insert(1, secondary_rule(names, summary.missing_secondary_cells))
    kinds = {"column": "label", **dict.fromkeys(names, "count")}
    return write_protected_table(table, path, make_record(kinds, rules, policy))


def _write_counts(counts: CountTable, path: Path, policy: DisclosurePolicy) -> Path:
    # A total beside suppressed cells is safe only with secondary suppression.
    with_total = policy.secondary_suppression
    labels = [*counts.labels, TOTAL_LABEL] if with_total else list(counts.labels)
    values = [*counts.counts, counts.total] if with_total else list(counts.counts)
    table = pa.table(
        {counts.label_name: pa.array(labels, pa.string()), "n": pa.array(values, pa.int64())}
    )
    rules = count_rules(["n"], policy)
    if policy.secondary_suppression:
        rules.insert(1, secondary_rule(["n"], counts.secondary_cells))
    kinds = {counts.label_name: "label", "n": "count"}
    return write_protected_table(table, path, make_record(kinds, rules, policy))
