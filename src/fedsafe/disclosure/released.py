"""What a released table is, for the release ledger: its dimensions, its population's filters
and its published counts, and how two released tables can be differenced.

Two tables that each pass the small-number rule can together reveal a small group: "all
patients" minus "male patients" is the female patients; a report re-run with one extra code
minus the first run is the patients with only that code; months 1..N+1 minus months 1..N is
month N+1 (the SDC Handbook's "disclosure by differencing"; ONS/GSS guidance treats it as the
main risk of releasing several tables from one source). This module is pure: it says which
cells two tables give away; :mod:`fedsafe.disclosure.ledger` stores tables and asks it.

A table's population is described by ``filters``: a mapping from an attribute (``sex``,
``codes``, ``period``) to the values it keeps, either a list of values (a patient counts when
their value, or any of their codes, is in the list) or an inclusive interval
``{"from": a, "to": b}``. An attribute a table does not name is unrestricted. Filters come from
the output's sidecar (``"release": {"filters": ...}``); a file without them counts "everyone".
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fedsafe.disclosure.errors import OutputFileError
from fedsafe.disclosure.reading import Redacted, parse_number, read_table
from fedsafe.disclosure.sidecar import read_sidecar

__all__ = [
    "Clash",
    "Interval",
    "ReleasedTable",
    "clashes",
    "contains",
    "read_released_table",
    "union",
]

CellKey = tuple[tuple[str, ...], str]  # (values of the dimension columns, count column)


@dataclass(frozen=True)
class Interval:
    """An inclusive range of values (dates as ISO text, or numbers)."""

    start: Any
    end: Any

    def within(self, other: Interval) -> bool:
        return other.start <= self.start and self.end <= other.end


Filter = frozenset[str] | Interval


@dataclass(frozen=True)
class ReleasedTable:
    """One released table as the ledger sees it. ``cells`` maps (dimension values, count
    column) to the published count, or None where the cell is suppressed."""

    file: str
    backend: str
    project: str
    dimensions: tuple[str, ...]
    filters: Mapping[str, Filter]
    cells: Mapping[CellKey, int | None]

    def to_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "backend": self.backend,
            "project": self.project,
            "dimensions": list(self.dimensions),
            "filters": {k: _filter_json(v) for k, v in sorted(self.filters.items())},
            "cells": [[list(k[0]), k[1], v] for k, v in sorted(self.cells.items())],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ReleasedTable:
        return cls(
            file=data["file"],
            backend=data["backend"],
            project=data["project"],
            dimensions=tuple(data["dimensions"]),
            filters={
                k: parse_filter(v, where=f"ledger entry {data['file']}, filter {k!r}")
                for k, v in data["filters"].items()
            },
            cells={(tuple(c[0]), c[1]): c[2] for c in data["cells"]},
        )


@dataclass(frozen=True)
class Clash:
    """A cell that differencing two released tables gives away."""

    cell: CellKey
    value: int
    how: str  # e.g. "'all.csv' minus 'males.csv'"


def parse_filter(value: object, *, where: str) -> Filter:
    """A filter from its JSON form, or an OutputFileError naming ``where``."""
    if isinstance(value, list) and value and all(isinstance(v, str | int) for v in value):
        return frozenset(str(v) for v in value)
    if isinstance(value, dict) and set(value) == {"from", "to"}:
        start, end = value["from"], value["to"]
        same = isinstance(start, str) == isinstance(end, str)
        if same and all(isinstance(v, str | int | float) for v in (start, end)) and start <= end:
            return Interval(start, end)
    raise OutputFileError(
        f'{where}: expected a non-empty list of values or {{"from": a, "to": b}} with '
        f"a <= b, got {value!r}"
    )


def _filter_json(value: Filter) -> object:
    if isinstance(value, Interval):
        return {"from": value.start, "to": value.end}
    return sorted(value)


def contains(outer: Mapping[str, Filter], inner: Mapping[str, Filter]) -> bool:
    """Whether every patient ``inner``'s filters keep is also kept by ``outer``'s."""
    for name, allowed in outer.items():
        kept = inner.get(name)
        if kept is None or type(kept) is not type(allowed):
            return False
        if isinstance(kept, Interval):
            if not kept.within(allowed):  # type: ignore[arg-type]
                return False
        elif not kept <= allowed:  # type: ignore[operator]
            return False
    return True


def union(a: Mapping[str, Filter], b: Mapping[str, Filter]) -> dict[str, Filter] | None:
    """The filters of ``a`` plus ``b`` when the two populations are disjoint and add up to one
    population fedsafe can name (same filters but disjoint value lists on one attribute:
    males plus females), else None."""
    if set(a) != set(b):
        return None
    differing = [name for name in a if a[name] != b[name]]
    if len(differing) != 1:
        return None
    name = differing[0]
    left, right = a[name], b[name]
    if isinstance(left, frozenset) and isinstance(right, frozenset) and not left & right:
        return {**a, name: left | right}
    return None


def clashes(bigger: ReleasedTable, smaller: ReleasedTable, threshold: int, how: str) -> list[Clash]:
    """Cells of ``bigger`` minus ``smaller`` (whose population ``bigger`` contains) that come to
    1..``threshold``: a small group the pair reveals although neither table shows it."""
    found = []
    for key, count in sorted(bigger.cells.items()):
        other = smaller.cells.get(key)
        if count is None or other is None:
            continue
        if 1 <= count - other <= threshold:
            found.append(Clash(key, count - other, how))
    return found


def added(a: ReleasedTable, b: ReleasedTable, filters: Mapping[str, Filter]) -> ReleasedTable:
    """The table ``a`` plus ``b`` (cells published in both), with the given filters."""
    cells: dict[CellKey, int | None] = {}
    for key, count in a.cells.items():
        other = b.cells.get(key)
        cells[key] = None if count is None or other is None else count + other
    return ReleasedTable(f"{a.file} + {b.file}", a.backend, a.project, a.dimensions, filters, cells)


def read_released_table(path: Path, *, backend: str, project: str) -> ReleasedTable:
    """A released file as the ledger records it: label columns are its dimensions, count
    columns its cells (a histogram image's bins, from its sidecar, count as a table too)."""
    # Imported here: the checker imports nothing from the ledger, and this keeps it so.
    from fedsafe.disclosure.checker import column_kinds

    path = Path(path)
    sidecar = read_sidecar(path)
    release = dict(sidecar.release or {}) if sidecar else {}
    unknown = sorted(set(release) - {"filters"})
    if unknown:
        raise OutputFileError(
            f"{sidecar.path if sidecar else path}: 'release' has unknown key(s) "
            f"{', '.join(map(repr, unknown))}; expected only 'filters'"
        )
    raw_filters = release.get("filters", {})
    if not isinstance(raw_filters, dict):
        raise OutputFileError(f"{path}: sidecar 'release.filters' must be an object")
    filters = {
        str(k): parse_filter(v, where=f"{path}: sidecar release filter {k!r}")
        for k, v in raw_filters.items()
    }
    cells: dict[CellKey, int | None] = {}
    if sidecar is not None and sidecar.histogram is not None:
        edges = sidecar.histogram.get("edges", [])
        counts = sidecar.histogram.get("counts", [])
        for index, count in enumerate(counts):
            label = f"[{edges[index]}, {edges[index + 1]})"
            cells[((label,), "count")] = count
        return ReleasedTable(str(path), backend, project, ("bin",), filters, cells)
    table = read_table(path)
    kinds = column_kinds(table, sidecar)
    dimensions = tuple(c for c, (kind, _) in kinds.items() if kind == "label")
    counts_columns = [c for c, (kind, _) in kinds.items() if kind == "count"]
    rows = len(next(iter(table.columns.values()), []))
    for index in range(rows):
        labels = tuple(str(table.columns[d][index]) for d in dimensions)
        for column in counts_columns:
            value = parse_number(table.columns[column][index])
            key = (labels, column)
            if key in cells:
                raise OutputFileError(
                    f"{path}, row {index + 1}: the labels {labels} appear twice; a released "
                    "table needs one row per combination of its label columns"
                )
            cells[key] = int(value) if isinstance(value, int | float) else None
            if isinstance(value, Redacted):
                cells[key] = None
    return ReleasedTable(str(path), backend, project, dimensions, filters, cells)


def canonical(data: object) -> str:
    """JSON text that is the same for the same data (sorted keys, no spaces): what is hashed."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"))
