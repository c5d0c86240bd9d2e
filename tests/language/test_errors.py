"""Mistakes in a definition raise at the call, with a message saying what to do instead."""

import datetime

import pytest

from fedsafe import case, create_dataset, days, maximum_of, months, weeks, when, years
from fedsafe.errors import DefinitionError
from fedsafe.language.dataset import compile_dataset
from fedsafe.language.parameters import bound_parameters, get_parameter
from spec.tables import e, p


def _set(dataset, name, value):
    setattr(dataset, name, value)


def _population_twice():
    dataset = create_dataset()
    dataset.define_population(p.b1)
    dataset.define_population(p.b1)


def _variable_twice():
    dataset = create_dataset()
    dataset.x = p.i1
    dataset.x = p.i2


MISTAKES = [
    ("date vs int", lambda: e.d1 > p.i1, TypeError, "same type"),
    ("bad date string", lambda: e.d1 > "2020-13-01", ValueError, "YYYY-MM-DD"),
    ("compact date string", lambda: e.d1 > "20200101", ValueError, "YYYY-MM-DD"),
    ("invalid SNOMED code", lambda: e.c1 == "123", ValueError, "SNOMED CT"),
    ("int plus float", lambda: p.i1 + 1.5, TypeError, "as_float()"),
    ("if series", lambda: bool(p.b1), TypeError, "use & instead of 'and'"),
    ("sort_by nothing", lambda: e.sort_by(), TypeError, "at least one"),
    ("pick unsorted", lambda: e.first_for_patient(), TypeError, "sort_by"),
    ("unknown column", lambda: e.no_such_column, AttributeError, "Its columns are: i1, i2"),
    (
        "event-level population",
        lambda: create_dataset().define_population(e.b1),
        TypeError,
        "one value per patient",
    ),
    ("int population", lambda: create_dataset().define_population(p.i1), TypeError, "boolean"),
    ("population twice", _population_twice, ValueError, "only once"),
    ("event-level variable", lambda: _set(create_dataset(), "x", e.i1), TypeError, "per row of e"),
    ("frame variable", lambda: _set(create_dataset(), "x", e), TypeError, "not whole rows"),
    ("constant variable", lambda: _set(create_dataset(), "x", 3), TypeError, "must be series"),
    ("variable twice", _variable_twice, AttributeError, "cannot be reassigned"),
    ("patient_id", lambda: _set(create_dataset(), "patient_id", p.i1), ValueError, "reserved"),
    (
        "method name",
        lambda: create_dataset().add_column("add_column", p.i1),
        AttributeError,
        "Dataset method",
    ),
    ("fractional days", lambda: days(1.5), TypeError, "whole number"),
    ("date plus int", lambda: p.d1 + 3, TypeError, "duration"),
    ("case with no whens", lambda: case(), TypeError, "at least one"),
    (
        "case mixing types",
        lambda: case(when(p.b1).then(1), when(p.b2).then("a")),
        TypeError,
        "one type",
    ),
    ("maximum_of one value", lambda: maximum_of(p.i1), TypeError, "at least two"),
    ("parameter missing", lambda: get_parameter("x"), ValueError, "--param x=VALUE"),
    (
        "dummy size 0",
        lambda: create_dataset().configure_dummy_data(population_size=0),
        ValueError,
        "at least 1",
    ),
    (
        "dummy size str",
        lambda: create_dataset().configure_dummy_data(population_size="10"),
        TypeError,
        "whole number",
    ),
    ("no population", lambda: compile_dataset(create_dataset()), DefinitionError, "No population"),
]


@pytest.mark.parametrize(
    ("mistake", "error", "message"), [m[1:] for m in MISTAKES], ids=[m[0] for m in MISTAKES]
)
def test_mistake_raises_with_advice(mistake, error, message):
    with pytest.raises(error) as info:
        mistake()
    assert message in str(info.value)


def test_parameter_of_the_wrong_type():
    with bound_parameters({"n": "abc"}), pytest.raises(ValueError, match="not a valid int"):
        get_parameter("n", type=int)


def test_parameters_are_converted():
    with bound_parameters({"n": "3", "d": "2020-01-31"}):
        assert get_parameter("n", type=int) == 3
        assert get_parameter("d", type=datetime.date) == datetime.date(2020, 1, 31)
        assert get_parameter("missing", default=None) is None


def test_intervals_as_documented():
    assert weeks(3).starting_on("2000-01-01") == [
        (datetime.date(2000, 1, 1), datetime.date(2000, 1, 7)),
        (datetime.date(2000, 1, 8), datetime.date(2000, 1, 14)),
        (datetime.date(2000, 1, 15), datetime.date(2000, 1, 21)),
    ]
    assert weeks(3).ending_on("2000-01-21") == weeks(3).starting_on("2000-01-01")
    assert months(2).starting_on("2000-01-31") == [
        (datetime.date(2000, 1, 31), datetime.date(2000, 2, 29)),
        (datetime.date(2000, 3, 1), datetime.date(2000, 3, 31)),
    ]


def test_durations_compare_by_unit_and_value():
    assert years(1) + years(2) == years(3)
    assert days(7) != weeks(1)
    assert -days(2) == days(-2)


def test_constant_date_arithmetic_follows_the_round_up_rule():
    assert datetime.date(2020, 1, 31) + months(1) == datetime.date(2020, 3, 1)
    assert datetime.date(2020, 2, 29) + years(1) == datetime.date(2021, 3, 1)
    assert datetime.date(2020, 3, 31) - months(1) == datetime.date(2020, 3, 1)
