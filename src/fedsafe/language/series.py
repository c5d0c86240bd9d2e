"""Series: what a researcher manipulates, each a thin wrapper around a query-model node.

The class of a series says its type and level (``DatePatientSeries``, ``IntEventSeries``...), so
only the methods that make sense for it exist. Every method builds a new node; the node validates
itself, so a mistake raises at the line the researcher wrote.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

from fedsafe.codes import BaseCode, Codelist, MultiCodeString
from fedsafe.query_model import nodes as qm
from fedsafe.query_model.types import describe_type, is_code_type, parse_text, with_article

# --------------------------------------------------------------------------------------------
# Converting what the researcher passed into nodes


def parse_date(value: str, what: str = "date") -> datetime.date:
    try:
        return parse_text(datetime.date, value)
    except ValueError:
        raise ValueError(
            f"{value!r} is not a valid {what}: write dates as 'YYYY-MM-DD', e.g. '2020-03-31'"
        ) from None


def to_node(value: Any, expected: type | None = None) -> qm.Series:
    """The node for a series or a Python constant, converting constants to ``expected``."""
    if isinstance(value, BaseSeries):
        return value._node
    if isinstance(value, qm.Series):
        return value
    if value is None:
        raise TypeError("None is not allowed here: use a value, or a series")
    return qm.Value(to_constant(value, expected))


def to_constant(value: Any, expected: type | None) -> Any:
    if isinstance(value, BaseSeries | Duration | Mapping | Codelist):
        raise TypeError(f"expected a single value, got {type(value).__name__}")
    if expected is datetime.date and isinstance(value, str):
        return parse_date(value)
    if expected is not None and is_code_type(expected) and isinstance(value, str):
        return expected(value)
    if expected is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if (
        expected is not None
        and is_code_type(expected)
        and isinstance(value, BaseCode)
        and not isinstance(value, expected)
    ):
        raise TypeError(
            f"Cannot compare a {expected.__name__} series with a {type(value).__name__}"
        )
    return value


def to_value_set(values: Any, expected: type) -> qm.ValueSet:
    """A collection of constants (list, set, tuple, codelist, or dict keys) as a value set."""
    if isinstance(values, Codelist):
        if not is_code_type(expected):
            items: Iterable[Any] = [to_constant(v, expected) for v in values.codes]
        else:
            items = values.as_codes(expected)
    elif isinstance(values, Mapping):
        items = [to_constant(v, expected) for v in values]
    elif isinstance(values, str) or not isinstance(values, Iterable):
        raise TypeError(
            f"is_in() needs a collection of values (a list, set or codelist), not {values!r}"
        )
    else:
        items = [to_constant(v, expected) for v in values]
    return qm.ValueSet(tuple(items), expected)


def wrap(node: qm.Series) -> BaseSeries:
    """The series class for a node's type and level."""
    if isinstance(node.type, type) and issubclass(node.type, MultiCodeString):
        key: tuple[type, bool] = (MultiCodeString, node.domain.is_patient)
    else:
        key = (node.type if not is_code_type(node.type) else BaseCode, node.domain.is_patient)
    return _SERIES_CLASSES[key](node)


def fn(op: qm.Op, *args: qm.Node) -> BaseSeries:
    return wrap(qm.Function(op, tuple(args)))


# --------------------------------------------------------------------------------------------
# Base


