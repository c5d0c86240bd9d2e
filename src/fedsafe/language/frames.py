"""Frames (tables of rows) and the way tables are declared.

A table is declared as a class whose attributes are ``Series(type, ...)`` column declarations and
whose methods are helpers (``patients.age_on``); ``@table`` turns the class into the frame
researchers import. Filtering or sorting keeps the class, so helpers still work on the result.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from fedsafe.language.series import BaseSeries, to_node, wrap
from fedsafe.query_model import nodes as qm
from fedsafe.query_model.schema import Column, TableSchema
from fedsafe.query_model.types import is_valid_type, parse_text


class Series:
    """A column declaration on a table class (not a series of values itself)."""

    def __init__(
        self,
        type_: type,
        *,
        description: str = "",
        constraints: Any = (),
        required: bool = True,
        implementation_notes_to_add_to_description: str = "",
        notes_for_implementors: str = "",
    ) -> None:
        if not is_valid_type(type_):
            raise TypeError(f"{type_!r} is not a column type fedsafe supports")
        self.type = type_
        self.description = description
        self.constraints = tuple(constraints)
        self.name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, instance: BaseFrame | None, owner: type) -> Any:
        if instance is None:
            return self
        return wrap(qm.SelectColumn(instance._node, self.name))

    def to_column(self) -> Column:
        return Column(self.name, self.type, self.description, self.constraints)


class BaseFrame:
    """Rows of a table, filtered or sorted."""

    _node: qm.Frame

    def __init__(self, node: qm.Frame) -> None:
        object.__setattr__(self, "_node", node)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} frame>"

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        schema: TableSchema = self._node.schema  # type: ignore[attr-defined]
        raise AttributeError(
            f"Table {_table_name(self._node)!r} has no column {name!r}. "
            f"Its columns are: {', '.join(schema.column_names)}"
        )

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("frames cannot be changed: filter or sort them to make new ones")

    def __bool__(self) -> bool:
        raise TypeError("A frame is a table of rows; it can't be used as True or False")

    def __hash__(self) -> int:
        return hash(self._node)

    def exists_for_patient(self) -> BaseSeries:
        """True for each patient with at least one row, False otherwise."""
        return wrap(qm.Aggregate(qm.AggOp.EXISTS, self._node))


def _table_name(node: qm.Frame) -> str:
    if isinstance(node, qm.ManyRowsFrame):
        return node.root.name
    if isinstance(node, qm.SelectPatientTable):
        return node.name
    if isinstance(node, qm.InlinePatientTable):
        return "inline table"
    if isinstance(node, qm.PickOneRowPerPatient):
        return node.source.root.name
    return "?"


class PatientFrame(BaseFrame):
    """At most one row per patient."""

    def count_for_patient(self) -> BaseSeries:
        """1 for each patient with a row, 0 otherwise."""
        exists = qm.Aggregate(qm.AggOp.EXISTS, self._node)
        return wrap(qm.Function(qm.Op.CAST_TO_INT, (exists,)))


class EventFrame(BaseFrame):
    """Any number of rows per patient."""

    _node: qm.ManyRowsFrame

    def _condition(self, condition: Any) -> qm.Series:
        if isinstance(condition, BaseFrame):
            raise TypeError("where() needs a condition (a boolean series), not a frame")
        if isinstance(condition, bool):
            return qm.Value(condition)
        if not isinstance(condition, BaseSeries):
            raise TypeError(f"where() needs a boolean series as its condition, not {condition!r}")
        return to_node(condition)

    def where(self, condition: Any) -> EventFrame:
        """The rows where ``condition`` is True (rows where it is NULL are dropped)."""
        return type(self)(qm.Filter(self._node, self._condition(condition)))

    def except_where(self, condition: Any) -> EventFrame:
        """All rows except those where ``condition`` is True (rows where it is NULL are kept)."""
        node = self._condition(condition)
        keep = qm.Function(
            qm.Op.OR,
            (qm.Function(qm.Op.NOT, (node,)), qm.Function(qm.Op.IS_NULL, (node,))),
        )
        return type(self)(qm.Filter(self._node, keep))

    def sort_by(self, *sort_order: Any) -> EventFrame:
        """Order each patient's rows by these series (the first is the main key; NULLs first)."""
        if not sort_order:
            raise TypeError("sort_by() needs at least one series to sort by")
        node = self._node
        for series in reversed(sort_order):
            if isinstance(series, BaseFrame | bool) or series is None:
                raise TypeError(f"sort_by() takes series, not {series!r}")
            node = qm.Sort(node, to_node(series))
        return type(self)(node)

    def _pick(self, position: qm.Position) -> PatientFrame:
        if not qm.frame_sorts(self._node):
            method = f"{position.value}_for_patient"
            raise TypeError(f"Call .sort_by(...) before .{method}() to say which row comes first")
        node = qm.PickOneRowPerPatient(self._node, position)
        return picked_frame_class(type(self))(node)

    def first_for_patient(self) -> PatientFrame:
        """Each patient's first row in the sort order."""
        return self._pick(qm.Position.FIRST)

    def last_for_patient(self) -> PatientFrame:
        """Each patient's last row in the sort order."""
        return self._pick(qm.Position.LAST)

    def count_for_patient(self) -> BaseSeries:
        """The number of rows each patient has (0 if none)."""
        return wrap(qm.Aggregate(qm.AggOp.COUNT, self._node))


