"""What the output checker says about a file: findings with a status, a reason and a place.

Statuses are ordered: a file's status is its worst finding's. ``needs review`` means the checker
cannot decide alone (it is not a soft pass): a person must look before release.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["FileReport", "Finding", "Status"]


class Status(enum.Enum):
    PASS = "pass"
    NEEDS_REVIEW = "needs review"
    FAIL = "fail"

    @property
    def severity(self) -> int:
        return list(Status).index(self)


@dataclass(frozen=True)
class Finding:
    """One thing the checker found, at a cell (row and column), a column, or the whole file.

    ``row`` counts data rows from 1 (the header is not a row); ``line`` is the line of a CSV
    file the row is on. ``inferred`` says the column's kind was guessed from its values
    because no sidecar said what it is.
    """

    status: Status
    rule: str
    reason: str
    column: str | None = None
    row: int | None = None
    line: int | None = None
    inferred: bool = False

    def location(self) -> str:
        parts = []
        if self.row is not None:
            parts.append(f"row {self.row}" + (f" (line {self.line})" if self.line else ""))
        if self.column is not None:
            parts.append(f"column {self.column!r}")
        return ", ".join(parts) or "file"

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status.value,
            "rule": self.rule,
            "reason": self.reason,
            "column": self.column,
            "row": self.row,
            "line": self.line,
            "inferred": self.inferred,
        }


@dataclass(frozen=True)
class FileReport:
    """All findings for one file, and the file's overall status (its worst finding's)."""

    path: Path
    findings: tuple[Finding, ...]

    @property
    def status(self) -> Status:
        return max((f.status for f in self.findings), key=lambda s: s.severity, default=Status.PASS)

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": str(self.path),
            "status": self.status.value,
            "findings": [f.to_dict() for f in self.findings],
        }
