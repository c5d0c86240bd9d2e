"""Safe dataset reports: what a dataset holds, with the disclosure policy applied throughout.

See ``docs/debugging.md``. :func:`write_dataset_report` is the entry point.
"""

from fedsafe.reports.report import DatasetReport, write_dataset_report

__all__ = ["DatasetReport", "write_dataset_report"]