class BaseSeries:
    """A column of values: one per patient (PatientSeries) or many (EventSeries)."""

    __slots__ = ("_node",)
    is_patient_level: ClassVar[bool]

    def __init__(self, node: qm.Series) -> None:
        self._node = node

    @property
    def _type(self) -> type:
        return self._node.type

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._node!r})"

    def __hash__(self) -> int:
        return hash(self._node)

    def __bool__(self) -> bool:
        raise TypeError(
            "A series has a value for each patient, so it can't be used as a single True or "
            "False: use & instead of 'and', | instead of 'or', ~ instead of 'not', and "
            "case(when(...).then(...)) instead of 'if'"
        )

    def __iter__(self) -> Any:
        raise TypeError("A series cannot be iterated over: it holds one value per patient or row")

    def __len__(self) -> int:
        raise TypeError("A series has no length: use count_for_patient() on a frame")

    def __eq__(self, other: Any) -> BaseSeries:  # type: ignore[override]
        return fn(qm.Op.EQ, self._node, to_node(other, self._type))

    def __ne__(self, other: Any) -> BaseSeries:  # type: ignore[override]
        return fn(qm.Op.NE, self._node, to_node(other, self._type))

    def is_null(self) -> BaseSeries:
        """True where the value is missing."""
        return fn(qm.Op.IS_NULL, self._node)

    def is_not_null(self) -> BaseSeries:
        """True where there is a value."""
        return fn(qm.Op.NOT, fn(qm.Op.IS_NULL, self._node)._node)

    def when_null_then(self, other: Any) -> BaseSeries:
        """Replace missing values with ``other``."""
        return fn(qm.Op.COALESCE, self._node, to_node(other, self._type))

    def is_in(self, other: Any) -> BaseSeries:
        """True where the value is one of ``other`` (a list, set or codelist), or one of the
        patient's values of an event series."""
        if isinstance(other, BaseSeries):
            return self._is_in_series(other)
        return fn(qm.Op.IN, self._node, to_value_set(other, self._type))

    def _is_in_series(self, other: BaseSeries) -> BaseSeries:
        # Membership of the patient's set of non-NULL values: False when the set is empty,
        # NULL when this value is NULL, as ehrQL documents.
        if other._node.domain.is_patient:
            return self == other
        if not self._node.domain.is_patient:
            raise TypeError(
                "is_in() with an event series needs a value with one value per patient on the left"
            )
        if other._type is not self._type:
            raise TypeError(
                f"Cannot look for {describe_type(self._type)} values among "
                f"{describe_type(other._type)} values"
            )
        frame = qm.frame_for_series(other._node)
        matches = qm.Aggregate(
            qm.AggOp.EXISTS, qm.Filter(frame, qm.Function(qm.Op.EQ, (other._node, self._node)))
        )
        not_null = qm.Function(qm.Op.NOT, (qm.Function(qm.Op.IS_NULL, (other._node,)),))
        any_values = qm.Aggregate(qm.AggOp.EXISTS, qm.Filter(frame, not_null))
        return wrap(
            qm.Case(
                (
                    (qm.Function(qm.Op.NOT, (any_values,)), qm.Value(False)),
                    (qm.Function(qm.Op.IS_NULL, (self._node,)), None),
                ),
                matches,
            )
        )

    def is_not_in(self, other: Any) -> BaseSeries:
        """True where the value is none of ``other``; NULL stays NULL."""
        return fn(qm.Op.NOT, self.is_in(other)._node)

    def map_values(self, mapping: Mapping[Any, Any], default: Any = None) -> BaseSeries:
        """Replace each value by ``mapping[value]``, else ``default`` (NULL if None)."""
        if not isinstance(mapping, Mapping) or not mapping:
            raise TypeError("map_values() needs a non-empty dict of {value: new_value}")
        cases = tuple(
            (
                (self == key)._node,
                None if new is None else to_node(new, _python_type(new)),
            )
            for key, new in mapping.items()
        )
        default_node = None if default is None else to_node(default, _python_type(default))
        return wrap(qm.Case(cases, default_node))


def _python_type(value: Any) -> type | None:
    if isinstance(value, BaseSeries):
        return value._type
    return None


class ComparableMixin:
    """Ordering for ints, floats, strings, dates and booleans."""

    _node: qm.Series
    _type: type

    def __lt__(self, other: Any) -> BaseSeries:
        return fn(qm.Op.LT, self._node, to_node(other, self._type))

    def __le__(self, other: Any) -> BaseSeries:
        return fn(qm.Op.LE, self._node, to_node(other, self._type))

    def __gt__(self, other: Any) -> BaseSeries:
        return fn(qm.Op.GT, self._node, to_node(other, self._type))

    def __ge__(self, other: Any) -> BaseSeries:
        return fn(qm.Op.GE, self._node, to_node(other, self._type))


