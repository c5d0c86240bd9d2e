"""Mistakes in a definition raise at the line that makes them, saying what to do instead.

Each case checks the exception class (as precisely as the language promises: the query model's
errors are both ``TypeError``/``ValueError`` and ``QueryModelError``) and a fragment of the
message that carries the advice. The second half covers language behaviour that never reaches an
engine: durations, intervals, constant date arithmetic, datasets and parameters.
"""

from __future__ import annotations

import datetime
import itertools
from collections.abc import Callable
from typing import Any

import pytest

from fedsafe import (
    case,
    create_dataset,
    days,
    get_parameter,
    maximum_of,
    minimum_of,
    months,
    weeks,
    when,
    years,
)
from fedsafe.codes import InvalidCodeError
from fedsafe.errors import DefinitionError
from fedsafe.language.dataset import Dataset, compile_dataset, dummy_data_config
from fedsafe.language.parameters import bound_parameters
from fedsafe.language.series import BaseSeries
from fedsafe.query_model import nodes as qm
from spec.tables import e, p

D = datetime.date


def _assign(name: str, value: Any) -> Callable[[], None]:
    def run() -> None:
        setattr(create_dataset(), name, value)

    return run


def _population_twice() -> None:
    dataset = create_dataset()
    dataset.define_population(e.exists_for_patient())
    dataset.define_population(p.b1)


def _variable_twice() -> None:
    dataset = create_dataset()
    dataset.x = p.i1
    dataset.x = p.i1  # even the same value


def _if_series() -> None:
    if p.b1:  # the mistake itself
        pass


def _parameter(name: str, bound: dict[str, str], **kwargs: Any) -> Callable[[], Any]:
    def run() -> Any:
        with bound_parameters(bound):
            return get_parameter(name, **kwargs)

    return run


