"""An action's ``linkage:`` block: what it needs from another backend, as checked values.

::

    linkage:
      backend: hospital                 # the backend holding the records (B)
      tables:
        tpp.apcs:                       # schema.table; a bare name means the core schema
          columns: [admission_date, primary_diagnosis]
          date_column: admission_date   # which date the date range applies to
      date_range: {start: 2020-01-01, end: 2023-12-31}   # inclusive
      coarsen_dates: month              # day | month | year

This module checks the block's shape only and imports no table schema, so the coordinator can
read a declaration without touching the query stack; :mod:`.schema_check` checks the tables and
columns against the logical schemas. Every problem is collected with its path inside the block,
so project.yaml's reader can name the line of each.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fedsafe.linkage.errors import DeclarationError

__all__ = [
    "COARSENINGS",
    "DateRange",
    "LinkageDeclaration",
    "TableRequest",
    "declaration_from_public",
    "parse_declaration",
    "qualified",
]

COARSENINGS = ("day", "month", "year")
"""Finest first: a declaration may ask for a coarser precision than its permission allows."""

_BACKEND_NAME = re.compile(r"[a-z0-9][a-z0-9_-]*")
_TABLE_NAME = re.compile(r"(?:[a-z][a-z0-9_]*\.)?[a-z][a-z0-9_]*")
_FIELDS = ("backend", "tables", "date_range", "coarsen_dates")
_TABLE_FIELDS = ("columns", "date_column")

Path = tuple[str | int, ...]


@dataclass(frozen=True)
class DateRange:
    """Inclusive at both ends."""

    start: datetime.date
    end: datetime.date

    def covers(self, other: DateRange) -> bool:
        return self.start <= other.start and other.end <= self.end

    def __str__(self) -> str:
        return f"{self.start.isoformat()} to {self.end.isoformat()}"


@dataclass(frozen=True)
class TableRequest:
    """One table of B's: the columns returned, and the date column the range applies to."""

    name: str  # "schema.table", always qualified
    columns: tuple[str, ...]
    date_column: str | None = None


@dataclass(frozen=True)
class LinkageDeclaration:
    backend: str
    tables: tuple[TableRequest, ...]
    date_range: DateRange | None
    coarsen_dates: str

    def table(self, name: str) -> TableRequest | None:
        return next((t for t in self.tables if t.name == name), None)

    def to_public(self) -> dict[str, Any]:
        """The declaration as JSON-ready data, for the public jobs log."""
        return {
            "backend": self.backend,
            "tables": {
                t.name: {"columns": list(t.columns), "date_column": t.date_column}
                for t in self.tables
            },
            "date_range": None
            if self.date_range is None
            else {
                "start": self.date_range.start.isoformat(),
                "end": self.date_range.end.isoformat(),
            },
            "coarsen_dates": self.coarsen_dates,
        }


def qualified(name: str) -> str:
    """``apcs`` -> ``core.apcs``; ``tpp.apcs`` unchanged."""
    return name if "." in name else f"core.{name}"


def parse_declaration(raw: Any) -> LinkageDeclaration:
    """Check a ``linkage:`` block's shape; raise DeclarationError listing every problem."""
    problems: list[tuple[Path, str]] = []
    if not isinstance(raw, Mapping):
        raise DeclarationError([((), "expected a mapping with backend, tables and coarsen_dates")])
    for key in raw:
        if key not in _FIELDS:
            problems.append(
                ((str(key),), f"{key!r} is not a linkage field; expected one of {_FIELDS}")
            )
    backend = raw.get("backend")
    if backend is None:
        problems.append((("backend",), "'backend' is required: the backend to link to"))
    elif not isinstance(backend, str) or not _BACKEND_NAME.fullmatch(backend):
        problems.append(
            (("backend",), f"{backend!r} is not a backend name (lower-case letters, digits, _ -)")
        )
    tables = _tables(raw.get("tables"), problems)
    date_range = _date_range(raw.get("date_range"), problems)
    coarsen = raw.get("coarsen_dates")
    if coarsen is None:
        problems.append(
            (("coarsen_dates",), f"'coarsen_dates' is required: one of {', '.join(COARSENINGS)}")
        )
    elif coarsen not in COARSENINGS:
        problems.append((("coarsen_dates",), f"{coarsen!r} is not one of {', '.join(COARSENINGS)}"))
    if problems:
        raise DeclarationError(problems)
    return LinkageDeclaration(
        backend=backend,  # type: ignore[arg-type]
        tables=tables,
        date_range=date_range,
        coarsen_dates=coarsen,  # type: ignore[arg-type]
    )