class AggregatableMixin:
    """Aggregations available on every event-level series."""

    _node: qm.Series

    def count_distinct_for_patient(self) -> BaseSeries:
        """The number of distinct non-NULL values each patient has (0 if none)."""
        return wrap(qm.Aggregate(qm.AggOp.COUNT_DISTINCT, self._node))


class MinMaxMixin:
    _node: qm.Series

    def minimum_for_patient(self) -> BaseSeries:
        """The smallest non-NULL value for each patient (NULL if none)."""
        return wrap(qm.Aggregate(qm.AggOp.MIN, self._node))

    def maximum_for_patient(self) -> BaseSeries:
        """The largest non-NULL value for each patient (NULL if none)."""
        return wrap(qm.Aggregate(qm.AggOp.MAX, self._node))


class SumMeanMixin:
    _node: qm.Series

    def sum_for_patient(self) -> BaseSeries:
        """The sum of non-NULL values for each patient (NULL if none)."""
        return wrap(qm.Aggregate(qm.AggOp.SUM, self._node))

    def mean_for_patient(self) -> BaseSeries:
        """The mean of non-NULL values for each patient (NULL if none)."""
        return wrap(qm.Aggregate(qm.AggOp.MEAN, self._node))


# --------------------------------------------------------------------------------------------
# Booleans


class BoolMixin:
    _node: qm.Series
    _type: type

    def __and__(self, other: Any) -> BaseSeries:
        return fn(qm.Op.AND, self._node, to_node(other, bool))

    def __rand__(self, other: Any) -> BaseSeries:
        return fn(qm.Op.AND, to_node(other, bool), self._node)

    def __or__(self, other: Any) -> BaseSeries:
        return fn(qm.Op.OR, self._node, to_node(other, bool))

    def __ror__(self, other: Any) -> BaseSeries:
        return fn(qm.Op.OR, to_node(other, bool), self._node)

    def __invert__(self) -> BaseSeries:
        return fn(qm.Op.NOT, self._node)

    def as_int(self) -> BaseSeries:
        """1 for True, 0 for False, NULL for NULL."""
        return fn(qm.Op.CAST_TO_INT, self._node)


class BoolPatientSeries(BoolMixin, ComparableMixin, BaseSeries):
    is_patient_level = True


class BoolEventSeries(BoolMixin, ComparableMixin, AggregatableMixin, BaseSeries):
    is_patient_level = False


# --------------------------------------------------------------------------------------------
# Strings


class StrMixin:
    _node: qm.Series

    def contains(self, other: Any) -> BaseSeries:
        """True where the value contains the string ``other`` (case-sensitive)."""
        return fn(qm.Op.STR_CONTAINS, self._node, to_node(other, str))


class StrPatientSeries(StrMixin, ComparableMixin, BaseSeries):
    is_patient_level = True


class StrEventSeries(StrMixin, ComparableMixin, AggregatableMixin, MinMaxMixin, BaseSeries):
    is_patient_level = False


# --------------------------------------------------------------------------------------------
# Numbers