# (id, mistake, exception class, fragments the message must contain)
MISTAKES: list[tuple[str, Callable[[], Any], type[Exception], tuple[str, ...]]] = [
    (
        "date compared with int",
        lambda: e.d1 > p.i1,
        qm.QueryTypeError,
        ("Cannot compare a date and an integer", "same type"),
    ),
    (
        "date compared with a string that is not a date",
        lambda: e.d1 > "not-a-date",
        ValueError,
        ("'not-a-date' is not a valid date", "YYYY-MM-DD"),
    ),
    (
        "date compared with an impossible date",
        lambda: p.d1.is_before("2021-02-29"),
        ValueError,
        ("YYYY-MM-DD",),
    ),
    (
        "date compared with a datetime",
        lambda: e.d1 > datetime.datetime(2020, 1, 1, 9, 30),
        qm.QueryTypeError,
        ("use a date",),
    ),
    (
        "date compared with a duration",
        lambda: p.d1.is_after(years(1)),
        TypeError,
        ("got a duration", "index_date - years(1)"),
    ),
    (
        "invalid SNOMED CT code",
        lambda: e.c1 == "123",
        InvalidCodeError,
        ("'123' is not a valid SNOMED CT code", "6 to 18"),
    ),
    (
        "invalid code in is_in",
        lambda: p.c1.is_in(["22298006", "22298007"]),
        InvalidCodeError,
        ("'22298007'", "check digit"),
    ),
    (
        "int series plus a float",
        lambda: p.i1 + 1.5,
        TypeError,
        ("float 1.5", ".as_float()"),
    ),
    (
        "float plus int series",
        lambda: 1.5 * e.i1,
        TypeError,
        (".as_float()",),
    ),
    (
        "int plus a bool",
        lambda: p.i1 + True,
        qm.QueryTypeError,
        ("integer and a boolean", "same type"),
    ),
    (
        "string plus int",
        lambda: p.s1 + 1,
        TypeError,
        ("unsupported operand",),
    ),
    (
        "if on a series",
        _if_series,
        TypeError,
        ("use & instead of 'and'", "| instead of 'or'", "~ instead of 'not'", "case("),
    ),
    (
        "and between series",
        lambda: p.b1 and p.b2,
        TypeError,
        ("use & instead of 'and'",),
    ),
    (
        "not of a series",
        lambda: not e.b1,
        TypeError,
        ("~ instead of 'not'",),
    ),
    (
        "& on ints",
        lambda: e.b1 & p.i1,
        qm.QueryTypeError,
        ("&, | and ~ need boolean series", "integer"),
    ),
    (
        "len of a series",
        lambda: len(e.i1),
        TypeError,
        ("count_for_patient()",),
    ),
    (
        "iterating a series",
        lambda: list(p.i1),
        TypeError,
        ("cannot be iterated",),
    ),
    (
        "bool of a frame",
        lambda: bool(e),
        TypeError,
        ("can't be used as True or False",),
    ),
    (
        "sort_by with no arguments",
        lambda: e.sort_by(),
        TypeError,
        ("needs at least one series",),
    ),
    (
        "sort_by a frame",
        lambda: e.sort_by(e),
        TypeError,
        ("sort_by() takes series",),
    ),
    (
        "first_for_patient without a sort",
        lambda: e.first_for_patient(),
        TypeError,
        ("Call .sort_by(...) before .first_for_patient()",),
    ),
    (
        "last_for_patient of a filtered, unsorted frame",
        lambda: e.where(e.b1).last_for_patient(),
        TypeError,
        (".sort_by(...) before .last_for_patient()",),
    ),
    (
        "unknown column",
        lambda: e.no_such_column,
        AttributeError,
        ("Table 'e' has no column 'no_such_column'", "Its columns are: i1, i2, f1"),
    ),
    (
        "unknown column of a filtered frame",
        lambda: e.where(e.b1).nope,
        AttributeError,
        ("has no column 'nope'", "c1"),
    ),
    (
        "assigning to a frame",
        lambda: setattr(e, "i1", 3),
        AttributeError,
        ("frames cannot be changed",),
    ),
    (
        "where with a non-bool series",
        lambda: e.where(p.i1),
        qm.QueryTypeError,
        ("must be a boolean series", "integer"),
    ),
    (
        "where with a number",
        lambda: e.where(1),
        TypeError,
        ("needs a boolean series",),
    ),
    (
        "where with a frame",
        lambda: e.where(e),
        TypeError,
        ("not a frame",),
    ),
    (
        "is_in a string",
        lambda: p.s1.is_in("abc"),
        TypeError,
        ("collection of values",),
    ),
    (
        "contains with an int",
        lambda: p.s1.contains(1),
        qm.QueryTypeError,
        ("contains() needs a string series and a string",),
    ),
    # The dataset
    (
        "event-level population",
        lambda: create_dataset().define_population(e.b1),
        TypeError,
        ("one value per patient", "per row of e", ".exists_for_patient()"),
    ),
    (
        "integer population",
        lambda: create_dataset().define_population(p.i1),
        TypeError,
        ("must be a boolean series", "IntPatientSeries"),
    ),
    (
        "frame as population",
        lambda: create_dataset().define_population(e),
        TypeError,
        ("not a frame", "exists_for_patient()"),
    ),
    (
        "constant population",
        lambda: create_dataset().define_population(True),
        TypeError,
        ("must be a boolean series",),
    ),
    (
        "population true without data",
        lambda: create_dataset().define_population(~e.exists_for_patient()),
        qm.QueryModelError,
        ("would include everyone", "exists_for_patient()"),
    ),
    (
        "population defined twice",
        _population_twice,
        ValueError,
        ("define_population() should be called only once",),
    ),
    (
        "event-level variable",
        _assign("x", e.i1),
        TypeError,
        ("Invalid variable 'x'", "one value per row of e", ".count_for_patient()"),
    ),
    (
        "frame as variable",
        _assign("x", e),
        TypeError,
        ("Invalid variable 'x'", "not whole rows", "pick a column"),
    ),
    (
        "picked row as variable",
        _assign("x", e.sort_by(e.d1).first_for_patient()),
        TypeError,
        ("not whole rows",),
    ),
    (
        "constant as variable",
        _assign("x", 3),
        TypeError,
        ("Invalid variable 'x'", "must be series, not 3"),
    ),
    (
        "variable set twice",
        _variable_twice,
        AttributeError,
        ("'x' is already set", "cannot be reassigned"),
    ),
    (
        "variable named patient_id",
        _assign("patient_id", p.i1),
        qm.QueryModelError,
        ("'patient_id' is a reserved name",),
    ),
    (
        "variable named population",
        _assign("population", p.b1),
        qm.QueryModelError,
        ("'population' is a reserved name",),
    ),
    (
        "variable named after a method",
        _assign("define_population", p.b1),
        AttributeError,
        ("'define_population' is the name of a Dataset method", "choose another name"),
    ),
    (
        "add_column named after a method",
        lambda: create_dataset().add_column("configure_dummy_data", p.i1),
        AttributeError,
        ("Dataset method",),
    ),
    (
        "add_column with an invalid name",
        lambda: create_dataset().add_column("age at start", p.i1),
        qm.QueryModelError,
        ("'age at start' is not valid", "letters, digits and underscores"),
    ),
    (
        "reading a variable never set",
        lambda: create_dataset().age,
        AttributeError,
        ("no variable 'age'",),
    ),
    # Durations and dates
    (
        "days of a float",
        lambda: days(1.5),
        TypeError,
        ("days() needs a whole number or an integer series", "1.5"),
    ),
    (
        "days of a bool",
        lambda: days(True),
        TypeError,
        ("whole number",),
    ),
    (
        "months of a float series",
        lambda: months(p.f1),
        TypeError,
        ("integer series", "float series"),
    ),
    (
        "date plus an int",
        lambda: p.d1 + 3,
        TypeError,
        ("Can only add a duration", "days(), weeks(), months(), years()"),
    ),
    (
        "date minus an int",
        lambda: p.d1 - 3,
        TypeError,
        ("subtract a duration or a date",),
    ),
    (
        "adding two units",
        lambda: days(1) + months(1),
        TypeError,
        ("use one unit",),
    ),
    (
        "intervals of a series duration",
        lambda: weeks(p.i1).starting_on("2000-01-01"),
        TypeError,
        ("fixed",),
    ),
    (
        "comparing series durations",
        lambda: days(p.i1) == days(1),
        TypeError,
        ("cannot be compared",),
    ),
    (
        "is_during without a pair",
        lambda: p.d1.is_during(("2020-01-01",)),
        TypeError,
        ("(start_date, end_date)",),
    ),
    # case, maximum_of
    (
        "case with no whens",
        lambda: case(),
        TypeError,
        ("case() needs at least one when(...).then(...)",),
    ),
    (
        "case with mixed value types",
        lambda: case(when(p.b1).then(1), when(p.b1).then("a")),
        qm.QueryTypeError,
        ("must be one type", "integer", "string"),
    ),
    (
        "case given its default positionally",
        lambda: case(when(p.b1).then(1), 2),
        TypeError,
        ("otherwise=",),
    ),
    (
        "case with only None values",
        lambda: case(when(p.b1).then(None)),
        qm.QueryTypeError,
        ("at least one value that is not None",),
    ),
    (
        "when of a constant",
        lambda: when(True),
        TypeError,
        ("when() needs a boolean series",),
    ),
    (
        "when of an int series",
        lambda: case(when(p.i1).then(1)),
        qm.QueryTypeError,
        ("when() condition must be boolean", "integer"),
    ),
    (
        "a bare when-then used as a condition",
        lambda: bool(when(p.b1).then(1)),
        TypeError,
        ("must be passed to case()",),
    ),
    (
        "maximum_of one argument",
        lambda: maximum_of(p.i1),
        TypeError,
        ("maximum_of() needs at least two values",),
    ),
    (
        "minimum_of no arguments",
        lambda: minimum_of(),
        TypeError,
        ("minimum_of() needs at least two values",),
    ),
    (
        "maximum_of mixed types",
        lambda: maximum_of(p.i1, "a"),
        qm.QueryTypeError,
        ("integer and a string",),
    ),
    # Parameters
    (
        "parameter not given",
        _parameter("x", {}),
        ValueError,
        ("Parameter 'x' was not given", "--param x=VALUE", "parameters given: none"),
    ),
    (
        "parameter not given, others were",
        _parameter("x", {"b": "1", "a": "2"}),
        ValueError,
        ("--param x=VALUE", "parameters given: a, b"),
    ),
    (
        "int parameter that is not a number",
        _parameter("n", {"n": "abc"}, type=int),
        ValueError,
        ("Parameter 'n' is 'abc'", "not a valid int"),
    ),
    (
        "bool parameter that is not a bool",
        _parameter("flag", {"flag": "maybe"}, type=bool),
        ValueError,
        ("not a valid bool",),
    ),
    (
        "date parameter that is not a date",
        _parameter("when", {"when": "2020-13-01"}, type=datetime.date),
        ValueError,
        ("not a valid date",),
    ),
    (
        "parameter of an unsupported type",
        _parameter("n", {"n": "1"}, type=list),
        TypeError,
        ("type must be str, int, float, bool or date",),
    ),
    # Dummy data settings and compiling
    (
        "dummy population of 0",
        lambda: create_dataset().configure_dummy_data(population_size=0),
        ValueError,
        ("population_size must be at least 1",),
    ),
    (
        "dummy population given as a string",
        lambda: create_dataset().configure_dummy_data(population_size="10"),
        TypeError,
        ("population_size must be a whole number",),
    ),
    (
        "dummy population given as a float",
        lambda: create_dataset().configure_dummy_data(population_size=10.0),
        TypeError,
        ("whole number",),
    ),
    (
        "dummy population given as a bool",
        lambda: create_dataset().configure_dummy_data(population_size=True),
        TypeError,
        ("whole number",),
    ),
    (
        "dummy constraint that is not a series",
        lambda: create_dataset().configure_dummy_data(additional_population_constraint=True),
        TypeError,
        ("additional_population_constraint must be a boolean series",),
    ),
    (
        "compiling a dataset with no population",
        lambda: compile_dataset(create_dataset()),
        DefinitionError,
        ("No population", "define_population"),
    ),
    (
        "compiling something that is not a dataset",
        lambda: compile_dataset(object()),
        DefinitionError,
        ("create_dataset()",),
    ),
]


