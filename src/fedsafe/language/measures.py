"""Measures: ratios over time, as ehrQL documents them (``create_measures``, ``INTERVAL``).

A measures definition builds a ``Measures`` collection; each ``define_measure`` is checked at
once, so a mistake is reported at the line that made it, naming the measure. The collection
compiles to a :class:`fedsafe.query_model.nodes.Measures` node that engines run in one pass over
every interval.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from fedsafe.errors import DefinitionError
from fedsafe.language.dataset import DummyDataConfig, dummy_data_settings, dummy_settings_json
from fedsafe.language.frames import BaseFrame
from fedsafe.language.series import BaseSeries, parse_date, wrap
from fedsafe.query_model import nodes as qm


class MeasureError(DefinitionError, ValueError):
    """A measure that cannot be defined, explained in the researcher's terms."""


class MeasureTypeError(MeasureError, TypeError):
    """A measure given a value of the wrong kind."""


class _Interval:
    """``INTERVAL``: the current interval of a measure, a placeholder for a (start, end) pair.

    Iterating gives its two dates, so ``date.is_during(INTERVAL)`` works like any interval.
    """

    @property
    def start_date(self) -> BaseSeries:
        """The first day of the interval (inclusive)."""
        return wrap(qm.IntervalDate(qm.IntervalBound.START))

    @property
    def end_date(self) -> BaseSeries:
        """The last day of the interval (inclusive)."""
        return wrap(qm.IntervalDate(qm.IntervalBound.END))

    def __iter__(self) -> Any:
        return iter((self.start_date, self.end_date))

    def __repr__(self) -> str:
        return "INTERVAL"


INTERVAL = _Interval()


@dataclass(frozen=True)
class DisclosureControlConfig:
    """Whether numerators and denominators are suppressed and rounded (on unless turned off)."""

    enabled: bool = True


# ehrQL's dataset default of 10 dummy patients leaves most measure rows empty.
DEFAULT_DUMMY_POPULATION_SIZE = 1000


@dataclass
class _Defaults:
    numerator: qm.Series | None = None
    denominator: qm.Series | None = None
    group_by: tuple[tuple[str, qm.Series], ...] | None = None
    intervals: tuple[tuple[datetime.date, datetime.date], ...] | None = None


@dataclass
class _State:
    measures: dict[str, qm.Measure] = field(default_factory=dict)
    defaults: _Defaults | None = None
    dummy: DummyDataConfig = field(
        default_factory=lambda: DummyDataConfig(population_size=DEFAULT_DUMMY_POPULATION_SIZE)
    )
    disclosure: DisclosureControlConfig = field(default_factory=DisclosureControlConfig)


class Measures:
    """A collection of measures; make one with ``create_measures()``."""

    def __init__(self) -> None:
        self._state = _State()

    def define_defaults(
        self,
        numerator: Any = None,
        denominator: Any = None,
        group_by: Any = None,
        intervals: Any = None,
    ) -> None:
        """Values the measures defined after this share unless they give their own."""
        if self._state.defaults is not None:
            raise MeasureError("define_defaults() can only be called once")
        where = "define_defaults()"
        self._state.defaults = _Defaults(
            numerator=None if numerator is None else _series(numerator, "numerator", where),
            denominator=None if denominator is None else _series(denominator, "denominator", where),
            group_by=None if group_by is None else _groups(group_by, where),
            intervals=None if intervals is None else _intervals(intervals, where),
        )

    def define_measure(
        self,
        name: Any,
        numerator: Any = None,
        denominator: Any = None,
        group_by: Any = None,
        intervals: Any = None,
    ) -> None:
        """Add a measure: per interval and group, numerator and denominator summed."""
        qm_name = _name(name)
        where = f"measure {qm_name!r}"
        if qm_name in self._state.measures:
            raise MeasureError(f"Measure {qm_name!r} is defined twice: give each a new name")
        defaults = self._state.defaults or _Defaults()
        values = {
            "numerator": _series(numerator, "numerator", where)
            if numerator is not None
            else defaults.numerator,
            "denominator": _series(denominator, "denominator", where)
            if denominator is not None
            else defaults.denominator,
            "intervals": _intervals(intervals, where)
            if intervals is not None
            else defaults.intervals,
        }
        for role, value in values.items():
            if value is None:
                raise MeasureError(
                    f"{where} has no {role}: give {role}=... or set a default with "
                    "measures.define_defaults()"
                )
        groups = _groups(group_by, where) if group_by is not None else defaults.group_by
        try:
            measure = qm.Measure(
                qm_name,
                values["numerator"],
                values["denominator"],
                groups or (),
                values["intervals"],
            )
            # Checks across measures (a group name used with two types) fail here, not later.
            qm.Measures((*self._state.measures.values(), measure))
        except qm.QueryTypeError as error:
            raise MeasureTypeError(str(error)) from None
        except qm.QueryModelError as error:
            raise MeasureError(str(error)) from None
        self._state.measures[qm_name] = measure

    def configure_dummy_data(
        self,
        *,
        population_size: int = DEFAULT_DUMMY_POPULATION_SIZE,
        legacy: bool = False,
        timeout: int = 60,
        additional_population_constraint: Any = None,
    ) -> None:
        """Set how many dummy patients to make when no data source is given."""
        self._state.dummy = dummy_data_settings(
            population_size=population_size,
            legacy=legacy,
            timeout=timeout,
            additional_population_constraint=additional_population_constraint,
        )

    def configure_disclosure_control(self, *, enabled: bool = True) -> None:
        """Turn the default suppression and rounding of counts off (or on again)."""
        if not isinstance(enabled, bool):
            raise MeasureTypeError(
                f"configure_disclosure_control(enabled=...) needs True or False, not {enabled!r}"
            )
        self._state.disclosure = DisclosureControlConfig(enabled)

    def __len__(self) -> int:
        return len(self._state.measures)

    def __iter__(self) -> Any:
        raise TypeError("Measures cannot be iterated: define them with define_measure()")