class NumericMixin:
    _node: qm.Series
    _type: type

    def _other(self, other: Any) -> qm.Series:
        if isinstance(other, float) and self._type is int:
            raise TypeError(
                f"Cannot combine an integer series with the float {other!r}: convert the "
                "series first with .as_float()"
            )
        return to_node(other, self._type)

    def __add__(self, other: Any) -> BaseSeries:
        return fn(qm.Op.ADD, self._node, self._other(other))

    def __radd__(self, other: Any) -> BaseSeries:
        return fn(qm.Op.ADD, self._other(other), self._node)

    def __sub__(self, other: Any) -> BaseSeries:
        return fn(qm.Op.SUB, self._node, self._other(other))

    def __rsub__(self, other: Any) -> BaseSeries:
        return fn(qm.Op.SUB, self._other(other), self._node)

    def __mul__(self, other: Any) -> BaseSeries:
        return fn(qm.Op.MUL, self._node, self._other(other))

    def __rmul__(self, other: Any) -> BaseSeries:
        return fn(qm.Op.MUL, self._other(other), self._node)

    def __truediv__(self, other: Any) -> BaseSeries:
        """Division giving a float; dividing by zero gives NULL."""
        return fn(qm.Op.TRUEDIV, self._node, self._other(other))

    def __rtruediv__(self, other: Any) -> BaseSeries:
        return fn(qm.Op.TRUEDIV, self._other(other), self._node)

    def __floordiv__(self, other: Any) -> BaseSeries:
        """Division rounded down to a whole number; dividing by zero gives NULL."""
        return fn(qm.Op.FLOORDIV, self._node, self._other(other))

    def __rfloordiv__(self, other: Any) -> BaseSeries:
        return fn(qm.Op.FLOORDIV, self._other(other), self._node)

    def __neg__(self) -> BaseSeries:
        return fn(qm.Op.NEG, self._node)

    def __pos__(self) -> BaseSeries:
        return wrap(self._node)

    def __pow__(self, other: Any) -> BaseSeries:
        """Raise to a power, giving a float; NULL where the result is not a real number."""
        return fn(qm.Op.POW, self._node, self._other(other))

    def __rpow__(self, other: Any) -> BaseSeries:
        return fn(qm.Op.POW, self._other(other), self._node)

    def absolute(self) -> BaseSeries:
        """The value without its sign."""
        return fn(qm.Op.ABS, self._node)

    def as_int(self) -> BaseSeries:
        """Convert to an integer, truncating towards zero."""
        if self._type is int:
            return wrap(self._node)
        return fn(qm.Op.CAST_TO_INT, self._node)

    def as_float(self) -> BaseSeries:
        """Convert to a float."""
        if self._type is float:
            return wrap(self._node)
        return fn(qm.Op.CAST_TO_FLOAT, self._node)


class IntPatientSeries(NumericMixin, ComparableMixin, BaseSeries):
    is_patient_level = True


class IntEventSeries(
    NumericMixin, ComparableMixin, AggregatableMixin, MinMaxMixin, SumMeanMixin, BaseSeries
):
    is_patient_level = False


class FloatPatientSeries(NumericMixin, ComparableMixin, BaseSeries):
    is_patient_level = True


class FloatEventSeries(
    NumericMixin, ComparableMixin, AggregatableMixin, MinMaxMixin, SumMeanMixin, BaseSeries
):
    is_patient_level = False


# --------------------------------------------------------------------------------------------
# Dates


class DateMixin(ComparableMixin):
    _node: qm.Series

    @property
    def year(self) -> BaseSeries:
        return fn(qm.Op.YEAR, self._node)

    @property
    def month(self) -> BaseSeries:
        return fn(qm.Op.MONTH, self._node)

    @property
    def day(self) -> BaseSeries:
        return fn(qm.Op.DAY, self._node)

    def to_first_of_year(self) -> BaseSeries:
        return fn(qm.Op.TO_FIRST_OF_YEAR, self._node)

    def to_first_of_month(self) -> BaseSeries:
        return fn(qm.Op.TO_FIRST_OF_MONTH, self._node)

    def _date(self, other: Any) -> qm.Series:
        if isinstance(other, Duration):
            raise TypeError(
                "Expected a date, got a duration: did you mean e.g. index_date - years(1)?"
            )
        return to_node(other, datetime.date)

    def is_before(self, other: Any) -> BaseSeries:
        """True where the date is strictly before ``other``."""
        return fn(qm.Op.LT, self._node, self._date(other))

    def is_on_or_before(self, other: Any) -> BaseSeries:
        return fn(qm.Op.LE, self._node, self._date(other))

    def is_after(self, other: Any) -> BaseSeries:
        """True where the date is strictly after ``other``."""
        return fn(qm.Op.GT, self._node, self._date(other))

    def is_on_or_after(self, other: Any) -> BaseSeries:
        return fn(qm.Op.GE, self._node, self._date(other))

    def is_between_but_not_on(self, start: Any, end: Any) -> BaseSeries:
        """Strictly after ``start`` and strictly before ``end``."""
        return self.is_after(start) & self.is_before(end)  # type: ignore[operator]

    def is_on_or_between(self, start: Any, end: Any) -> BaseSeries:
        """On or after ``start`` and on or before ``end``."""
        return self.is_on_or_after(start) & self.is_on_or_before(end)  # type: ignore[operator]

    def is_during(self, interval: Any) -> BaseSeries:
        """On or between the two dates of ``interval`` (a (start, end) pair)."""
        try:
            start, end = interval
        except (TypeError, ValueError):
            raise TypeError(
                "is_during() needs an interval: a pair (start_date, end_date)"
            ) from None
        return self.is_on_or_between(start, end)

    def __add__(self, other: Any) -> BaseSeries:
        if isinstance(other, Duration):
            return other._add_to(self._node)
        raise TypeError(
            f"Can only add a duration (days(), weeks(), months(), years()) to a date, not "
            f"{_describe(other)}"
        )

    def __radd__(self, other: Any) -> BaseSeries:
        return self.__add__(other)

    def __sub__(self, other: Any) -> Any:
        if isinstance(other, Duration):
            return (-other)._add_to(self._node)
        if isinstance(other, str | datetime.date) or (
            isinstance(other, BaseSeries) and other._type is datetime.date
        ):
            return DateDifference(self._node, to_node(other, datetime.date))
        raise TypeError(f"Can subtract a duration or a date from a date, not {_describe(other)}")

    def __rsub__(self, other: Any) -> Any:
        if isinstance(other, str | datetime.date):
            return DateDifference(to_node(other, datetime.date), self._node)
        raise TypeError(f"Cannot subtract a date series from {_describe(other)}")