@pytest.mark.parametrize(
    ("mistake", "error", "fragments"),
    [pytest.param(m, err, frags, id=name) for name, m, err, frags in MISTAKES],
)
def test_mistake_raises_at_the_call_with_advice(
    mistake: Callable[[], Any], error: type[Exception], fragments: tuple[str, ...]
) -> None:
    with pytest.raises(error) as caught:
        mistake()
    message = str(caught.value)
    for fragment in fragments:
        assert fragment in message, message


def test_query_model_errors_are_ordinary_python_errors() -> None:
    """A researcher catching TypeError/ValueError catches the query model's errors too."""
    with pytest.raises(TypeError):
        e.d1 > p.i1  # noqa: B015
    with pytest.raises(ValueError):
        e.d1 > p.i1  # noqa: B015


@pytest.mark.parametrize(
    "constraint",
    [pytest.param(lambda: p.i1, id="int series"), pytest.param(lambda: e.b1, id="event-level")],
)
def test_dummy_data_constraint_must_be_a_patient_level_boolean(
    constraint: Callable[[], BaseSeries],
) -> None:
    """The message promises "a boolean series"; an int or event-level series must be refused."""
    with pytest.raises(TypeError, match="boolean series"):
        create_dataset().configure_dummy_data(additional_population_constraint=constraint())


