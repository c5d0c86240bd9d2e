"""Logical table schemas, with column constraints held as data.

Dummy data generation, documentation and input validation all read the same constraints, so a
constraint is declared once, next to the column it describes.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field
from typing import Any

from fedsafe.query_model.types import Type, type_name


class Constraint:
    """Namespace for the constraints a column can carry."""

    @dataclass(frozen=True)
    class NotNull:
        """Every row has a value."""

        description = "Never NULL"

    @dataclass(frozen=True)
    class Unique:
        """No two rows share a value."""

        description = "Unique"

    @dataclass(frozen=True)
    class FirstOfMonth:
        """Dates are rounded to the first of the month (e.g. dates of birth)."""

        description = "Always the first day of a month"

    @dataclass(frozen=True)
    class Categorical:
        """The column takes only these values."""

        values: tuple[Any, ...]

        @property
        def description(self) -> str:
            return "Possible values: " + ", ".join(f"`{v}`" for v in self.values)

    @dataclass(frozen=True)
    class Regex:
        """String values match this regular expression."""

        regex: str

        def __post_init__(self) -> None:
            re.compile(self.regex)

        @property
        def description(self) -> str:
            return f"Matches regular expression: `{self.regex}`"

    @dataclass(frozen=True)
    class ClosedRange:
        """Values lie in ``[minimum, maximum]``, optionally on a step."""

        minimum: Any
        maximum: Any
        step: Any = 1

        @property
        def description(self) -> str:
            return f"Always >= {self.minimum} and <= {self.maximum}"

    @dataclass(frozen=True)
    class DateAfter:
        """Dates are on or after the given date, or after the date in another column."""

        before: tuple[str, ...] = ()
        date: datetime.date | None = None

        @property
        def description(self) -> str:
            parts = list(self.before) + ([self.date.isoformat()] if self.date else [])
            return "Always on or after " + " and ".join(parts)


CONSTRAINT_TYPES: dict[str, type] = {
    name: value for name, value in vars(Constraint).items() if isinstance(value, type)
}


@dataclass(frozen=True)
class Column:
    """One column of a logical table."""

    name: str
    type: Type
    description: str = ""
    constraints: tuple[Any, ...] = ()

    def __post_init__(self) -> None:
        if not self.name.isidentifier() or self.name.startswith("_"):
            raise ValueError(f"column name {self.name!r} must be a Python identifier")
        if self.name == "patient_id":
            raise ValueError("'patient_id' is implicit in every table; do not declare it")

    def has_constraint(self, kind: type) -> bool:
        return any(isinstance(c, kind) for c in self.constraints)

    def get_constraint(self, kind: type) -> Any | None:
        return next((c for c in self.constraints if isinstance(c, kind)), None)

    @property
    def nullable(self) -> bool:
        return not self.has_constraint(Constraint.NotNull)


@dataclass(frozen=True)
class TableSchema:
    """The columns of a logical table, in order. ``patient_id`` is implicit."""

    columns: tuple[Column, ...]
    _by_name: dict[str, Column] = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        by_name: dict[str, Column] = {}
        for column in self.columns:
            if column.name in by_name:
                raise ValueError(f"column {column.name!r} is declared twice")
            by_name[column.name] = column
        object.__setattr__(self, "_by_name", by_name)

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def get_column(self, name: str) -> Column:
        try:
            return self._by_name[name]
        except KeyError:
            raise KeyError(name) from None

    def has_column(self, name: str) -> bool:
        return name in self._by_name

    def describe(self) -> str:
        return ", ".join(f"{c.name} ({type_name(c.type)})" for c in self.columns)
