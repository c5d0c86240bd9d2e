"""Functions that take several series: case/when, maximum_of, minimum_of."""

from __future__ import annotations

from typing import Any

from fedsafe.language.series import BaseSeries, fn, to_node, wrap
from fedsafe.query_model import nodes as qm


class When:
    """A condition waiting for its value: ``when(condition).then(value)``."""

    def __init__(self, condition: Any) -> None:
        if not isinstance(condition, BaseSeries):
            raise TypeError(f"when() needs a boolean series, not {condition!r}")
        self._condition = to_node(condition, bool)

    def then(self, value: Any) -> WhenThen:
        return WhenThen(((self._condition, value),))


class WhenThen:
    """One or more ``when(...).then(...)`` pairs; add ``.otherwise(...)`` to make a series."""

    def __init__(self, cases: tuple[tuple[qm.Series, Any], ...]) -> None:
        self._cases = cases

    def when(self, condition: Any) -> _ChainedWhen:
        return _ChainedWhen(self._cases, When(condition)._condition)

    def otherwise(self, value: Any) -> BaseSeries:
        return case(self, otherwise=value)

    def __bool__(self) -> bool:
        raise TypeError("when(...).then(...) must be passed to case() or end in .otherwise()")


class _ChainedWhen:
    def __init__(self, cases: tuple[tuple[qm.Series, Any], ...], condition: qm.Series) -> None:
        self._cases = cases
        self._condition = condition

    def then(self, value: Any) -> WhenThen:
        return WhenThen((*self._cases, (self._condition, value)))


def when(condition: Any) -> When:
    """Start a case: ``case(when(age < 18).then("child"), otherwise="adult")``."""
    return When(condition)


def _value_type(values: list[Any]) -> type | None:
    for value in values:
        if isinstance(value, BaseSeries):
            return value._type
    return None


_NOT_GIVEN: Any = object()


def case(*when_thens: WhenThen, otherwise: Any = None, default: Any = _NOT_GIVEN) -> BaseSeries:
    """The value of the first ``when`` whose condition is true, else ``otherwise`` (or NULL).

    ``default=`` is the name earlier ehrQL releases used for ``otherwise``; published studies
    still pass it, so it is accepted as the same thing.
    """
    if default is not _NOT_GIVEN:
        if otherwise is not None:
            raise TypeError("case() takes otherwise=... or its older name default=..., not both")
        otherwise = default
    if not when_thens:
        raise TypeError("case() needs at least one when(...).then(...)")
    pairs: list[tuple[qm.Series, Any]] = []
    for item in when_thens:
        if not isinstance(item, WhenThen):
            raise TypeError(
                f"case() arguments must be when(...).then(...), not {item!r}; "
                "pass the default as otherwise=..."
            )
        pairs.extend(item._cases)
    values = [v for _, v in pairs] + [otherwise]
    expected = _value_type(values)
    floats = any(isinstance(v, float) for v in values)
    if expected is None and floats:
        expected = float
    cases = tuple(
        (condition, None if value is None else to_node(value, expected))
        for condition, value in pairs
    )
    default = None if otherwise is None else to_node(otherwise, expected)
    return wrap(qm.Case(cases, default))


def _extreme(op: qm.Op, name: str, args: tuple[Any, ...]) -> BaseSeries:
    if len(args) < 2:
        raise TypeError(f"{name}() needs at least two values")
    expected = _value_type(list(args))
    if expected is None and any(isinstance(a, float) for a in args):
        expected = float
    return fn(op, *(to_node(a, expected) for a in args))


def maximum_of(*args: Any) -> BaseSeries:
    """The largest of the values for each patient or row, ignoring NULLs."""
    return _extreme(qm.Op.MAXIMUM_OF, "maximum_of", args)


def minimum_of(*args: Any) -> BaseSeries:
    """The smallest of the values for each patient or row, ignoring NULLs."""
    return _extreme(qm.Op.MINIMUM_OF, "minimum_of", args)
