"""The nodes of the query model.

Each node is a small frozen dataclass whose ``__post_init__`` checks its types and *domain* (which
table's rows a series ranges over), so that an invalid query cannot be built: the language raises
at the line the researcher wrote, and engines trust what they are given.

A series has a *domain*: either patient level (one value per patient) or the rows of one
many-rows table (its *root*). Series from the same root can be combined row by row, whatever
filters and sorts sit between them; a patient-level series can be combined with anything. Frames
built by filtering carry a *presence* condition: a row of the root is in the frame only where
every condition holds.
"""

from __future__ import annotations

import datetime
import enum
import math
from collections.abc import Iterator
from dataclasses import dataclass, field, fields
from functools import cached_property
from typing import Any

from fedsafe.codes import BaseCode
from fedsafe.query_model.schema import Column, TableSchema
from fedsafe.query_model.types import (
    Type,
    describe_type,
    is_code_type,
    is_comparable,
    is_numeric,
    is_valid_type,
    with_article,
)


class QueryModelError(ValueError):
    """A query that cannot be built, explained in the researcher's terms."""


class DomainError(QueryModelError):
    """Series from incompatible row sets were combined."""


class QueryTypeError(QueryModelError, TypeError):
    """A value of the wrong type was given to an operation."""


# --------------------------------------------------------------------------------------------
# Base classes


@dataclass(frozen=True)
class Node:
    """Base of every node. Equality and hashing are structural."""

    def children(self) -> Iterator[Node]:
        for f in fields(self):
            yield from _nodes_in(getattr(self, f.name))

    def __hash__(self) -> int:
        return _cached_hash(self)


def _nodes_equal(a: Node, b: Node, memo: set[tuple[int, int]]) -> bool:
    """Structural equality that visits each pair of shared subtrees once, not once per path."""
    if a is b:
        return True
    if type(a) is not type(b) or hash(a) != hash(b):
        return False
    key = (id(a), id(b))
    if key in memo:
        return True
    for f in fields(a):
        if not _values_equal(getattr(a, f.name), getattr(b, f.name), memo):
            return False
    memo.add(key)
    return True


def _values_equal(x: Any, y: Any, memo: set[tuple[int, int]]) -> bool:
    if isinstance(x, Node) and isinstance(y, Node):
        if type(x).__eq__ is not _node_eq:  # nodes with their own notion of equality
            return x == y
        return _nodes_equal(x, y, memo)
    if isinstance(x, tuple) and isinstance(y, tuple):
        return len(x) == len(y) and all(_values_equal(a, b, memo) for a, b in zip(x, y))
    return type(x) is type(y) and x == y


def _node_eq(self: Node, other: object) -> bool:
    if not isinstance(other, Node):
        return NotImplemented
    return _nodes_equal(self, other, set())


def _cached_hash(node: Node) -> int:
    """Structural hash, computed once: trees are hashed repeatedly when deduplicated."""
    try:
        return node.__dict__["_hash"]
    except KeyError:
        value = hash((type(node), *(getattr(node, f.name) for f in fields(node))))
        node.__dict__["_hash"] = value
        return value


def node(cls: type) -> type:
    """Make ``cls`` a frozen dataclass node that keeps the cached structural hash."""
    explicit_hash = "__hash__" in cls.__dict__
    explicit_eq = "__eq__" in cls.__dict__
    cls = dataclass(frozen=True, eq=True)(cls)
    if not explicit_hash:
        cls.__hash__ = _cached_hash  # type: ignore[method-assign]
    if not explicit_eq:
        cls.__eq__ = _node_eq  # type: ignore[method-assign]
    return cls


def _nodes_in(value: Any) -> Iterator[Node]:
    if isinstance(value, Node):
        yield value
    elif isinstance(value, tuple):
        for item in value:
            yield from _nodes_in(item)


class Frame(Node):
    """Rows of data: one per patient, or many."""


class ManyRowsFrame(Frame):
    """A frame with any number of rows per patient."""

    @property
    def root(self) -> SelectTable:
        raise NotImplementedError

    @property
    def table_name(self) -> str:
        return self.root.name


class OneRowPerPatientFrame(Frame):
    """A frame with at most one row per patient."""


class Series(Node):
    """A column of values of one type, at patient level or over a table's rows."""

    @property
    def type(self) -> Type:
        raise NotImplementedError

    @property
    def domain(self) -> Domain:
        raise NotImplementedError


@dataclass(frozen=True)
class Domain:
    """Which rows a series ranges over: ``root=None`` means one value per patient."""

    root: SelectTable | None = None

    @property
    def is_patient(self) -> bool:
        return self.root is None

    def describe(self) -> str:
        return "patient level" if self.root is None else f"rows of {self.root.name}"


PATIENT = Domain(None)