def _describe(value: Any) -> str:
    if isinstance(value, BaseSeries):
        return f"{with_article(value._type)} series"
    return f"{value!r}"


class DatePatientSeries(DateMixin, BaseSeries):
    is_patient_level = True


class DateEventSeries(DateMixin, AggregatableMixin, MinMaxMixin, BaseSeries):
    is_patient_level = False

    def count_episodes_for_patient(self, maximum_gap: Any) -> BaseSeries:
        """The number of episodes: dates no more than ``maximum_gap`` (days() or weeks()) after
        the previous date belong to the same episode."""
        if not isinstance(maximum_gap, days | weeks) or not isinstance(maximum_gap.value, int):
            raise TypeError(
                "count_episodes_for_patient() needs a fixed gap in days() or weeks(), e.g. days(14)"
            )
        gap = maximum_gap.value * maximum_gap._factor
        return wrap(qm.CountEpisodes(self._node, gap))


# --------------------------------------------------------------------------------------------
# Codes


class CodeMixin:
    _node: qm.Series
    _type: type

    def to_category(self, categorisation: Any, default: Any = None) -> BaseSeries:
        """Map each code to its category from a codelist with categories, or a dict."""
        if isinstance(categorisation, Codelist):
            mapping = categorisation.categories()
        elif isinstance(categorisation, Mapping):
            mapping = dict(categorisation)
        else:
            raise TypeError(
                "to_category() needs a codelist loaded with category_column=..., or a dict "
                "of {code: category}"
            )
        by_category: dict[Any, list[Any]] = {}
        for code, category in mapping.items():
            by_category.setdefault(category, []).append(code)
        cases = []
        for category in sorted(by_category, key=lambda c: (c is None, str(c))):
            if category is None or category == "":
                continue
            codes = by_category[category]
            condition = fn(qm.Op.IN, self._node, to_value_set(codes, self._type))
            cases.append((condition._node, to_node(category)))
        if not cases:
            raise ValueError("to_category(): the categorisation has no categories")
        return wrap(qm.Case(tuple(cases), None if default is None else to_node(default)))


class CodePatientSeries(CodeMixin, BaseSeries):
    is_patient_level = True


class CodeEventSeries(CodeMixin, AggregatableMixin, BaseSeries):
    is_patient_level = False