def test_constant_date_arithmetic_out_of_range_raises() -> None:
    """``date(9999, 12, 31) + days(1)`` must not quietly give None where a date is expected.

    The None surfaces lines later as "None is not allowed here", far from the cause.
    """
    with pytest.raises((ValueError, OverflowError)):
        D(9999, 12, 31) + days(1)


# --------------------------------------------------------------------------------------------
# Durations and intervals


def test_weeks_starting_on_gives_the_documented_intervals() -> None:
    assert weeks(3).starting_on("2000-01-01") == [
        (D(2000, 1, 1), D(2000, 1, 7)),
        (D(2000, 1, 8), D(2000, 1, 14)),
        (D(2000, 1, 15), D(2000, 1, 21)),
    ]


def test_weeks_ending_on_gives_the_documented_intervals() -> None:
    assert weeks(3).ending_on("2000-01-21") == [
        (D(2000, 1, 1), D(2000, 1, 7)),
        (D(2000, 1, 8), D(2000, 1, 14)),
        (D(2000, 1, 15), D(2000, 1, 21)),
    ]


def test_intervals_accept_dates_as_well_as_strings() -> None:
    assert days(2).starting_on(D(2020, 2, 28)) == [
        (D(2020, 2, 28), D(2020, 2, 28)),
        (D(2020, 2, 29), D(2020, 2, 29)),
    ]
    assert years(1).starting_on(D(2020, 1, 1)) == [(D(2020, 1, 1), D(2020, 12, 31))]
    assert months(0).starting_on("2020-01-01") == []


def test_month_intervals_are_contiguous_and_cover_the_span() -> None:
    intervals = months(12).starting_on("2021-01-01")
    assert intervals[0] == (D(2021, 1, 1), D(2021, 1, 31))
    assert intervals[1] == (D(2021, 2, 1), D(2021, 2, 28))
    assert intervals[-1] == (D(2021, 12, 1), D(2021, 12, 31))
    for (_, end), (start, _) in itertools.pairwise(intervals):
        assert start == end + datetime.timedelta(days=1)


def test_a_bad_interval_anchor_is_refused() -> None:
    with pytest.raises(ValueError, match="YYYY-MM-DD"):
        weeks(1).starting_on("01/01/2000")


def test_durations_add_and_compare_by_unit() -> None:
    assert years(1) + years(2) == years(3)
    assert weeks(5) - weeks(2) == weeks(3)
    assert -months(2) == months(-2)
    assert (days(1) == weeks(1)) is False
    assert (days(7) == weeks(1)) is False  # different units, even when the same length
    assert days(1) != days(2)
    assert len({days(1), days(1), weeks(1)}) == 2