def combine_domains(*domains: Domain, action: str = "combine these series") -> Domain:
    roots = {d.root for d in domains if d.root is not None}
    if len(roots) > 1:
        names = " and ".join(sorted(r.name for r in roots))
        raise DomainError(
            f"Cannot {action}: they come from different tables ({names}), which have different "
            "rows. Reduce one of them to one value per patient first, e.g. with "
            ".exists_for_patient(), .count_for_patient() or .sort_by(...).first_for_patient()."
        )
    return Domain(roots.pop()) if roots else PATIENT


def _require_series(value: Any, what: str) -> Series:
    if not isinstance(value, Series):
        raise QueryTypeError(f"{what} must be a series, not {type(value).__name__}")
    return value


# --------------------------------------------------------------------------------------------
# Frames


@node
class SelectTable(ManyRowsFrame):
    """A many-rows table, e.g. ``clinical_events``."""

    name: str
    schema: TableSchema = field(compare=True)

    def __post_init__(self) -> None:
        _check_table(self.name, self.schema)

    @property
    def root(self) -> SelectTable:
        return self

    @property
    def presence(self) -> tuple[Series, ...]:
        return ()


@node
class SelectPatientTable(OneRowPerPatientFrame):
    """A table with at most one row per patient, e.g. ``patients``."""

    name: str
    schema: TableSchema = field(compare=True)

    def __post_init__(self) -> None:
        _check_table(self.name, self.schema)


def _check_table(name: Any, schema: Any) -> None:
    if not isinstance(name, str) or not name.isidentifier():
        raise QueryModelError(f"table name {name!r} must be an identifier")
    if not isinstance(schema, TableSchema):
        raise QueryTypeError(f"table {name!r} needs a TableSchema, not {type(schema).__name__}")
    for column in schema.columns:
        if not isinstance(column, Column) or not is_valid_type(column.type):
            raise QueryTypeError(f"table {name!r} has a column with no valid type: {column!r}")


@node
class InlinePatientTable(OneRowPerPatientFrame):
    """A small table written in the definition itself (``table_from_rows``/``table_from_file``).

    Each row is ``(patient_id, value, ...)`` with one value per schema column, in order.
    """

    rows: tuple[tuple[Any, ...], ...]
    schema: TableSchema = field(compare=True)

    def __post_init__(self) -> None:
        seen: set[int] = set()
        width = len(self.schema.columns) + 1
        for number, row in enumerate(self.rows, start=1):
            if not isinstance(row, tuple) or len(row) != width:
                raise QueryModelError(
                    f"row {number} of the inline table must have {width} values (patient_id "
                    f"then {', '.join(self.schema.column_names)})"
                )
            patient_id = row[0]
            if isinstance(patient_id, bool) or not isinstance(patient_id, int):
                raise QueryTypeError(f"row {number}: patient_id must be an integer")
            if patient_id in seen:
                raise QueryModelError(
                    f"row {number}: patient {patient_id} appears twice, but an inline table has "
                    "one row per patient"
                )
            seen.add(patient_id)
            for column, value in zip(self.schema.columns, row[1:], strict=True):
                if value is not None and _check_scalar(value) is not column.type:
                    raise QueryTypeError(
                        f"row {number}, column {column.name}: {value!r} is not "
                        f"{with_article(column.type)}"
                    )


@node
class Filter(ManyRowsFrame):
    """The rows of ``source`` where ``condition`` is true (NULL counts as false)."""

    source: ManyRowsFrame
    condition: Series

    def __post_init__(self) -> None:
        if not isinstance(self.source, ManyRowsFrame):
            raise QueryTypeError("only a frame with many rows per patient can be filtered")
        _require_series(self.condition, "the condition in where()/except_where()")
        if self.condition.type is not bool:
            raise QueryTypeError(
                "The condition in where()/except_where() must be a boolean series, not a "
                f"{describe_type(self.condition.type)} series"
            )
        combine_domains(
            Domain(self.source.root),
            self.condition.domain,
            action=f"filter {self.source.root.name} by this condition",
        )

    @property
    def root(self) -> SelectTable:
        return self.source.root

    @property
    def schema(self) -> TableSchema:
        return self.source.root.schema


@node
class Sort(ManyRowsFrame):
    """The rows of ``source`` ordered by ``sort_by`` (NULLs first), then by earlier sorts."""

    source: ManyRowsFrame
    sort_by: Series

    def __post_init__(self) -> None:
        if not isinstance(self.source, ManyRowsFrame):
            raise QueryTypeError("only a frame with many rows per patient can be sorted")
        _require_series(self.sort_by, "a sort_by() argument")
        if not (is_comparable(self.sort_by.type) or is_code_type(self.sort_by.type)):
            raise QueryTypeError(f"cannot sort by {with_article(self.sort_by.type)} series")
        combine_domains(
            Domain(self.source.root),
            self.sort_by.domain,
            action=f"sort {self.source.root.name} by this series",
        )

    @property
    def root(self) -> SelectTable:
        return self.source.root

    @property
    def schema(self) -> TableSchema:
        return self.source.root.schema