def _tables(raw: Any, problems: list[tuple[Path, str]]) -> tuple[TableRequest, ...]:
    if raw is None:
        problems.append((("tables",), "'tables' is required: which tables and columns"))
        return ()
    if not isinstance(raw, Mapping) or not raw:
        problems.append((("tables",), "expected a mapping of table name to its columns"))
        return ()
    found: list[TableRequest] = []
    for name, spec in raw.items():
        where: Path = ("tables", str(name))
        if not isinstance(name, str) or not _TABLE_NAME.fullmatch(name):
            problems.append((where, f"{name!r} is not a table name (schema.table or table)"))
            continue
        if qualified(name) in {t.name for t in found}:
            problems.append((where, f"{qualified(name)!r} is declared twice"))
            continue
        if not isinstance(spec, Mapping):
            problems.append((where, "expected a mapping with 'columns' (and 'date_column')"))
            continue
        for key in spec:
            if key not in _TABLE_FIELDS:
                problems.append(
                    ((*where, str(key)), f"{key!r} is not a table field; expected {_TABLE_FIELDS}")
                )
        columns = spec.get("columns")
        if not isinstance(columns, list) or not columns:
            problems.append(((*where, "columns"), "expected a non-empty list of column names"))
            continue
        ok = True
        for index, column in enumerate(columns):
            if not isinstance(column, str) or not column:
                problems.append(((*where, "columns", index), f"{column!r} is not a column name"))
                ok = False
            elif column in columns[:index]:
                problems.append(((*where, "columns", index), f"{column!r} is listed twice"))
                ok = False
        date_column = spec.get("date_column")
        if date_column is not None and not isinstance(date_column, str):
            problems.append(((*where, "date_column"), f"{date_column!r} is not a column name"))
            ok = False
        if ok:
            found.append(TableRequest(qualified(name), tuple(columns), date_column))
    return tuple(found)


def _date_range(raw: Any, problems: list[tuple[Path, str]]) -> DateRange | None:
    if raw is None:
        return None
    if not isinstance(raw, Mapping) or set(raw) != {"start", "end"}:
        problems.append(
            (("date_range",), "expected {start: YYYY-MM-DD, end: YYYY-MM-DD} (both inclusive)")
        )
        return None
    dates = {}
    for key in ("start", "end"):
        value = raw[key]
        if isinstance(value, datetime.datetime):
            value = None  # a time of day means the author meant something else
        elif isinstance(value, str):
            try:
                value = datetime.date.fromisoformat(value)
            except ValueError:
                value = None
        if not isinstance(value, datetime.date):
            problems.append((("date_range", key), f"{raw[key]!r} is not a date (YYYY-MM-DD)"))
            return None
        dates[key] = value
    if dates["start"] > dates["end"]:
        problems.append((("date_range",), f"start {dates['start']} is after end {dates['end']}"))
        return None
    return DateRange(dates["start"], dates["end"])


def declaration_from_public(data: Mapping[str, Any]) -> LinkageDeclaration:
    """Read back :meth:`LinkageDeclaration.to_public` (as the coordinator stores it)."""
    raw = dict(data)
    if raw.get("date_range") is None:
        raw.pop("date_range", None)
    raw["tables"] = {
        name: {k: v for k, v in spec.items() if v is not None}
        for name, spec in (data.get("tables") or {}).items()
    }
    return parse_declaration(raw)