class MultiCodeStringMixin:
    """Searching a value that holds many codes (``apcs.all_diagnoses``) for codes in it.

    The search is by substring, as ehrQL documents, so a code's prefix (``"N17"``) finds every
    code under it in the hierarchy.
    """

    _node: qm.Series
    _type: type

    def _needle(self, code: Any) -> str:
        part_type = self._type.code_type  # type: ignore[attr-defined]
        if isinstance(code, BaseCode):
            if not isinstance(code, part_type):
                raise TypeError(
                    f"contains() on {self._type.system_name} needs {part_type.system_name} "  # type: ignore[attr-defined]
                    f"codes, not a {type(code).__name__}"
                )
            return code.value
        if not isinstance(code, str):
            raise TypeError(f"contains() needs a code or the start of one, not {code!r}")
        if not code or not code.isalnum():
            raise ValueError(
                f"contains(): {code!r} is not a {part_type.system_name} code or the start of "
                "one: use letters and digits only, without dots (e.g. 'N17' or 'N171')"
            )
        return code

    def contains(self, code: Any) -> BaseSeries:
        """True where the value holds ``code``, or any code starting with it."""
        return fn(qm.Op.STR_CONTAINS, self._node, qm.Value(self._needle(code)))

    def contains_any_of(self, codelist: Any) -> BaseSeries:
        """True where the value holds any code in ``codelist`` (a codelist or list of codes)."""
        if isinstance(codelist, Codelist):
            codes: list[Any] = list(codelist.codes)
        elif isinstance(codelist, str) or not isinstance(codelist, Iterable):
            raise TypeError(
                f"contains_any_of() needs a codelist or a list of codes, not {codelist!r}"
            )
        else:
            codes = list(codelist)
        needles = sorted({self._needle(getattr(c, "value", c)) for c in codes})
        if not needles:
            raise ValueError("contains_any_of() needs at least one code")
        conditions = [qm.Function(qm.Op.STR_CONTAINS, (self._node, qm.Value(n))) for n in needles]
        combined: qm.Series = conditions[0]
        for condition in conditions[1:]:
            combined = qm.Function(qm.Op.OR, (combined, condition))
        return wrap(combined)


class MultiCodeStringPatientSeries(MultiCodeStringMixin, BaseSeries):
    is_patient_level = True


class MultiCodeStringEventSeries(MultiCodeStringMixin, BaseSeries):
    is_patient_level = False


_SERIES_CLASSES: dict[tuple[type, bool], type[BaseSeries]] = {
    (MultiCodeString, True): MultiCodeStringPatientSeries,
    (MultiCodeString, False): MultiCodeStringEventSeries,
    (bool, True): BoolPatientSeries,
    (bool, False): BoolEventSeries,
    (str, True): StrPatientSeries,
    (str, False): StrEventSeries,
    (int, True): IntPatientSeries,
    (int, False): IntEventSeries,
    (float, True): FloatPatientSeries,
    (float, False): FloatEventSeries,
    (datetime.date, True): DatePatientSeries,
    (datetime.date, False): DateEventSeries,
    (BaseCode, True): CodePatientSeries,
    (BaseCode, False): CodeEventSeries,
}


# --------------------------------------------------------------------------------------------
# Durations and date differences (here because dates and durations refer to each other)