class Position(enum.Enum):
    FIRST = "first"
    LAST = "last"


@node
class PickOneRowPerPatient(OneRowPerPatientFrame):
    """The first or last row of each patient in a sorted frame."""

    source: ManyRowsFrame
    position: Position

    def __post_init__(self) -> None:
        if not isinstance(self.source, ManyRowsFrame) or not frame_sorts(self.source):
            raise QueryTypeError(
                "first_for_patient()/last_for_patient() need a sorted frame: call "
                ".sort_by(...) first"
            )
        if not isinstance(self.position, Position):
            raise QueryTypeError("position must be Position.FIRST or Position.LAST")

    @property
    def schema(self) -> TableSchema:
        return self.source.root.schema


def frame_filters(frame: ManyRowsFrame) -> tuple[Series, ...]:
    """The filter conditions on a frame, innermost first."""
    conditions: list[Series] = []
    while not isinstance(frame, SelectTable):
        if isinstance(frame, Filter):
            conditions.append(frame.condition)
        frame = frame.source  # type: ignore[attr-defined]
    return tuple(reversed(conditions))


def frame_sorts(frame: ManyRowsFrame) -> tuple[Series, ...]:
    """Sort keys in priority order: the last sort_by() applied is the primary key."""
    keys: list[Series] = []
    while not isinstance(frame, SelectTable):
        if isinstance(frame, Sort):
            keys.append(frame.sort_by)
        frame = frame.source  # type: ignore[attr-defined]
    return tuple(keys)


def frame_for_series(series: Series) -> ManyRowsFrame:
    """The frame whose rows a row-level series ranges over: its root, filtered as its columns are.

    Series from several frames of one root are combined row by row; a row takes part only where
    every frame it reads has it, so the filters of all of them apply.
    """
    root = series.domain.root
    assert root is not None
    frame: ManyRowsFrame = root
    conditions: list[Series] = []
    stack: list[Node] = [series]
    while stack:
        node = stack.pop()
        if isinstance(node, SelectColumn):
            if isinstance(node.source, ManyRowsFrame):
                for condition in frame_filters(node.source):
                    if condition not in conditions:
                        conditions.append(condition)
        elif isinstance(node, Function | Case):
            # Patient-level sources (aggregates, picked rows) keep their own frames.
            stack.extend(node.children())
    for condition in conditions:
        frame = Filter(frame, condition)
    return frame


# --------------------------------------------------------------------------------------------
# Series


@node
class SelectColumn(Series):
    """One column of a frame."""

    source: Frame
    name: str

    def __post_init__(self) -> None:
        if not isinstance(self.source, Frame):
            raise QueryTypeError("a column can only be selected from a frame")
        schema = self.source.schema  # type: ignore[attr-defined]
        if not schema.has_column(self.name):
            table = _frame_table_name(self.source)
            raise QueryModelError(
                f"Table {table!r} has no column {self.name!r}. "
                f"Its columns are: {', '.join(schema.column_names)}"
            )

    @property
    def type(self) -> Type:
        return self.source.schema.get_column(self.name).type  # type: ignore[attr-defined]

    @property
    def domain(self) -> Domain:
        if isinstance(self.source, ManyRowsFrame):
            return Domain(self.source.root)
        return PATIENT


def _frame_table_name(frame: Frame) -> str:
    if isinstance(frame, ManyRowsFrame):
        return frame.root.name
    if isinstance(frame, SelectPatientTable):
        return frame.name
    if isinstance(frame, InlinePatientTable):
        return "inline table"
    if isinstance(frame, PickOneRowPerPatient):
        return frame.source.root.name
    return "?"


def _check_scalar(value: Any) -> Type:
    if isinstance(value, bool):
        return bool
    if isinstance(value, int):
        if not -(2**63) <= value < 2**63:
            raise QueryTypeError(f"integer {value} is too large: values must fit in 64 bits")
        return int
    if isinstance(value, float):
        if not math.isfinite(value):
            raise QueryTypeError(f"{value!r} is not allowed: use a finite number")
        return float
    if isinstance(value, str):
        return str
    if isinstance(value, datetime.datetime):
        raise QueryTypeError("use a date (datetime.date), not a datetime")
    if isinstance(value, datetime.date):
        return datetime.date
    if isinstance(value, BaseCode):
        return type(value)
    raise QueryTypeError(f"{value!r} ({type(value).__name__}) is not a value fedsafe can use")


