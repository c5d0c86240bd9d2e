"""Putting the data-quality reports that several backends released side by side.

Each backend runs ``fedsafe backend report`` and releases its folder (``index.json`` says which
file holds which metric; every table is protected and has a sidecar). Summing these tables over
backends would hide exactly what a data-quality report is for (how the backends differ), so a
report folder is not pooled: for each metric the backends' values are put in columns side by
side, and for each date column's rows by month a second table gives rows per 1,000 patients
per backend (the backend's count of ``patients`` rows as the denominator).

Disclosure: every number is a released value, re-protected with the combine's policy (which can
only hide more), or a rate derived from such values (withheld when either is withheld). Rows
labelled as totals and a completeness table's ``present`` column are left out, so a cell hidden
by the re-protection can never be worked out from a total beside it. Every table is checked
before it is kept; one that fails is a fault (nothing is written), one that needs review is
left out and listed as skipped.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import pyarrow as pa
import pyarrow.csv

from fedsafe.disclosure import DisclosurePolicy, Status, check_output_file, protect_count
from fedsafe.disclosure.errors import OutputFileError
from fedsafe.disclosure.reading import Redacted, parse_number, read_table
from fedsafe.disclosure.record import count_rules, derived_rule, make_record
from fedsafe.disclosure.sidecar import read_sidecar, write_sidecar
from fedsafe.federation.errors import CombineError, ReleasedFilesError

__all__ = ["REPORT_KEY", "QualityReport", "compare_reports", "find_quality_reports"]

REPORT_KEY = "fedsafe_backend_report"
INDEX = "index.json"
TOTAL_LABELS = frozenset({"total", "totals", "all", "overall"})
_MONTH = re.compile(r"^\d{4}-\d{2}$")
_DROPPED_COLUMNS = frozenset({"present"})  # = rows - missing: kept out beside a suppressed cell


@dataclass(frozen=True)
class QualityReport:
    """One report folder (its path under each backend's folder) and each backend's index."""

    folder: str  # "" for a report released at the top of the backend's folder
    indexes: Mapping[str, Path]  # backend -> its index.json
    members: frozenset[str]  # relative paths of the report's files (not pooled)


@dataclass(frozen=True)
class ComparedTable:
    name: str  # file name in the combined report folder
    table: pa.Table
    record: dict[str, Any] = field(hash=False)
    backends: tuple[str, ...]


@dataclass(frozen=True)
class Comparison:
    report: QualityReport
    tables: tuple[ComparedTable, ...]


def _index(path: Path) -> dict[str, Any] | None:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(document, dict) or REPORT_KEY not in document:
        return None
    return document


def find_quality_reports(files: Mapping[str, Mapping[str, Path]]) -> list[QualityReport]:
    """The released data-quality report folders among ``files`` (relative path -> backend ->
    path), found by their ``index.json``."""
    found = []
    for relative, by_backend in files.items():
        pure = PurePosixPath(relative)
        if pure.name != INDEX:
            continue
        indexes = {b: p for b, p in by_backend.items() if _index(p) is not None}
        if not indexes:
            continue
        folder = "" if str(pure.parent) == "." else pure.parent.as_posix()
        members = {relative, _join(folder, "report.html")}
        for path in indexes.values():
            for entry in _entries(path):
                members.add(_join(folder, entry["file"]))
        found.append(QualityReport(folder, indexes, frozenset(members)))
    return found


def _join(folder: str, name: str) -> str:
    return f"{folder}/{name}" if folder else name


def _entries(index: Path) -> list[dict[str, Any]]:
    document = _index(index) or {}
    entries = document.get("files")
    if not isinstance(entries, list) or not all(
        isinstance(e, dict) and isinstance(e.get("file"), str) and isinstance(e.get("metric"), str)
        for e in entries
    ):
        raise ReleasedFilesError(f"{index}: 'files' must list objects with 'file' and 'metric'")
    for entry in entries:
        name = entry["file"]
        if "/" in name or "\\" in name or name.startswith("."):
            raise ReleasedFilesError(f"{index}: {name!r} is not a file name in the report folder")
    return entries


def _key(entry: Mapping[str, Any]) -> tuple[str, str, str]:
    return (entry["metric"], str(entry.get("table") or ""), str(entry.get("column") or ""))


def compare_reports(report: QualityReport, policy: DisclosurePolicy) -> Comparison:
    """Side-by-side tables for one report folder (computed, not written)."""
    by_key: dict[tuple[str, str, str], dict[str, Path]] = {}
    names: dict[tuple[str, str, str], str] = {}
    for backend, index in report.indexes.items():
        for entry in _entries(index):
            key = _key(entry)
            by_key.setdefault(key, {})[backend] = index.parent / entry["file"]
            names.setdefault(key, entry["file"])
    tables = []
    patients: dict[str, int | None] = {}
    sizes = by_key.get(("table_sizes", "", ""))
    if sizes:
        sizes_table = _side_by_side(sizes, policy)
        tables.append(_compared(names[("table_sizes", "", "")], sizes_table, policy))
        patients = _patients(sizes_table, sizes)
    for key in sorted(by_key):
        if key[0] == "table_sizes":
            continue
        table = _side_by_side(by_key[key], policy)
        tables.append(_compared(names[key], table, policy))
        if key[0] == "rows_by_month" and patients:
            rates = _rates(table, by_key[key], patients)
            if rates.num_rows:  # no month named by any backend: nothing to compare
                stem = names[key].rsplit(".", 1)[0]
                tables.append(_compared(f"per_1000_patients_{stem}.csv", rates, policy))
    return Comparison(report, tuple(tables))


@dataclass(frozen=True)
class _Input:
    label: str
    counts: tuple[str, ...]
    rows: dict[str, dict[str, int | None]]  # label value -> count column -> value


def _read(backend: str, path: Path) -> _Input:
    try:
        sidecar = read_sidecar(path)
        table = read_table(path)
    except OutputFileError as exc:
        raise ReleasedFilesError(f"{backend}: {exc}") from None
    if sidecar is None:
        raise ReleasedFilesError(f"{path}: a data-quality table without its sidecar")
    labels = [c for c, k in sidecar.columns.items() if k == "label"]
    counts = tuple(
        c for c, k in sidecar.columns.items() if k == "count" and c not in _DROPPED_COLUMNS
    )
    if len(labels) != 1 or not counts:
        raise ReleasedFilesError(
            f"{path}: expected one label column and count columns, as `fedsafe backend report` "
            "writes them"
        )
    rows: dict[str, dict[str, int | None]] = {}
    for index, label in enumerate(table.columns[labels[0]]):
        text = "" if label is None else str(label)
        if text.strip().lower() in TOTAL_LABELS:
            continue
        values = {}
        for column in counts:
            value = parse_number(table.columns[column][index])
            if isinstance(value, Redacted) or value is None:
                values[column] = None
            elif isinstance(value, int) and value >= 0:
                values[column] = value
            else:
                raise ReleasedFilesError(
                    f"{path}, row {index + 1}, column {column!r}: expected a count, got {value!r}"
                )
        rows[text] = values
    return _Input(labels[0], counts, rows)


def _side_by_side(files: Mapping[str, Path], policy: DisclosurePolicy) -> pa.Table:
    inputs = {backend: _read(backend, path) for backend, path in sorted(files.items())}
    first = next(iter(inputs.values()))
    for backend, one in inputs.items():
        if (one.label, one.counts) != (first.label, first.counts):
            raise ReleasedFilesError(
                f"{files[backend]}: columns {one.label}, {', '.join(one.counts)} differ from "
                f"{files[next(iter(inputs))]}; each backend must release the same report"
            )
    labels: list[str] = []
    for one in inputs.values():
        labels.extend(label for label in one.rows if label not in labels)
    columns: dict[str, pa.Array] = {first.label: pa.array(labels, pa.string())}
    for backend, one in inputs.items():
        for count in one.counts:
            values = [protect_count(one.rows.get(label, {}).get(count), policy) for label in labels]
            columns[f"{backend}_{count}"] = pa.array(values, pa.int64())
    return pa.table(columns)


def _patients(sizes: pa.Table, files: Mapping[str, Path]) -> dict[str, int | None]:
    """Each backend's (re-protected) number of patients in its ``patients`` table."""
    tables = sizes.column("table").to_pylist()
    if "patients" not in tables:
        return {}
    row = tables.index("patients")
    return {
        backend: sizes.column(f"{backend}_patients")[row].as_py()
        for backend in sorted(files)
        if f"{backend}_patients" in sizes.column_names
    }


def _rates(months: pa.Table, files: Mapping[str, Path], patients: Mapping[str, int | None]):
    """Rows per 1,000 patients by month, per backend, from the released values only."""
    label = months.column_names[0]
    keep = pa.array(
        [i for i, v in enumerate(months.column(label).to_pylist()) if _MONTH.match(v or "")],
        pa.int64(),
    )
    columns: dict[str, pa.Array] = {label: months.column(label).take(keep)}
    for backend in sorted(files):
        if backend not in patients:
            continue
        counts = months.column(f"{backend}_n").take(keep).to_pylist()
        denominator = patients[backend]
        rates = [
            None if n is None or not denominator else round(1000 * n / denominator, 3)
            for n in counts
        ]
        columns[f"{backend}_n"] = pa.array(counts, pa.int64())
        columns[f"{backend}_patients"] = pa.array([denominator] * len(counts), pa.int64())
        columns[f"{backend}_per_1000_patients"] = pa.array(rates, pa.float64())
    return pa.table(columns)


def _compared(name: str, table: pa.Table, policy: DisclosurePolicy) -> ComparedTable:
    label = table.column_names[0]
    derived = [c for c in table.column_names if c.endswith("_per_1000_patients")]
    counts = [c for c in table.column_names[1:] if c not in derived]
    kinds = {label: "label", **dict.fromkeys(counts, "count"), **dict.fromkeys(derived, "derived")}
    rules = count_rules(counts, policy)
    for column in derived:
        backend = column.removesuffix("_per_1000_patients")
        sources = [f"{backend}_n", f"{backend}_patients"]
        rules.append(derived_rule(column, sources, f"1000 * {sources[0]} / {sources[1]}"))
    backends = tuple(sorted({c.rsplit("_", 1)[0] for c in counts if "_" in c}))
    return ComparedTable(name, table, make_record(kinds, rules, policy), backends)


def write_comparisons(
    staging: Path,
    comparisons: Sequence[Comparison],
    policy: DisclosurePolicy,
    skipped: list[dict[str, str]],
) -> list[dict[str, Any]]:
    """Write each comparison to ``staging/quality/<folder>/`` with sidecars and a page, checking
    every table; return the manifest's output entries."""
    outputs: list[dict[str, Any]] = []
    for comparison in comparisons:
        folder = staging / "quality" / (comparison.report.folder or "report")
        folder.mkdir(parents=True, exist_ok=True)
        source = _join(comparison.report.folder, INDEX)
        kept: list[ComparedTable] = []
        for item in comparison.tables:
            path = folder / item.name
            pyarrow.csv.write_csv(item.table, str(path))
            write_sidecar(path, item.record)
            report = check_output_file(path, policy)
            problems = "; ".join(f.reason for f in report.findings if f.status is not Status.PASS)
            if report.status is Status.FAIL:
                raise CombineError(
                    f"{source}: the side-by-side table {item.name} did not pass the disclosure "
                    f"checks, so nothing was written ({problems})"
                )
            if report.status is Status.NEEDS_REVIEW:
                path.unlink()
                path.with_name(path.name + ".disclosure.json").unlink()
                skipped.append(
                    {
                        "path": _join(comparison.report.folder, item.name),
                        "reason": f"the side-by-side table needs review: {problems}",
                    }
                )
                continue
            kept.append(item)
            outputs.append(_entry(staging, path, source, item.backends))
        page = folder / "report.html"
        page.write_text(_page(source, kept), encoding="utf-8")
        outputs.append(_entry(staging, page, source, tuple(sorted(comparison.report.indexes))))
    return outputs


def _entry(staging: Path, path: Path, source: str, backends: Sequence[str]) -> dict[str, Any]:
    return {
        "path": path.relative_to(staging).as_posix(),
        "kind": "quality_comparison",
        "from": source,
        "backends": list(backends),
        "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
    }


def _page(source: str, tables: Sequence[ComparedTable]) -> str:
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>Data quality across backends: {html.escape(source)}</title>",
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;"
        "margin-bottom:2em}td,th{border:1px solid #ccc;padding:2px 8px;text-align:right}"
        "th:first-child,td:first-child{text-align:left}</style></head><body>",
        "<h1>Data quality across backends</h1>",
        "<p>Each backend's released values, side by side, re-protected; an empty cell was "
        "withheld by a backend or not reported by it.</p>",
    ]
    for item in tables:
        parts.append(f"<h2>{html.escape(item.name)}</h2><table><tr>")
        parts += [f"<th>{html.escape(c)}</th>" for c in item.table.column_names]
        parts.append("</tr>")
        for row in item.table.to_pylist():
            cells = ["" if v is None else html.escape(str(v)) for v in row.values()]
            parts.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
        parts.append("</table>")
    parts.append("</body></html>\n")
    return "".join(parts)