@cache
def picked_frame_class(event_class: type[EventFrame]) -> type[PatientFrame]:
    """A patient frame class with the same columns as ``event_class`` (but not its helpers).

    Derived columns (properties such as ``addresses.imd_quintile``) come along, because they
    are read from one row just as stored columns are.
    """
    namespace: dict[str, Any] = dict(declared_properties(event_class))
    namespace.update(_declared_columns(event_class))
    return type(event_class.__name__, (PatientFrame,), namespace)


def declared_properties(cls: type) -> dict[str, property]:
    found: dict[str, property] = {}
    for klass in reversed(cls.__mro__):
        if klass in (EventFrame, BaseFrame, object):
            continue
        found.update({n: v for n, v in vars(klass).items() if isinstance(v, property)})
    return found


def _declared_columns(cls: type) -> dict[str, Series]:
    """The column declarations of a table class and its bases, subclasses overriding."""
    declared: dict[str, Series] = {}
    for klass in reversed(cls.__mro__):
        for name, value in vars(klass).items():
            if isinstance(value, Series):
                declared[name] = value
    return declared


def _declared_schema(cls: type) -> TableSchema:
    return TableSchema(tuple(series.to_column() for series in _declared_columns(cls).values()))


def _inline_value(column: Column, value: Any, where: str) -> Any:
    if value is None or value == "":
        return None
    if isinstance(value, str) and column.type is not str:
        try:
            return parse_text(column.type, value)
        except ValueError as error:
            raise ValueError(
                f"{where}, column {column.name}: {value!r} is not a valid "
                f"{getattr(column.type, '__name__', column.type)} ({error})"
            ) from None
    if isinstance(value, int) and column.type is float and not isinstance(value, bool):
        return float(value)
    return value


def _inline_frame(cls: type, rows: Any, source: str) -> PatientFrame:
    if not issubclass(cls, PatientFrame):
        raise TypeError("inline tables must subclass PatientFrame (one row per patient)")
    schema = _declared_schema(cls)
    converted = []
    for number, row in enumerate(rows, start=1):
        row = tuple(row)
        where = f"{source}, row {number}"
        if len(row) != len(schema.columns) + 1:
            raise ValueError(
                f"{where}: expected {len(schema.columns) + 1} values (patient_id, "
                f"{', '.join(schema.column_names)}), got {len(row)}"
            )
        try:
            patient_id = int(row[0])
        except (TypeError, ValueError):
            raise ValueError(f"{where}: patient_id {row[0]!r} is not a whole number") from None
        values = [_inline_value(c, v, where) for c, v in zip(schema.columns, row[1:], strict=True)]
        converted.append((patient_id, *values))
    return cls(qm.InlinePatientTable(tuple(converted), schema))


def table_from_rows(rows: Any) -> Any:
    """Declare a patient table whose rows are written in the definition: ``(patient_id, ...)``."""

    def decorator(cls: type) -> PatientFrame:
        return _inline_frame(cls, rows, "table_from_rows")

    return decorator


def table_from_file(path: Any) -> Any:
    """Declare a patient table read from a CSV file whose header names patient_id and the
    columns."""

    def decorator(cls: type) -> PatientFrame:
        import csv
        from pathlib import Path

        file = Path(path)
        try:
            with file.open(newline="", encoding="utf-8-sig") as handle:
                reader = csv.DictReader(handle)
                schema = _declared_schema(cls)
                wanted = ["patient_id", *schema.column_names]
                missing = [c for c in wanted if c not in (reader.fieldnames or [])]
                if missing:
                    raise ValueError(
                        f"{file}: missing column(s) {', '.join(missing)}; the header has "
                        f"{', '.join(reader.fieldnames or [])}"
                    )
                rows = [[record[c] for c in wanted] for record in reader]
        except FileNotFoundError:
            raise FileNotFoundError(f"table_from_file: {file} does not exist") from None
        return _inline_frame(cls, rows, str(file))

    return decorator


def table(cls: type) -> BaseFrame:
    """Turn a class of column declarations into the frame researchers query."""
    if not issubclass(cls, PatientFrame | EventFrame):
        raise TypeError("@table classes must subclass PatientFrame or EventFrame")
    schema = _declared_schema(cls)
    name = cls.__name__
    if issubclass(cls, PatientFrame):
        return cls(qm.SelectPatientTable(name, schema))
    return cls(qm.SelectTable(name, schema))


__all__ = [
    "BaseFrame",
    "EventFrame",
    "PatientFrame",
    "Series",
    "table",
    "table_from_file",
    "table_from_rows",
]