@node
class Value(Series):
    """A constant, the same for every patient."""

    value: Any

    def __post_init__(self) -> None:
        if self.value is None:
            raise QueryTypeError("a constant cannot be None here")
        _check_scalar(self.value)

    @property
    def type(self) -> Type:
        return _check_scalar(self.value)

    @property
    def domain(self) -> Domain:
        return PATIENT

    # Value(True) and Value(1) must not be equal nodes (Python says True == 1), nor Value(0.0)
    # and Value(-0.0): serialisation would merge them into one.
    def _key(self) -> tuple[Any, ...]:
        value = self.value
        sign = math.copysign(1.0, value) if isinstance(value, float) else None
        return (type(value), value, sign)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Value) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash((Value, *self._key()))


@node
class ValueSet(Node):
    """A set of constants of one type, e.g. a codelist, kept sorted for stable serialisation."""

    values: tuple[Any, ...]
    type: Type

    def __post_init__(self) -> None:
        if not is_valid_type(self.type):
            raise QueryTypeError(f"{self.type!r} is not a value type")
        for value in self.values:
            if value is None:
                raise QueryTypeError("a set of values cannot contain None")
            if _check_scalar(value) is not self.type:
                raise QueryTypeError(
                    f"{value!r} is {with_article(_check_scalar(value))}, but the other values "
                    f"are {describe_type(self.type)}s"
                )
        ordered = tuple(sorted(set(self.values), key=_sort_key))
        if ordered != self.values:
            object.__setattr__(self, "values", ordered)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ValueSet) and (self.type, self.values) == (
            other.type,
            other.values,
        )

    def __hash__(self) -> int:
        return hash((ValueSet, self.type, self.values))


def _sort_key(value: Any) -> Any:
    return value.value if isinstance(value, BaseCode) else value


class Op(enum.Enum):
    """Row-by-row operations. The value is the number of arguments (-1: two or more)."""

    EQ = "eq"
    NE = "ne"
    LT = "lt"
    LE = "le"
    GT = "gt"
    GE = "ge"
    AND = "and"
    OR = "or"
    NOT = "not"
    IS_NULL = "is_null"
    COALESCE = "coalesce"
    IN = "in"
    ADD = "add"
    SUB = "sub"
    MUL = "mul"
    TRUEDIV = "truediv"
    FLOORDIV = "floordiv"
    NEG = "neg"
    ABS = "abs"
    POW = "pow"
    CAST_TO_INT = "cast_to_int"
    CAST_TO_FLOAT = "cast_to_float"
    STR_CONTAINS = "str_contains"
    YEAR = "year"
    MONTH = "month"
    DAY = "day"
    TO_FIRST_OF_MONTH = "to_first_of_month"
    TO_FIRST_OF_YEAR = "to_first_of_year"
    DATE_ADD_DAYS = "date_add_days"
    DATE_ADD_MONTHS = "date_add_months"
    DATE_ADD_YEARS = "date_add_years"
    DATE_DIFF_DAYS = "date_diff_days"
    DATE_DIFF_MONTHS = "date_diff_months"
    DATE_DIFF_YEARS = "date_diff_years"
    MAXIMUM_OF = "maximum_of"
    MINIMUM_OF = "minimum_of"


_COMPARISONS = {Op.EQ, Op.NE, Op.LT, Op.LE, Op.GT, Op.GE}
_ORDERINGS = {Op.LT, Op.LE, Op.GT, Op.GE}
_ARITHMETIC = {Op.ADD, Op.SUB, Op.MUL}
_DATE_PARTS = {Op.YEAR, Op.MONTH, Op.DAY}
_DATE_ROUNDING = {Op.TO_FIRST_OF_MONTH, Op.TO_FIRST_OF_YEAR}
_DATE_ADD = {Op.DATE_ADD_DAYS, Op.DATE_ADD_MONTHS, Op.DATE_ADD_YEARS}
_DATE_DIFF = {Op.DATE_DIFF_DAYS, Op.DATE_DIFF_MONTHS, Op.DATE_DIFF_YEARS}

_ARITY = {
    **dict.fromkeys(_COMPARISONS | _ARITHMETIC | _DATE_ADD | _DATE_DIFF, 2),
    **dict.fromkeys({Op.AND, Op.OR, Op.COALESCE, Op.IN, Op.TRUEDIV, Op.FLOORDIV}, 2),
    **dict.fromkeys({Op.STR_CONTAINS}, 2),
    **dict.fromkeys({Op.NOT, Op.IS_NULL, Op.NEG, Op.ABS, Op.CAST_TO_INT, Op.CAST_TO_FLOAT}, 1),
    Op.POW: 2,
    **dict.fromkeys(_DATE_PARTS | _DATE_ROUNDING, 1),
}


def _type_error(op: Op, message: str) -> QueryTypeError:
    return QueryTypeError(message)


def _same_type(op: Op, types: list[Type], what: str) -> Type:
    first = types[0]
    for other in types[1:]:
        if other is not first:
            raise _type_error(
                op,
                f"Cannot {what} {with_article(first)} and {with_article(other)}: "
                "both sides must be the same type",
            )
    return first


