"""``report-dataset``: a dataset file in, a safe HTML report and its tables out.

This is the function a ``fedsafe:v1 report-dataset`` pipeline action calls: it reads the
dataset, summarises it under the backend's policy, writes the tables behind the report (with
sidecars, so ``check-outputs`` passes them) into ``<report>_tables/`` beside the report, then
the report itself. Every file is written whole or not at all.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from fedsafe.disclosure import DisclosurePolicy
from fedsafe.errors import OutputError
from fedsafe.reports.html import render_report
from fedsafe.reports.reading import read_dataset_file
from fedsafe.reports.summaries import DatasetSummary, summarise_dataset
from fedsafe.reports.tables import write_report_tables

__all__ = ["DatasetReport", "tables_folder", "write_dataset_report"]


@dataclass(frozen=True)
class DatasetReport:
    """What was written: the HTML page and the tables behind it."""

    html: Path
    tables: tuple[Path, ...]
    summary: DatasetSummary


def tables_folder(output: Path) -> Path:
    """Where a report's tables go: ``report.html`` -> ``report_tables/``."""
    return output.with_name(f"{output.stem}_tables")


def write_dataset_report(
    dataset: Path | str, output: Path | str, policy: DisclosurePolicy | None = None
) -> DatasetReport:
    """Write the report for ``dataset`` to ``output`` (.html) and its tables beside it.

    Without ``policy``, the backend's policy from ``FEDSAFE_DISCLOSURE_POLICY`` (as the safe
    helpers use), else the defaults.
    """
    dataset, output = Path(dataset), Path(output)
    policy = policy or DisclosurePolicy.from_environment()
    if output.suffix.lower() not in (".html", ".htm"):
        raise OutputError(f"{output}: the report is an HTML page; give a name ending in .html")
    if not output.parent.is_dir():
        raise OutputError(f"{output}: folder {output.parent} does not exist")
    table = read_dataset_file(dataset)
    summary = summarise_dataset(table, policy)
    folder = tables_folder(output)
    written = write_report_tables(summary, folder, policy)
    names = {column: str(path.relative_to(output.parent)) for column, path in written.items()}
    page = render_report(f"Dataset report: {dataset.name}", summary, policy, names)
    temporary = output.with_name(f".{output.name}.tmp")
    try:
        temporary.write_text(page, encoding="utf-8")
        os.replace(temporary, output)
    finally:
        temporary.unlink(missing_ok=True)
    return DatasetReport(output, tuple(written.values()), summary)