class Duration:
    """A number of days, weeks, months or years (a constant or an integer series)."""

    _op: ClassVar[qm.Op]
    _factor: ClassVar[int] = 1

    def __init__(self, value: Any) -> None:
        if isinstance(value, bool) or not (
            isinstance(value, int) or (isinstance(value, BaseSeries) and value._type is int)
        ):
            raise TypeError(
                f"{type(self).__name__}() needs a whole number or an integer series, not "
                f"{_describe(value)}"
            )
        self.value = value

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.value!r})"

    def __eq__(self, other: object) -> bool:
        if isinstance(self.value, BaseSeries):
            raise TypeError("durations of series cannot be compared")
        return type(self) is type(other) and self.value == other.value  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash(
            (type(self), id(self.value) if isinstance(self.value, BaseSeries) else self.value)
        )

    def __neg__(self) -> Duration:
        return type(self)(-self.value)

    def __add__(self, other: Any) -> Any:
        if isinstance(other, type(self)):
            return type(self)(self.value + other.value)
        if isinstance(other, Duration):
            raise TypeError(
                f"Cannot add {type(other).__name__} to {type(self).__name__}: use one unit"
            )
        if isinstance(other, datetime.date):
            return self._add_to_date(other)
        if isinstance(other, str):
            return self._add_to_date(parse_date(other))
        if isinstance(other, BaseSeries) and other._type is datetime.date:
            return self._add_to(other._node)
        return NotImplemented

    __radd__ = __add__

    def __sub__(self, other: Any) -> Any:
        if isinstance(other, type(self)):
            return type(self)(self.value - other.value)
        raise TypeError(f"Can only subtract {type(self).__name__} from {type(self).__name__}")

    def __rsub__(self, other: Any) -> Any:
        return (-self).__add__(other)

    def _amount(self) -> qm.Series:
        node = to_node(self.value, int)
        if self._factor != 1:
            if isinstance(node, qm.Value):
                return qm.Value(node.value * self._factor)
            return qm.Function(qm.Op.MUL, (node, qm.Value(self._factor)))
        return node

    def _add_to(self, date_node: qm.Series) -> BaseSeries:
        return fn(self._op, date_node, self._amount())

    def _add_to_date(self, date: datetime.date) -> Any:
        if isinstance(self.value, BaseSeries):
            return self._add_to(qm.Value(date))
        from fedsafe.query_model import semantics

        add = {
            qm.Op.DATE_ADD_DAYS: semantics.add_days,
            qm.Op.DATE_ADD_MONTHS: semantics.add_months,
            qm.Op.DATE_ADD_YEARS: semantics.add_years,
        }[self._op]
        result = add(date, self.value * self._factor)
        if result is None:
            raise ValueError(f"{date} + {self!r} is outside the dates fedsafe can represent")
        return result

    def starting_on(self, date: Any) -> list[tuple[datetime.date, datetime.date]]:
        """Consecutive intervals, one unit long each, starting on ``date``."""
        start = parse_date(date) if isinstance(date, str) else date
        return self._intervals(start, forwards=True)

    def ending_on(self, date: Any) -> list[tuple[datetime.date, datetime.date]]:
        """Consecutive intervals, one unit long each, ending on ``date``."""
        end = parse_date(date) if isinstance(date, str) else date
        return self._intervals(end, forwards=False)

    def _intervals(
        self, anchor: datetime.date, *, forwards: bool
    ) -> list[tuple[datetime.date, datetime.date]]:
        if not isinstance(self.value, int) or isinstance(self.value, bool):
            raise TypeError("intervals need a fixed number of units, not a series")
        if self.value < 0:
            raise ValueError(f"intervals need a non-negative number of units, not {self.value}")
        from fedsafe.query_model import semantics

        def add(date: datetime.date, n: int) -> datetime.date:
            return type(self)(n)._add_to_date(date)

        return semantics.unit_intervals(add, anchor, self.value, forwards=forwards)


class days(Duration):
    """A number of days."""

    _op = qm.Op.DATE_ADD_DAYS


class weeks(Duration):
    """A number of weeks (7 days each)."""

    _op = qm.Op.DATE_ADD_DAYS
    _factor = 7


class months(Duration):
    """Calendar months: a day missing from the target month rolls up (31 Aug + 1 = 1 Oct)."""

    _op = qm.Op.DATE_ADD_MONTHS


class years(Duration):
    """Calendar years: 29 Feb + 1 year is 1 March."""

    _op = qm.Op.DATE_ADD_YEARS


class DateDifference:
    """``lhs - rhs`` for dates; read it in the unit you want."""

    def __init__(self, lhs: qm.Series, rhs: qm.Series) -> None:
        self._lhs = lhs
        self._rhs = rhs

    @property
    def days(self) -> BaseSeries:
        return fn(qm.Op.DATE_DIFF_DAYS, self._lhs, self._rhs)

    @property
    def weeks(self) -> BaseSeries:
        return fn(qm.Op.FLOORDIV, self.days._node, qm.Value(7))

    @property
    def months(self) -> BaseSeries:
        return fn(qm.Op.DATE_DIFF_MONTHS, self._lhs, self._rhs)

    @property
    def years(self) -> BaseSeries:
        return fn(qm.Op.DATE_DIFF_YEARS, self._lhs, self._rhs)