def _function_type(op: Op, args: tuple[Any, ...]) -> Type:
    if op is Op.IN:
        lhs, values = args
        if not isinstance(values, ValueSet):
            raise QueryTypeError("is_in() needs a collection of values")
        if values.type is not lhs.type:
            raise QueryTypeError(
                f"Cannot check whether {with_article(lhs.type)} is in a collection of "
                f"{describe_type(values.type)}s"
            )
        return bool
    types = [a.type for a in args]
    if op in (Op.EQ, Op.NE):
        _same_type(op, types, "compare")
        return bool
    if op in _ORDERINGS:
        t = _same_type(op, types, "compare")
        if not is_comparable(t):
            raise QueryTypeError(f"{describe_type(t)} values have no order to compare")
        return bool
    if op in (Op.AND, Op.OR, Op.NOT):
        for t in types:
            if t is not bool:
                raise QueryTypeError(
                    f"&, | and ~ need boolean series, not {with_article(t)} series"
                )
        return bool
    if op is Op.IS_NULL:
        return bool
    if op is Op.COALESCE:
        return _same_type(op, types, "replace NULLs in")
    if op in _ARITHMETIC or op in (Op.TRUEDIV, Op.FLOORDIV):
        t = _same_type(op, types, "do arithmetic with")
        if not is_numeric(t):
            raise QueryTypeError(f"Cannot do arithmetic with {describe_type(t)} values")
        return {Op.TRUEDIV: float, Op.FLOORDIV: int}.get(op, t)
    if op is Op.POW:
        t = _same_type(op, types, "raise to a power")
        if not is_numeric(t):
            raise QueryTypeError(f"Cannot raise {describe_type(t)} values to a power")
        return float
    if op in (Op.NEG, Op.ABS):
        if not is_numeric(types[0]):
            raise QueryTypeError(f"Cannot negate {with_article(types[0])}")
        return types[0]
    if op in (Op.CAST_TO_INT, Op.CAST_TO_FLOAT):
        if types[0] not in (int, float, bool):
            raise QueryTypeError(f"Cannot convert {with_article(types[0])} to a number")
        return int if op is Op.CAST_TO_INT else float
    if op is Op.STR_CONTAINS:
        if types[0] is not str or types[1] is not str:
            raise QueryTypeError("contains() needs a string series and a string")
        return bool
    if op in _DATE_PARTS or op in _DATE_ROUNDING:
        if types[0] is not datetime.date:
            raise QueryTypeError(f"{op.value} needs a date, not {with_article(types[0])}")
        return int if op in _DATE_PARTS else datetime.date
    if op in _DATE_ADD:
        if types[0] is not datetime.date or types[1] is not int:
            raise QueryTypeError(
                f"Can only add a whole number of days, weeks, months or years to a date, not "
                f"{with_article(types[1])} to {with_article(types[0])}"
            )
        return datetime.date
    if op in _DATE_DIFF:
        for t in types:
            if t is not datetime.date:
                raise QueryTypeError(f"Cannot subtract {with_article(t)} from a date")
        return int
    if op in (Op.MAXIMUM_OF, Op.MINIMUM_OF):
        t = _same_type(op, types, "take the maximum or minimum of")
        if not is_comparable(t):
            raise QueryTypeError(f"{describe_type(t)} values have no order")
        return t
    raise AssertionError(f"no type rule for {op}")  # pragma: no cover


@node
class Function(Series):
    """An operation applied row by row (or patient by patient)."""

    op: Op
    args: tuple[Any, ...]

    def __post_init__(self) -> None:
        if not isinstance(self.op, Op):
            raise QueryTypeError(f"unknown operation {self.op!r}")
        if not isinstance(self.args, tuple):
            object.__setattr__(self, "args", tuple(self.args))
        arity = _ARITY.get(self.op, -1)
        if arity == -1:
            if len(self.args) < 2:
                raise QueryTypeError(f"{self.op.value} needs at least two values")
        elif len(self.args) != arity:
            raise QueryTypeError(f"{self.op.value} takes {arity} argument(s)")
        series_args = self.args[:1] if self.op is Op.IN else self.args
        for arg in series_args:
            _require_series(arg, f"an argument of {self.op.value}")
        self.__dict__["_type"] = _function_type(self.op, self.args)
        combine_domains(*(a.domain for a in series_args))

    @property
    def type(self) -> Type:
        return self.__dict__["_type"]

    @cached_property
    def domain(self) -> Domain:
        args = self.args[:1] if self.op is Op.IN else self.args
        return combine_domains(*(a.domain for a in args))


