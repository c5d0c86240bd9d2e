"""Writing a backend's data-quality metrics as tables with sidecars, a page and an index.

The tables are what a backend would release (each passes ``check-outputs``) and what the
coordinator's combine step would read; ``index.json`` says which file holds which metric of
which table and column, so combining does not depend on file names.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pyarrow as pa

from fedsafe.disclosure.record import count_rules, make_record, secondary_rule
from fedsafe.disclosure.writing import write_protected_table
from fedsafe.quality.html import render_backend_report
from fedsafe.quality.metrics import BackendMetrics
from fedsafe.reports.summaries import TOTAL_LABEL, CountTable

__all__ = ["INDEX_FILE", "REPORT_FILE", "write_backend_metrics"]

INDEX_FILE = "index.json"
REPORT_FILE = "report.html"


def _stem(*parts: str) -> str:
    return "_".join(re.sub(r"[^A-Za-z0-9_]+", "_", p).strip("_") or "x" for p in parts)


def write_backend_metrics(metrics: BackendMetrics, folder: Path) -> list[Path]:
    """Write every metric table and the index into ``folder`` (created if needed)."""
    folder.mkdir(parents=True, exist_ok=True)
    policy = metrics.policy
    entries: list[dict[str, Any]] = []
    written: list[Path] = []

    def add(path: Path, **entry: Any) -> None:
        written.append(path)
        entries.append({"file": path.name, **entry})

    totals = pa.table(
        {
            "table": pa.array([t.name for t in metrics.tables], pa.string()),
            "rows": pa.array([t.rows for t in metrics.tables], pa.int64()),
            "patients": pa.array([t.patients for t in metrics.tables], pa.int64()),
        }
    )
    record = make_record(
        {"table": "label", "rows": "count", "patients": "count"},
        count_rules(["rows", "patients"], policy),
        policy,
    )
    add(write_protected_table(totals, folder / "table_sizes.csv", record), metric="table_sizes")
    for table in metrics.tables:
        if table.completeness:
            add(_completeness(table, folder, policy), metric="completeness", table=table.name)
        for column, counts in table.months.items():
            path = folder / f"{_stem('months', table.name, column)}.csv"
            add(
                _counts(counts, path, policy),
                metric="rows_by_month",
                table=table.name,
                column=column,
            )
        for column, counts in table.codes.items():
            path = folder / f"{_stem('codes', table.name, column)}.csv"
            add(_counts(counts, path, policy), metric="top_codes", table=table.name, column=column)
    keys = {
        ":".join(
            filter(None, [e["metric"], ".".join(filter(None, [e.get("table"), e.get("column")]))])
        ): e["file"]
        for e in entries
    }
    html = folder / REPORT_FILE
    temporary = html.with_name(f".{html.name}.tmp")
    temporary.write_text(
        render_backend_report("Backend data-quality report", metrics, keys), encoding="utf-8"
    )
    os.replace(temporary, html)
    written.append(html)
    index = folder / INDEX_FILE
    temporary = index.with_name(f".{index.name}.tmp")
    document = {"fedsafe_backend_report": 1, "policy": policy.to_dict(), "files": entries}
    temporary.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    os.replace(temporary, index)
    return [*written, index]


def _completeness(table: Any, folder: Path, policy: Any) -> Path:
    names = ["missing", "present", "rows"] if policy.secondary_suppression else ["missing"]
    data = {"column": pa.array([row[0] for row in table.completeness], pa.string())}
    for i, name in enumerate(names):
        data[name] = pa.array([row[i + 1] for row in table.completeness], pa.int64())
    rules = count_rules(names, policy)
    if policy.secondary_suppression:
        rules.insert(1, secondary_rule(names, table.completeness_secondary_cells))
    record = make_record({"column": "label", **dict.fromkeys(names, "count")}, rules, policy)
    path = folder / f"{_stem('completeness', table.name)}.csv"
    return write_protected_table(pa.table(data), path, record)


def _counts(counts: CountTable, path: Path, policy: Any) -> Path:
    with_total = policy.secondary_suppression
    labels = [*counts.labels, TOTAL_LABEL] if with_total else list(counts.labels)
    values = [*counts.counts, counts.total] if with_total else list(counts.counts)
    table = pa.table(
        {counts.label_name: pa.array(labels, pa.string()), "n": pa.array(values, pa.int64())}
    )
    rules = count_rules(["n"], policy)
    if with_total:
        rules.insert(1, secondary_rule(["n"], counts.secondary_cells))
    record = make_record({counts.label_name: "label", "n": "count"}, rules, policy)
    return write_protected_table(table, path, record)
