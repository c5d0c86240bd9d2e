"""What each operation means, written once in plain Python over single values.

This is the reference every engine must agree with: the spec cases and the differential tests
compare engine output with the rules here, and the query model uses them to decide things before
any database is involved (e.g. whether a population would include patients who have no data).
``None`` is NULL throughout; most operations return NULL when any input is NULL.
"""

from __future__ import annotations

import calendar
import datetime
import math
from collections.abc import Callable
from typing import Any

from fedsafe.query_model.nodes import Op


def add_days(date: datetime.date, n: int) -> datetime.date | None:
    try:
        return date + datetime.timedelta(days=n)
    except OverflowError:
        return None


def add_months(date: datetime.date, n: int) -> datetime.date | None:
    """Calendar months; a day that doesn't exist in the target month rolls up to the next month.

    ehrQL's documented rule ("round up"): 31 August + 1 month is 1 October, 29 February + 12
    months is 1 March.
    """
    month_index = date.year * 12 + (date.month - 1) + n
    year, month0 = divmod(month_index, 12)
    if not 1 <= year <= 9999:
        return None
    month = month0 + 1
    last_day = calendar.monthrange(year, month)[1]
    if date.day <= last_day:
        return datetime.date(year, month, date.day)
    return add_days(datetime.date(year, month, last_day), 1)


def add_years(date: datetime.date, n: int) -> datetime.date | None:
    return add_months(date, 12 * n)


def unit_intervals(
    add: Callable[[datetime.date, int], datetime.date | None],
    anchor: datetime.date,
    count: int,
    *,
    forwards: bool,
) -> list[tuple[datetime.date, datetime.date]]:
    """``count`` consecutive intervals one unit long, starting (or ending) on ``anchor``.

    ``add(date, n)`` moves a date by ``n`` units. Every boundary is measured from ``anchor``,
    never from the previous interval, so that a month-end anchor keeps its day where the month
    has it, as ehrQL does: interval ``k`` of ``starting_on(a)`` is ``a + k units`` up to the day
    before ``a + (k + 1) units``; interval ``k`` back of ``ending_on(a)`` is the day after
    ``a - (k + 1) units`` up to ``a - k units``. With the round-up rule that makes
    ``months(3).starting_on(31 Jan 2020)`` 31 Jan-29 Feb, 1-30 Mar, 31 Mar-30 Apr, and
    ``months(2).ending_on(31 Mar 2020)`` 1 Feb-1 Mar, 2-31 Mar. The intervals are contiguous
    and cover exactly ``anchor`` to ``anchor + count units`` (less a day).
    """
    one_day = datetime.timedelta(days=1)

    def moved(n: int) -> datetime.date:
        result = add(anchor, n)
        if result is None:
            raise ValueError(f"{anchor} moved by {n} units is outside the dates fedsafe can hold")
        return result

    if forwards:
        return [(moved(k), moved(k + 1) - one_day) for k in range(count)]
    return [(moved(-k - 1) + one_day, moved(-k)) for k in reversed(range(count))]


def diff_days(end: datetime.date, start: datetime.date) -> int:
    return (end - start).days


def diff_months(end: datetime.date, start: datetime.date) -> int:
    """Whole calendar months from ``start`` to ``end``, rounded down (so negative differences
    round away from zero, as ehrQL documents: 2000-01-27 minus 2000-01-30 is -1 month)."""
    months = (end.year - start.year) * 12 + (end.month - start.month)
    if end.day < start.day:
        months -= 1
    return months


def diff_years(end: datetime.date, start: datetime.date) -> int:
    """Whole calendar years, rounded down: a person's age when ``start`` is their birth date."""
    years = end.year - start.year
    if (end.month, end.day) < (start.month, start.day):
        years -= 1
    return years


def floordiv(a: Any, b: Any) -> int | None:
    if b == 0:
        return None
    return math.floor(a / b) if isinstance(a, float) or isinstance(b, float) else a // b


def truediv(a: Any, b: Any) -> float | None:
    if b == 0:
        return None
    return a / b


def power(a: Any, b: Any) -> float | None:
    """``a ** b`` as a float; NULL where the result is not a real number."""
    if (a < 0 and b != math.floor(b)) or (a == 0 and b < 0):
        return None
    try:
        return float(a) ** float(b)
    except OverflowError:
        return None


def cast_to_int(a: Any) -> int:
    return int(a)  # truncates towards zero, like SQL CAST


def _and(a: Any, b: Any) -> bool | None:
    if a is False or b is False:
        return False
    if a is None or b is None:
        return None
    return True


def _or(a: Any, b: Any) -> bool | None:
    if a is True or b is True:
        return True
    if a is None or b is None:
        return None
    return False


def _extreme(pick: Callable[..., Any]) -> Callable[..., Any]:
    def apply(*values: Any) -> Any:
        present = [v for v in values if v is not None]
        return pick(present) if present else None

    return apply


def _strict(fn: Callable[..., Any]) -> Callable[..., Any]:
    """NULL in, NULL out."""

    def apply(*values: Any) -> Any:
        if any(v is None for v in values):
            return None
        return fn(*values)

    return apply


def _value(v: Any) -> Any:
    return getattr(v, "value", v)


FUNCTIONS: dict[Op, Callable[..., Any]] = {
    Op.EQ: _strict(lambda a, b: _value(a) == _value(b)),
    Op.NE: _strict(lambda a, b: _value(a) != _value(b)),
    Op.LT: _strict(lambda a, b: _value(a) < _value(b)),
    Op.LE: _strict(lambda a, b: _value(a) <= _value(b)),
    Op.GT: _strict(lambda a, b: _value(a) > _value(b)),
    Op.GE: _strict(lambda a, b: _value(a) >= _value(b)),
    Op.AND: _and,
    Op.OR: _or,
    Op.NOT: _strict(lambda a: not a),
    Op.IS_NULL: lambda a: a is None,
    Op.COALESCE: lambda a, b: b if a is None else a,
    Op.ADD: _strict(lambda a, b: a + b),
    Op.SUB: _strict(lambda a, b: a - b),
    Op.MUL: _strict(lambda a, b: a * b),
    Op.TRUEDIV: _strict(truediv),
    Op.FLOORDIV: _strict(floordiv),
    Op.NEG: _strict(lambda a: -a),
    Op.ABS: _strict(abs),
    Op.POW: _strict(power),
    Op.CAST_TO_INT: _strict(cast_to_int),
    Op.CAST_TO_FLOAT: _strict(float),
    Op.STR_CONTAINS: _strict(lambda a, b: b in _value(a)),
    Op.YEAR: _strict(lambda d: d.year),
    Op.MONTH: _strict(lambda d: d.month),
    Op.DAY: _strict(lambda d: d.day),
    Op.TO_FIRST_OF_MONTH: _strict(lambda d: d.replace(day=1)),
    Op.TO_FIRST_OF_YEAR: _strict(lambda d: d.replace(month=1, day=1)),
    Op.DATE_ADD_DAYS: _strict(add_days),
    Op.DATE_ADD_MONTHS: _strict(add_months),
    Op.DATE_ADD_YEARS: _strict(add_years),
    Op.DATE_DIFF_DAYS: _strict(diff_days),
    Op.DATE_DIFF_MONTHS: _strict(diff_months),
    Op.DATE_DIFF_YEARS: _strict(diff_years),
    Op.MAXIMUM_OF: _extreme(max),
    Op.MINIMUM_OF: _extreme(min),
}


def is_in(value: Any, values: tuple[Any, ...]) -> bool | None:
    if not values:
        return False
    if value is None:
        return None
    return value in values