@node
class Case(Series):
    """The value for the first true condition, else ``default`` (NULL if None)."""

    cases: tuple[tuple[Series, Series | None], ...]
    default: Series | None = None

    def __post_init__(self) -> None:
        if not self.cases:
            raise QueryTypeError("case() needs at least one when(...).then(...)")
        value_types = set()
        domains = []
        for condition, value in self.cases:
            _require_series(condition, "a when() condition")
            if condition.type is not bool:
                raise QueryTypeError(
                    f"A when() condition must be boolean, not {describe_type(condition.type)}"
                )
            domains.append(condition.domain)
            if value is not None:
                _require_series(value, "a then() value")
                value_types.add(value.type)
                domains.append(value.domain)
        if self.default is not None:
            _require_series(self.default, "the otherwise value")
            value_types.add(self.default.type)
            domains.append(self.default.domain)
        if len(value_types) > 1:
            names = ", ".join(sorted(describe_type(t) for t in value_types))
            raise QueryTypeError(f"All the values in a case() must be one type, not: {names}")
        if not value_types:
            raise QueryTypeError("case() needs at least one value that is not None")
        self.__dict__["_type"] = value_types.pop()
        combine_domains(*domains, action="combine these series in case()")

    @property
    def type(self) -> Type:
        return self.__dict__["_type"]

    @cached_property
    def domain(self) -> Domain:
        domains = [c.domain for c, _ in self.cases]
        domains += [v.domain for _, v in self.cases if v is not None]
        if self.default is not None:
            domains.append(self.default.domain)
        return combine_domains(*domains)


class AggOp(enum.Enum):
    EXISTS = "exists"
    COUNT = "count"
    COUNT_DISTINCT = "count_distinct"
    MIN = "min"
    MAX = "max"
    SUM = "sum"
    MEAN = "mean"


@node
class Aggregate(Series):
    """One value per patient from a many-rows frame (EXISTS, COUNT) or series (the rest)."""

    op: AggOp
    source: Node

    def __post_init__(self) -> None:
        if not isinstance(self.op, AggOp):
            raise QueryTypeError(f"unknown aggregation {self.op!r}")
        if self.op is AggOp.EXISTS:
            if not isinstance(self.source, Frame):
                raise QueryTypeError("exists_for_patient() applies to a frame")
            return
        if self.op is AggOp.COUNT:
            if not isinstance(self.source, ManyRowsFrame):
                raise QueryTypeError("count_for_patient() applies to a frame with many rows")
            return
        _require_series(self.source, f"{self.op.value} for patient")
        if self.source.domain.is_patient:
            raise DomainError(
                f"{self.op.value}_for_patient() needs a series with many rows per patient; this "
                "series already has one value per patient"
            )
        t = self.source.type
        if self.op in (AggOp.SUM, AggOp.MEAN) and not is_numeric(t):
            raise QueryTypeError(f"Cannot {self.op.value} {describe_type(t)} values")
        if self.op in (AggOp.MIN, AggOp.MAX) and not is_comparable(t):
            raise QueryTypeError(f"{describe_type(t)} values have no minimum or maximum")

    @property
    def type(self) -> Type:
        if self.op in (AggOp.EXISTS,):
            return bool
        if self.op in (AggOp.COUNT, AggOp.COUNT_DISTINCT):
            return int
        if self.op is AggOp.MEAN:
            return float
        return self.source.type  # type: ignore[attr-defined]

    @property
    def domain(self) -> Domain:
        return PATIENT


@node
class CountEpisodes(Series):
    """Per patient, the number of runs of dates no more than ``maximum_gap_days`` apart.

    Each date starts a new episode when it is more than the gap after the previous date (the gap
    is measured from the previous event, not the episode's first); NULL dates are ignored and a
    patient with no dates has 0 episodes.
    """

    source: Series
    maximum_gap_days: int

    def __post_init__(self) -> None:
        _require_series(self.source, "count_episodes_for_patient()")
        if self.source.type is not datetime.date or self.source.domain.is_patient:
            raise QueryTypeError("count_episodes_for_patient() needs a date series with many rows")
        gap = self.maximum_gap_days
        if isinstance(gap, bool) or not isinstance(gap, int) or gap < 0:
            raise QueryTypeError("the maximum gap must be a whole, non-negative number of days")

    @property
    def type(self) -> Type:
        return int

    @property
    def domain(self) -> Domain:
        return PATIENT


class IntervalBound(enum.Enum):
    START = "start"
    END = "end"


@node
class IntervalDate(Series):
    """The start or end date (inclusive) of "the current interval" in a measure (``INTERVAL``).

    A placeholder, not a value: a measure is evaluated once per interval with this node standing
    for that interval's date, so the same definition covers every month or week at once.
    """

    bound: IntervalBound

    def __post_init__(self) -> None:
        if not isinstance(self.bound, IntervalBound):
            raise QueryTypeError("an interval date is the interval's start or end")

    @property
    def type(self) -> Type:
        return datetime.date

    @property
    def domain(self) -> Domain:
        return PATIENT


def uses_interval(node: Node) -> bool:
    """Whether ``node`` reads the ``INTERVAL`` placeholder anywhere inside it."""
    return any(isinstance(n, IntervalDate) for n in walk(node))


