"""Safe error summaries for failures inside a backend (see ``docs/debugging.md``)."""

from fedsafe.failures.hook import install_excepthook, read_summary
from fedsafe.failures.summary import (
    FailureRecord,
    SafeErrorSummary,
    record_failure,
    summarise_failure,
)

__all__ = [
    "FailureRecord",
    "SafeErrorSummary",
    "install_excepthook",
    "read_summary",
    "record_failure",
    "summarise_failure",
]