def test_constant_date_plus_months_is_a_date_under_the_round_up_rule() -> None:
    """31 Jan 2020 + 1 month: 31 Feb does not exist, so it rolls to 1 March (ehrQL's rule).

    ehrQL rolls a missing day forward to the first of the next month; it does not carry the
    surplus days (which would give 2 March).
    """
    result = D(2020, 1, 31) + months(1)
    assert type(result) is datetime.date
    assert result == D(2020, 3, 1)
    assert months(1) + D(2020, 1, 31) == D(2020, 3, 1)
    assert "2020-01-31" + months(1) == D(2020, 3, 1)
    assert D(2020, 8, 31) + months(1) == D(2020, 10, 1)
    assert D(2020, 2, 29) + years(1) == D(2021, 3, 1)
    assert D(2020, 2, 29) + years(4) == D(2024, 2, 29)
    assert D(2020, 3, 31) - months(1) == D(2020, 3, 1)
    assert D(2020, 3, 1) - days(1) == D(2020, 2, 29)
    assert D(2020, 1, 1) + weeks(2) == D(2020, 1, 15)


def test_date_minus_date_reads_in_any_unit() -> None:
    difference = p.d1 - "2020-01-01"
    assert difference.days._type is int
    assert difference.years._node.op is qm.Op.DATE_DIFF_YEARS
    assert ("2020-01-01" - p.d1).months._node.op is qm.Op.DATE_DIFF_MONTHS


# --------------------------------------------------------------------------------------------
# Datasets


def test_add_column_is_the_same_as_setting_an_attribute() -> None:
    dataset = create_dataset()
    dataset.define_population(e.exists_for_patient())
    for index in range(3):
        dataset.add_column(f"v{index}", p.i1 + index)
    dataset.age = p.i2
    compiled = compile_dataset(dataset)
    assert [name for name, _ in compiled.variables] == ["v0", "v1", "v2", "age"]
    assert compiled.variables[1][1] == (p.i1 + 1)._node
    assert dataset.age._node == p.i2._node  # variables read back as series
    assert compiled.population == e.exists_for_patient()._node


def test_configure_dummy_data_is_recorded() -> None:
    dataset = create_dataset()
    dataset.configure_dummy_data(
        population_size=250, legacy=True, timeout=5, additional_population_constraint=p.b1
    )
    config = dummy_data_config(dataset)
    assert config["population_size"] == 250
    assert config["legacy"] is True
    assert config["timeout"] == 5
    assert config["additional_population_constraint"]["format"] == "fedsafe-query-model"


def test_dummy_data_defaults() -> None:
    config = dummy_data_config(create_dataset())
    assert config["population_size"] == 10
    assert config["additional_population_constraint"] is None


def test_compile_dataset_with_no_population_is_a_definition_error() -> None:
    dataset = create_dataset()
    dataset.age = p.i1
    with pytest.raises(DefinitionError, match="No population"):
        compile_dataset(dataset)


def test_a_refused_variable_leaves_the_dataset_unchanged() -> None:
    dataset = create_dataset()
    with pytest.raises(TypeError):
        dataset.x = e.i1
    dataset.x = p.i1  # the name is still free
    dataset.define_population(p.exists_for_patient())
    assert [name for name, _ in compile_dataset(dataset).variables] == ["x"]


def test_create_dataset_gives_a_fresh_dataset_each_time() -> None:
    first, second = create_dataset(), create_dataset()
    first.x = p.i1
    assert isinstance(second, Dataset)
    with pytest.raises(AttributeError):
        second.x  # noqa: B018


# --------------------------------------------------------------------------------------------
# Parameters


def test_parameters_are_converted_to_the_type_asked_for() -> None:
    with bound_parameters({"n": "3", "f": "2.5", "b": "yes", "d": "2020-01-31", "s": "x"}):
        assert get_parameter("n", type=int) == 3
        assert get_parameter("f", type=float) == 2.5
        assert get_parameter("b", type=bool) is True
        assert get_parameter("d", type=datetime.date) == D(2020, 1, 31)
        assert get_parameter("s") == "x"
        assert get_parameter("missing", default=7) == 7


def test_parameters_are_unbound_after_the_block() -> None:
    with bound_parameters({"n": "3"}):
        assert get_parameter("n") == "3"
    with pytest.raises(ValueError, match="--param n=VALUE"):
        get_parameter("n")


def test_compact_date_strings_are_refused() -> None:
    """Python 3.11 reads "20200101" as a date; ehrQL accepts only YYYY-MM-DD, and so do we."""
    with pytest.raises(ValueError, match="YYYY-MM-DD"):
        e.d1 > "20200101"  # noqa: B015