# --------------------------------------------------------------------------------------------
# Dataset


@node
class Dataset(Node):
    """A population and named patient-level variables: the whole of a dataset definition."""

    population: Series
    variables: tuple[tuple[str, Series], ...]

    def __post_init__(self) -> None:
        _require_series(self.population, "the population")
        if self.population.type is not bool or not self.population.domain.is_patient:
            raise QueryTypeError(
                "The population must be a boolean series with one value per patient"
            )
        if uses_interval(self):
            raise QueryModelError(
                "INTERVAL can only be used in measures (define_measure), not in a dataset: use "
                "fixed dates here"
            )
        seen: set[str] = set()
        for name, series in self.variables:
            check_variable_name(name)
            if name in seen:
                raise QueryModelError(f"variable {name!r} is defined twice")
            seen.add(name)
            _require_series(series, f"variable {name!r}")
            if not series.domain.is_patient:
                raise DomainError(
                    f"Variable {name!r} has many values per patient (it ranges over "
                    f"{series.domain.describe()}); a dataset variable must have one value per "
                    "patient"
                )


RESERVED_NAMES = frozenset({"patient_id", "population"})


def check_variable_name(name: str) -> None:
    if not isinstance(name, str) or not name.isidentifier() or name.startswith("_"):
        raise QueryModelError(
            f"Variable name {name!r} is not valid: use letters, digits and underscores, "
            "starting with a letter"
        )
    if name in RESERVED_NAMES:
        raise QueryModelError(f"{name!r} is a reserved name: choose another variable name")
    if len(name) > 63:
        raise QueryModelError(f"Variable name {name!r} is too long (63 characters at most)")


# --------------------------------------------------------------------------------------------
# Measures

# The columns of the measures table; a group_by name may not take one of them.
MEASURE_COLUMNS = ("measure", "interval_start", "interval_end", "ratio", "numerator", "denominator")
RESERVED_GROUP_NAMES = frozenset({*MEASURE_COLUMNS, "patient_id"})

# Types a group_by series may have: the values of each are a fixed set of categories. Floats and
# dates would make one row per distinct value, which is rarely meant and often disclosive.
GROUP_TYPES_HINT = "a boolean, integer, string or code"


def _is_group_type(type_: Type) -> bool:
    return type_ in (bool, int, str) or is_code_type(type_)


def check_measure_name(name: Any, what: str = "Measure name") -> None:
    if (
        not isinstance(name, str)
        or not name.isascii()
        or not name.replace("_", "a").isalnum()
        or not name[:1].isalpha()
    ):
        raise QueryModelError(
            f"{what} {name!r} is not valid: use only letters, digits and underscores, starting "
            "with a letter"
        )


