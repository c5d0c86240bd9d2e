"""Measures in the language: each bad input is refused at the call that made it, with a
DefinitionError naming the measure and what was expected, and leaves the collection unchanged."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import pytest

from fedsafe.errors import DefinitionError
from fedsafe.language import INTERVAL, create_measures, months, years
from fedsafe.language.dataset import create_dataset
from fedsafe.language.measures import (
    MeasureError,
    Measures,
    MeasureTypeError,
    compile_measures,
    measures_config,
)
from fedsafe.query_model import nodes as qm
from spec.tables import e, p

GOOD = {
    "numerator": p.b1,
    "denominator": p.exists_for_patient(),
    "intervals": months(2).starting_on("2020-01-01"),
}


def _with(**changes: Any) -> dict[str, Any]:
    return {**GOOD, **changes}


BAD_MEASURES: list[tuple[str, Callable[[Measures], None], type[Exception], str]] = [
    ("name not a string", lambda m: m.define_measure(1, **GOOD), MeasureTypeError, "string"),
    ("name with a space", lambda m: m.define_measure("a b", **GOOD), MeasureError, "'a b'"),
    (
        "name starting with a digit",
        lambda m: m.define_measure("1a", **GOOD),
        MeasureError,
        "letter",
    ),
    (
        "duplicate name",
        lambda m: (m.define_measure("a", **GOOD), m.define_measure("a", **GOOD)),
        MeasureError,
        "'a' is defined twice",
    ),
    (
        "numerator a float",
        lambda m: m.define_measure("a", **_with(numerator=p.f1)),
        MeasureTypeError,
        "numerator of measure 'a' must be a boolean or integer",
    ),
    (
        "denominator a date",
        lambda m: m.define_measure("a", **_with(denominator=p.d1)),
        MeasureTypeError,
        "denominator of measure 'a' must be a boolean or integer",
    ),
    (
        "numerator event level",
        lambda m: m.define_measure("a", **_with(numerator=e.b1)),
        MeasureTypeError,
        "one value per patient",
    ),
    (
        "denominator a frame",
        lambda m: m.define_measure("a", **_with(denominator=e)),
        MeasureTypeError,
        "not a frame",
    ),
    (
        "numerator a constant",
        lambda m: m.define_measure("a", **_with(numerator=True)),
        MeasureTypeError,
        "patient series",
    ),
    (
        "no numerator and no default",
        lambda m: m.define_measure("a", denominator=p.b1, intervals=GOOD["intervals"]),
        MeasureError,
        "measure 'a' has no numerator",
    ),
    (
        "no intervals and no default",
        lambda m: m.define_measure("a", numerator=p.b1, denominator=p.b2),
        MeasureError,
        "measure 'a' has no intervals",
    ),
    (
        "empty intervals",
        lambda m: m.define_measure("a", **_with(intervals=[])),
        MeasureError,
        "empty",
    ),
    (
        "intervals a string",
        lambda m: m.define_measure("a", **_with(intervals="2020-01-01")),
        MeasureTypeError,
        "list of (start, end) date pairs",
    ),
    (
        "an interval not a pair",
        lambda m: m.define_measure("a", **_with(intervals=[("2020-01-01",)])),
        MeasureTypeError,
        "(start, end) pair",
    ),
    (
        "an interval date not a date",
        lambda m: m.define_measure("a", **_with(intervals=[(1, 2)])),
        MeasureTypeError,
        "must be dates",
    ),
    (
        "an interval ending before it starts",
        lambda m: m.define_measure("a", **_with(intervals=[("2020-02-01", "2020-01-01")])),
        MeasureError,
        "ends (2020-01-01) before it starts (2020-02-01)",
    ),
    (
        "group_by not a dictionary",
        lambda m: m.define_measure("a", **_with(group_by=[p.s1])),
        MeasureTypeError,
        "group_by of measure 'a' must be a dictionary",
    ),
    (
        "group_by value not a series",
        lambda m: m.define_measure("a", **_with(group_by={"g": "male"})),
        MeasureTypeError,
        "group_by 'g' of measure 'a' must be a categorical patient series",
    ),
    (
        "group_by a float series",
        lambda m: m.define_measure("a", **_with(group_by={"g": p.f1})),
        MeasureTypeError,
        "group_by 'g' of measure 'a' must be a categorical patient series",
    ),
    (
        "group_by a date series",
        lambda m: m.define_measure("a", **_with(group_by={"g": p.d1})),
        MeasureTypeError,
        "not a date series",
    ),
    (
        "group_by event level",
        lambda m: m.define_measure("a", **_with(group_by={"g": e.s1})),
        MeasureError,
        "one value per patient",
    ),
    (
        "group_by a reserved name",
        lambda m: m.define_measure("a", **_with(group_by={"ratio": p.s1})),
        MeasureError,
        "'ratio' in measure 'a' clashes with a column",
    ),
    (
        "group_by a bad name",
        lambda m: m.define_measure("a", **_with(group_by={"my group": p.s1})),
        MeasureError,
        "'my group' is not valid",
    ),
    (
        "denominator true for patients with no data",
        lambda m: m.define_measure("a", **_with(denominator=~e.exists_for_patient())),
        MeasureError,
        "denominator of measure 'a' must not count patients who have no data",
    ),
    (
        "defaults given twice",
        lambda m: (m.define_defaults(numerator=p.b1), m.define_defaults(numerator=p.b1)),
        MeasureError,
        "only be called once",
    ),
    (
        "default numerator a string series",
        lambda m: m.define_defaults(numerator=p.s1),
        MeasureTypeError,
        "numerator of define_defaults() must be a boolean or integer",
    ),
    (
        "disclosure control not a boolean",
        lambda m: m.configure_disclosure_control(enabled="no"),
        MeasureTypeError,
        "True or False",
    ),
]


@pytest.mark.parametrize(
    ("define", "error", "fragment"),
    [case[1:] for case in BAD_MEASURES],
    ids=[case[0] for case in BAD_MEASURES],
)
def test_bad_measures_are_refused(
    define: Callable[[Measures], None], error: type[Exception], fragment: str
) -> None:
    measures = create_measures()
    with pytest.raises(error) as raised:
        define(measures)
    assert fragment in str(raised.value)
    assert isinstance(raised.value, DefinitionError)
    # A refused measure is not added: at most the one good measure a case defined first.
    assert len(measures) <= 1
    assert "a b" not in measures._state.measures


def test_a_refused_measure_leaves_the_collection_as_it_was() -> None:
    measures = create_measures()
    measures.define_measure("first", **GOOD)
    before = compile_measures(measures)
    with pytest.raises(MeasureTypeError):
        measures.define_measure("second", **_with(numerator=p.f1))
    assert compile_measures(measures) == before


def test_a_group_name_must_mean_the_same_in_every_measure() -> None:
    measures = create_measures()
    measures.define_measure("a", **_with(group_by={"g": p.s1}))
    measures.define_measure("b", **_with(group_by={"g": p.s1}))  # the same definition: fine
    with pytest.raises(MeasureError, match="'g' of measure 'c' is defined differently"):
        measures.define_measure("c", **_with(group_by={"g": p.s2}))
    assert len(measures) == 2


def test_intervals_are_sorted_and_repeats_dropped() -> None:
    measures = create_measures()
    jan, feb = ("2020-01-01", "2020-01-31"), ("2020-02-01", "2020-02-29")
    measures.define_measure("a", **_with(intervals=[feb, jan, feb]))
    (measure,) = compile_measures(measures).measures
    assert measure.intervals == (
        (datetime.date(2020, 1, 1), datetime.date(2020, 1, 31)),
        (datetime.date(2020, 2, 1), datetime.date(2020, 2, 29)),
    )


def test_no_measures_is_refused() -> None:
    with pytest.raises(MeasureError, match="No measures"):
        compile_measures(create_measures())


def test_interval_cannot_be_used_in_a_dataset() -> None:
    dataset = create_dataset()
    dataset.define_population(p.exists_for_patient())
    dataset.born = p.d1.is_before(INTERVAL.start_date)
    from fedsafe.language.dataset import compile_dataset

    with pytest.raises(qm.QueryModelError, match="INTERVAL can only be used in measures"):
        compile_dataset(dataset)


def test_defaults_fill_what_a_measure_leaves_out_and_a_measure_overrides_them() -> None:
    measures = create_measures()
    measures.define_defaults(
        numerator=p.b1,
        denominator=p.exists_for_patient(),
        group_by={"s1": p.s1},
        intervals=years(1).starting_on("2020-01-01"),
    )
    measures.define_measure("uses_defaults")
    measures.define_measure("overrides", numerator=p.b2, group_by={"i1": p.i1})
    first, second = compile_measures(measures).measures
    assert first.numerator == p.b1._node
    assert first.group_by == (("s1", p.s1._node),)
    assert first.intervals == ((datetime.date(2020, 1, 1), datetime.date(2020, 12, 31)),)
    assert second.numerator == p.b2._node
    assert second.denominator == p.exists_for_patient()._node
    assert second.group_by == (("i1", p.i1._node),)


def test_is_during_interval_means_on_or_between_its_dates() -> None:
    start, end = INTERVAL
    assert e.d1.is_during(INTERVAL)._node == e.d1.is_on_or_between(start, end)._node
    assert start._node == qm.IntervalDate(qm.IntervalBound.START)
    assert end._node == qm.IntervalDate(qm.IntervalBound.END)


def test_settings_default_to_disclosure_control_on() -> None:
    measures = create_measures()
    assert measures_config(measures)["disclosure_control"] == {"enabled": True}
    measures.configure_disclosure_control(enabled=False)
    measures.configure_dummy_data(population_size=500)
    config = measures_config(measures)
    assert config["disclosure_control"] == {"enabled": False}
    assert config["dummy_data"]["population_size"] == 500
