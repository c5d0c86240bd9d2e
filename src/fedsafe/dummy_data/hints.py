"""What a definition's conditions say about the data it hopes to find.

Random data rarely satisfies a real population (registered on a date, aged 18 to 100, with a
code from a 300-code list), so the generator reads the query model for the constants each
column is compared with: the codelists a code column is tested against, the categories a text
column is matched to, the numbers a value is compared with, and every date in the definition.
It then draws values from those, so that conditions hold in realistic proportions instead of
almost never.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from fedsafe.query_model import nodes as qm

_COMPARISONS = frozenset({qm.Op.EQ, qm.Op.NE, qm.Op.LT, qm.Op.LE, qm.Op.GT, qm.Op.GE})

# Dates outside these are almost certainly sentinels ("before records began"), not study dates.
_EARLIEST_USEFUL = datetime.date(1900, 1, 1)
_LATEST_USEFUL = datetime.date(2100, 12, 31)


@dataclass(frozen=True)
class ColumnHints:
    """Constants a column of a table is compared with, as groups.

    Each group is one thing the definition asks about (one codelist, one ``== "value"``); the
    generator gives some patients rows from each group, so that every condition can be met by
    some and not by others.
    """

    groups: tuple[tuple[Any, ...], ...] = ()

    @property
    def values(self) -> tuple[Any, ...]:
        seen: dict[Any, None] = {}
        for group in self.groups:
            seen.update(dict.fromkeys(group))
        return tuple(seen)


@dataclass(frozen=True)
class Hints:
    """Everything the generator learns from a definition."""

    columns: dict[tuple[str, str], ColumnHints] = field(default_factory=dict)
    dates: tuple[datetime.date, ...] = ()

    def for_column(self, table: str, column: str) -> ColumnHints:
        return self.columns.get((table, column), ColumnHints())


def collect_hints(roots: Iterable[qm.Node]) -> Hints:
    """Read the constants each column is compared with, from every node under ``roots``."""
    groups: dict[tuple[str, str], dict[tuple[Any, ...], None]] = {}
    dates: set[datetime.date] = set()

    def add(column: tuple[str, str] | None, values: Iterable[Any]) -> None:
        group = tuple(v for v in values if v is not None)
        if column is not None and group:
            groups.setdefault(column, {})[group] = None

    for root in roots:
        for node in qm.walk(root):
            if (
                isinstance(node, qm.Value)
                and type(node.value) is datetime.date
                and _EARLIEST_USEFUL <= node.value <= _LATEST_USEFUL
            ):
                dates.add(node.value)
            if not isinstance(node, qm.Function):
                continue
            if node.op is qm.Op.IN and isinstance(node.args[1], qm.ValueSet):
                add(column_of(node.args[0]), node.args[1].values)
            elif node.op in _COMPARISONS:
                left, right = node.args
                if isinstance(right, qm.Value):
                    add(column_of(left), [right.value])
                elif isinstance(left, qm.Value):
                    add(column_of(right), [left.value])
    columns = {key: ColumnHints(tuple(found)) for key, found in sorted(groups.items())}
    return Hints(columns=columns, dates=tuple(sorted(dates)))


def column_of(series: Any) -> tuple[str, str] | None:
    """The ``(table, column)`` a series reads directly, or None for a computed series."""
    if not isinstance(series, qm.SelectColumn):
        return None
    table = root_table(series.source)
    return None if table is None else (table.name, series.name)


def root_table(frame: qm.Node) -> qm.SelectTable | qm.SelectPatientTable | None:
    """The stored table under filters, sorts and picks (None for inline tables)."""
    while True:
        if isinstance(frame, qm.SelectTable | qm.SelectPatientTable):
            return frame
        source = getattr(frame, "source", None)
        if source is None:
            return None
        frame = source