@node
class Measure(Node):
    """One measure: per interval and group, the sum of numerator over the sum of denominator.

    A patient counts in an interval's row when its denominator is true (boolean) or positive
    (integer); the numerator is summed over those patients only, as ehrQL does.
    """

    name: str
    numerator: Series
    denominator: Series
    group_by: tuple[tuple[str, Series], ...]
    intervals: tuple[tuple[datetime.date, datetime.date], ...]

    def __post_init__(self) -> None:
        check_measure_name(self.name)
        where = f"measure {self.name!r}"
        for role in ("numerator", "denominator"):
            series = getattr(self, role)
            _require_series(series, f"the {role} of {where}")
            if series.type not in (bool, int):
                raise QueryTypeError(
                    f"The {role} of {where} must be a boolean or integer series, not "
                    f"{with_article(series.type)} series"
                )
            if not series.domain.is_patient:
                raise DomainError(
                    f"The {role} of {where} must have one value per patient, but it has one "
                    f"per row of {series.domain.root.name}: aggregate it, e.g. with "
                    ".exists_for_patient() or .count_for_patient()"
                )
        if not isinstance(self.group_by, tuple):
            raise QueryTypeError(f"the groups of {where} must be (name, series) pairs")
        seen: set[str] = set()
        for item in self.group_by:
            if not isinstance(item, tuple) or len(item) != 2:
                raise QueryTypeError(f"the groups of {where} must be (name, series) pairs")
            name, series = item
            check_measure_name(name, f"group_by name in {where}:")
            if name in RESERVED_GROUP_NAMES:
                raise QueryModelError(
                    f"group_by name {name!r} in {where} clashes with a column of the measures "
                    f"table ({', '.join(MEASURE_COLUMNS)}): choose another name"
                )
            if name in seen:
                raise QueryModelError(f"group_by name {name!r} appears twice in {where}")
            seen.add(name)
            _require_series(series, f"group_by {name!r} of {where}")
            if not series.domain.is_patient:
                raise DomainError(
                    f"group_by {name!r} of {where} must have one value per patient, but it has "
                    f"one per row of {series.domain.root.name}"
                )
            if not _is_group_type(series.type):
                raise QueryTypeError(
                    f"group_by {name!r} of {where} must be a categorical patient series "
                    f"({GROUP_TYPES_HINT}), not {with_article(series.type)} series: put its "
                    "values into bands with case(when(...).then(...), ...)"
                )
        if not isinstance(self.intervals, tuple) or not self.intervals:
            raise QueryModelError(
                f"{where} has no intervals: give intervals=..., e.g. "
                'months(12).starting_on("2020-01-01"), here or in define_defaults()'
            )
        for item in self.intervals:
            if not isinstance(item, tuple) or len(item) != 2:
                raise QueryTypeError(f"each interval of {where} must be a (start, end) pair")
            start, end = item
            for value in item:
                if isinstance(value, datetime.datetime) or not isinstance(value, datetime.date):
                    raise QueryTypeError(
                        f"each interval of {where} must be a pair of dates, not {item!r}"
                    )
            if start > end:
                raise QueryModelError(
                    f"an interval of {where} ends ({end}) before it starts ({start})"
                )
        # One row per interval, in date order, however they were listed (as ehrQL does).
        ordered = tuple(sorted(set(self.intervals)))
        if ordered != self.intervals:
            object.__setattr__(self, "intervals", ordered)
        self._check_population()

    def _check_population(self) -> None:
        """Refuse a denominator true for patients with no data, as a dataset's population is."""
        # Imported here: both modules build on this one.
        from fedsafe.query_model.intervals import substitute_interval
        from fedsafe.query_model.population import check_population

        counted = self.counted
        for start, end in self.intervals if uses_interval(counted) else self.intervals[:1]:
            try:
                check_population(substitute_interval(counted, start, end))
            except QueryModelError:
                raise QueryModelError(
                    f"The denominator of measure {self.name!r} must not count patients who "
                    "have no data: it would count everyone. Combine it with a condition that "
                    "requires data, e.g. practice_registrations.for_patient_on("
                    "INTERVAL.start_date).exists_for_patient() & ..."
                ) from None

    @property
    def counted(self) -> Series:
        """True for a patient who counts in the denominator: true, or a positive integer (as
        ehrQL's measures do: zero, negative and NULL denominators leave a patient out)."""
        if self.denominator.type is bool:
            return self.denominator
        return Function(Op.GT, (self.denominator, Value(0)))


@node
class Measures(Node):
    """Every measure a measures definition defines, in the order they were defined."""

    measures: tuple[Measure, ...]

    def __post_init__(self) -> None:
        if not isinstance(self.measures, tuple) or not self.measures:
            raise QueryModelError("No measures: call measures.define_measure(...) at least once")
        names: set[str] = set()
        groups: dict[str, tuple[str, Series]] = {}
        for measure in self.measures:
            if not isinstance(measure, Measure):
                raise QueryTypeError("every measure must be a Measure")
            if measure.name in names:
                raise QueryModelError(f"Measure {measure.name!r} is defined twice")
            names.add(measure.name)
            for name, series in measure.group_by:
                first, known = groups.setdefault(name, (measure.name, series))
                if known != series:
                    raise QueryModelError(
                        f"group_by {name!r} of measure {measure.name!r} is defined differently "
                        f"from group_by {name!r} of measure {first!r}: a group name is one "
                        "output column, so it must mean the same in every measure; give "
                        "different groupings different names"
                    )

    @property
    def group_columns(self) -> tuple[tuple[str, Type], ...]:
        """Every group name across the measures, in first-defined order, with its type."""
        found: dict[str, Type] = {}
        for measure in self.measures:
            for name, series in measure.group_by:
                found.setdefault(name, series.type)
        return tuple(found.items())

    @property
    def intervals(self) -> tuple[tuple[datetime.date, datetime.date], ...]:
        """Every distinct interval across the measures, in date order."""
        return tuple(sorted({i for m in self.measures for i in m.intervals}))


# --------------------------------------------------------------------------------------------
# Walking


def walk(node: Node) -> Iterator[Node]:
    """Every node reachable from ``node``, each once, children before parents."""
    seen: set[Node] = set()
    stack: list[tuple[Node, bool]] = [(node, False)]
    while stack:
        current, expanded = stack.pop()
        if current in seen:
            continue
        if expanded:
            seen.add(current)
            yield current
        else:
            stack.append((current, True))
            stack.extend((child, False) for child in reversed(list(current.children())))


TableNode = SelectTable | SelectPatientTable


def tables_used(node: Node) -> dict[str, TableNode]:
    """The tables a query reads, by name."""
    found: dict[str, TableNode] = {}
    for n in walk(node):
        if isinstance(n, SelectTable | SelectPatientTable):
            existing = found.get(n.name)
            if existing is not None and existing != n:
                raise QueryModelError(f"table {n.name!r} is declared twice with different columns")
            found[n.name] = n
    return found