def create_measures() -> Measures:
    """A new, empty collection of measures."""
    return Measures()


def compile_measures(measures: Measures) -> qm.Measures:
    """The query model for the collection, refusing one without measures."""
    if not isinstance(measures, Measures):
        raise MeasureTypeError(
            f"'measures' must be made with create_measures(), not {type(measures).__name__}"
        )
    if not measures._state.measures:
        raise MeasureError("No measures: call measures.define_measure(...) at least once")
    return qm.Measures(tuple(measures._state.measures.values()))


def measures_config(measures: Measures) -> dict[str, Any]:
    """The settings that are not part of the query, as JSON-safe values."""
    return {
        "dummy_data": dummy_settings_json(measures._state.dummy),
        "disclosure_control": {"enabled": measures._state.disclosure.enabled},
    }


# --------------------------------------------------------------------------------------------
# Checking arguments as they are given, so errors point at the researcher's line


def _name(name: Any) -> str:
    if not isinstance(name, str):
        raise MeasureTypeError(f"A measure's name must be a string, not {name!r}")
    try:
        qm.check_measure_name(name)
    except qm.QueryModelError as error:
        raise MeasureError(str(error)) from None
    return name


def _series(value: Any, role: str, where: str) -> qm.Series:
    if isinstance(value, BaseFrame):
        raise MeasureTypeError(
            f"The {role} of {where} must be a patient series, not a frame: e.g. "
            ".exists_for_patient() or .count_for_patient()"
        )
    if not isinstance(value, BaseSeries):
        raise MeasureTypeError(
            f"The {role} of {where} must be a boolean or integer patient series, not {value!r}"
        )
    node = value._node
    if node.type not in (bool, int):
        raise MeasureTypeError(
            f"The {role} of {where} must be a boolean or integer patient series, not "
            f"{type(value).__name__}"
        )
    if not node.domain.is_patient:
        raise MeasureTypeError(
            f"The {role} of {where} must have one value per patient, but it has one per row "
            f"of {node.domain.root.name}: aggregate it, e.g. with .exists_for_patient()"
        )
    return node


def _groups(group_by: Any, where: str) -> tuple[tuple[str, qm.Series], ...]:
    if not isinstance(group_by, Mapping):
        raise MeasureTypeError(
            f"group_by of {where} must be a dictionary of names to patient series, e.g. "
            f'{{"sex": patients.sex}}, not {type(group_by).__name__}'
        )
    groups = []
    for name, value in group_by.items():
        if not isinstance(name, str):
            raise MeasureTypeError(f"group_by names of {where} must be strings, not {name!r}")
        if not isinstance(value, BaseSeries):
            raise MeasureTypeError(
                f"group_by {name!r} of {where} must be a categorical patient series, not "
                f"{type(value).__name__}"
            )
        groups.append((name, value._node))
    return tuple(groups)


def _intervals(intervals: Any, where: str) -> tuple[tuple[datetime.date, datetime.date], ...]:
    if isinstance(intervals, str | bytes | Mapping) or not hasattr(intervals, "__iter__"):
        raise MeasureTypeError(
            f"intervals of {where} must be a list of (start, end) date pairs, e.g. "
            f'months(12).starting_on("2020-01-01"), not {intervals!r}'
        )
    result = []
    for item in intervals:
        try:
            start, end = item
        except (TypeError, ValueError):
            raise MeasureTypeError(
                f"each interval of {where} must be a (start, end) pair of dates, not {item!r}"
            ) from None
        result.append((_date(start, where), _date(end, where)))
    if not result:
        raise MeasureError(f"intervals of {where} is empty: give at least one (start, end) pair")
    return tuple(result)


def _date(value: Any, where: str) -> datetime.date:
    if isinstance(value, str):
        return parse_date(value, f"interval date in {where}")
    if isinstance(value, datetime.datetime) or not isinstance(value, datetime.date):
        raise MeasureTypeError(f"interval dates of {where} must be dates, not {value!r}")
    return value
