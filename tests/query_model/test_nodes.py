"""Validation of query-model nodes, as a table of cases; types, domains and tree walking."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import pytest

from fedsafe.codes import ICD10Code, SNOMEDCTCode
from fedsafe.language import EventFrame, Series, case, days, table, when
from fedsafe.query_model import nodes as qm
from fedsafe.query_model.population import check_population, value_for_patient_without_data
from fedsafe.query_model.schema import Column, TableSchema
from spec.tables import e, p

E: qm.SelectTable = e._node
P: qm.SelectPatientTable = p._node


@table
class other(EventFrame):
    i1 = Series(int)
    b1 = Series(bool)
    d1 = Series(datetime.date)


O: qm.SelectTable = other._node  # noqa: E741 - one letter, like E and P


def pc(name: str) -> qm.SelectColumn:
    """A column of the patient table p."""
    return qm.SelectColumn(P, name)


def ec(name: str) -> qm.SelectColumn:
    """A column of the many-rows table e."""
    return qm.SelectColumn(E, name)


def fn(op: qm.Op, *args: Any) -> qm.Function:
    return qm.Function(op, tuple(args))


def exists(frame: qm.Frame) -> qm.Aggregate:
    return qm.Aggregate(qm.AggOp.EXISTS, frame)


def dataset(population: qm.Series, *variables: tuple[str, qm.Series]) -> qm.Dataset:
    return qm.Dataset(population, tuple(variables))


POPULATION = exists(P)
TWO_COLUMNS = TableSchema((Column("n", int), Column("d", datetime.date)))
SNOMED = SNOMEDCTCode("22298006")

# (id, construction, exception class, fragments of the message)
INVALID: list[tuple[str, Callable[[], Any], type[Exception], tuple[str, ...]]] = [
    # Type rules of functions
    (
        "compare date with int",
        lambda: fn(qm.Op.LT, pc("d1"), pc("i1")),
        qm.QueryTypeError,
        ("Cannot compare a date and an integer", "same type"),
    ),
    (
        "equality of date and int",
        lambda: fn(qm.Op.EQ, pc("d1"), qm.Value(3)),
        qm.QueryTypeError,
        ("Cannot compare a date and an integer",),
    ),
    (
        "add string to int",
        lambda: fn(qm.Op.ADD, pc("i1"), qm.Value("1")),
        qm.QueryTypeError,
        ("arithmetic", "integer", "string"),
    ),
    (
        "add strings",
        lambda: fn(qm.Op.ADD, pc("s1"), pc("s2")),
        qm.QueryTypeError,
        ("Cannot do arithmetic with string values",),
    ),
    (
        "add int and float",
        lambda: fn(qm.Op.ADD, pc("i1"), pc("f1")),
        qm.QueryTypeError,
        ("integer", "float", "same type"),
    ),
    (
        "and on ints",
        lambda: fn(qm.Op.AND, pc("i1"), pc("i2")),
        qm.QueryTypeError,
        ("&, | and ~ need boolean series", "integer"),
    ),
    (
        "not on a date",
        lambda: fn(qm.Op.NOT, pc("d1")),
        qm.QueryTypeError,
        ("boolean", "date"),
    ),
    (
        "order codes",
        lambda: fn(qm.Op.LT, pc("c1"), qm.Value(SNOMED)),
        qm.QueryTypeError,
        ("no order",),
    ),
    (
        "compare codes of two systems",
        lambda: fn(qm.Op.EQ, pc("c1"), qm.Value(ICD10Code("E119"))),
        qm.QueryTypeError,
        ("SNOMEDCTCode code", "ICD10Code code"),
    ),
    (
        "is_in with values of another type",
        lambda: fn(qm.Op.IN, pc("i1"), qm.ValueSet(("a",), str)),
        qm.QueryTypeError,
        ("integer", "strings"),
    ),
    (
        "is_in without a value set",
        lambda: fn(qm.Op.IN, pc("i1"), pc("i2")),
        qm.QueryTypeError,
        ("collection of values",),
    ),
    (
        "contains on ints",
        lambda: fn(qm.Op.STR_CONTAINS, pc("i1"), pc("i2")),
        qm.QueryTypeError,
        ("contains() needs a string",),
    ),
    (
        "year of an int",
        lambda: fn(qm.Op.YEAR, pc("i1")),
        qm.QueryTypeError,
        ("year needs a date", "integer"),
    ),
    (
        "add a float number of days",
        lambda: fn(qm.Op.DATE_ADD_DAYS, pc("d1"), pc("f1")),
        qm.QueryTypeError,
        ("whole number of days", "float"),
    ),
    (
        "date difference with an int",
        lambda: fn(qm.Op.DATE_DIFF_DAYS, pc("d1"), pc("i1")),
        qm.QueryTypeError,
        ("Cannot subtract an integer from a date",),
    ),
    (
        "negate a string",
        lambda: fn(qm.Op.NEG, pc("s1")),
        qm.QueryTypeError,
        ("Cannot negate a string",),
    ),
    (
        "absolute value of a date",
        lambda: fn(qm.Op.ABS, pc("d1")),
        qm.QueryTypeError,
        ("date",),
    ),
    (
        "power of strings",
        lambda: fn(qm.Op.POW, pc("s1"), pc("s2")),
        qm.QueryTypeError,
        ("power", "string"),
    ),
    (
        "cast a date to int",
        lambda: fn(qm.Op.CAST_TO_INT, pc("d1")),
        qm.QueryTypeError,
        ("Cannot convert a date to a number",),
    ),
    (
        "maximum_of codes",
        lambda: fn(qm.Op.MAXIMUM_OF, pc("c1"), pc("c1")),
        qm.QueryTypeError,
        ("no order",),
    ),
    (
        "maximum_of one value",
        lambda: fn(qm.Op.MAXIMUM_OF, pc("i1")),
        qm.QueryTypeError,
        ("at least two",),
    ),
    (
        "wrong number of arguments",
        lambda: fn(qm.Op.ADD, pc("i1")),
        qm.QueryTypeError,
        ("add takes 2 argument",),
    ),
    (
        "an argument that is not a series",
        lambda: fn(qm.Op.ADD, pc("i1"), 1),
        qm.QueryTypeError,
        ("must be a series", "int"),
    ),
    (
        "an operation that is not an Op",
        lambda: qm.Function("add", (pc("i1"), pc("i2"))),
        qm.QueryTypeError,
        ("unknown operation",),
    ),
    # Domains
    (
        "combine two many-rows tables",
        lambda: fn(qm.Op.ADD, ec("i1"), qm.SelectColumn(O, "i1")),
        qm.DomainError,
        ("different tables (e and other)", "exists_for_patient"),
    ),
    (
        "compare rows of two many-rows tables through filters",
        lambda: fn(
            qm.Op.LT,
            qm.SelectColumn(qm.Filter(E, ec("b1")), "d1"),
            qm.SelectColumn(qm.Filter(O, qm.SelectColumn(O, "b1")), "d1"),
        ),
        qm.DomainError,
        ("different tables",),
    ),
    (
        "filter by another table's rows",
        lambda: qm.Filter(E, qm.SelectColumn(O, "b1")),
        qm.DomainError,
        ("filter e", "different tables"),
    ),
    (
        "sort by another table's rows",
        lambda: qm.Sort(E, qm.SelectColumn(O, "i1")),
        qm.DomainError,
        ("sort e", "different tables"),
    ),
    (
        "case mixing two many-rows tables",
        lambda: qm.Case(((ec("b1"), qm.SelectColumn(O, "i1")),)),
        qm.DomainError,
        ("case()", "different tables"),
    ),
    # Frames
    (
        "filter with a non-bool condition",
        lambda: qm.Filter(E, ec("i1")),
        qm.QueryTypeError,
        ("must be a boolean series", "integer"),
    ),
    (
        "filter a patient table",
        lambda: qm.Filter(P, pc("b1")),
        qm.QueryTypeError,
        ("many rows per patient",),
    ),
    (
        "filter by a frame",
        lambda: qm.Filter(E, E),
        qm.QueryTypeError,
        ("must be a series", "SelectTable"),
    ),
    (
        "pick without a sort",
        lambda: qm.PickOneRowPerPatient(E, qm.Position.FIRST),
        qm.QueryTypeError,
        ("need a sorted frame", ".sort_by(...)"),
    ),
    (
        "pick from a filtered but unsorted frame",
        lambda: qm.PickOneRowPerPatient(qm.Filter(E, ec("b1")), qm.Position.LAST),
        qm.QueryTypeError,
        ("sort_by",),
    ),
    (
        "pick with a bad position",
        lambda: qm.PickOneRowPerPatient(qm.Sort(E, ec("i1")), "first"),
        qm.QueryTypeError,
        ("Position.FIRST",),
    ),
    # Aggregates
    (
        "sum of strings",
        lambda: qm.Aggregate(qm.AggOp.SUM, ec("s1")),
        qm.QueryTypeError,
        ("Cannot sum string values",),
    ),
    (
        "mean of dates",
        lambda: qm.Aggregate(qm.AggOp.MEAN, ec("d1")),
        qm.QueryTypeError,
        ("Cannot mean date values",),
    ),
    (
        "minimum of codes",
        lambda: qm.Aggregate(qm.AggOp.MIN, ec("c1")),
        qm.QueryTypeError,
        ("SNOMEDCTCode code values have no minimum or maximum",),
    ),
    (
        "aggregate a patient-level series",
        lambda: qm.Aggregate(qm.AggOp.SUM, pc("i1")),
        qm.DomainError,
        ("already has one value per patient",),
    ),
    (
        "exists of a series",
        lambda: qm.Aggregate(qm.AggOp.EXISTS, ec("b1")),
        qm.QueryTypeError,
        ("applies to a frame",),
    ),
    (
        "count of a patient frame",
        lambda: qm.Aggregate(qm.AggOp.COUNT, P),
        qm.QueryTypeError,
        ("frame with many rows",),
    ),
    (
        "an aggregation that is not an AggOp",
        lambda: qm.Aggregate("sum", ec("i1")),
        qm.QueryTypeError,
        ("unknown aggregation",),
    ),
    # Case
    (
        "case with mixed value types",
        lambda: qm.Case(((pc("b1"), qm.Value(1)), (pc("b2"), qm.Value("a")))),
        qm.QueryTypeError,
        ("must be one type", "integer", "string"),
    ),
    (
        "case whose default has another type",
        lambda: qm.Case(((pc("b1"), qm.Value(1)),), qm.Value(1.5)),
        qm.QueryTypeError,
        ("must be one type", "float", "integer"),
    ),
    (
        "case with no value that is not None",
        lambda: qm.Case(((pc("b1"), None), (pc("b2"), None))),
        qm.QueryTypeError,
        ("at least one value that is not None",),
    ),
    (
        "case with no branches",
        lambda: qm.Case(()),
        qm.QueryTypeError,
        ("at least one when(...).then(...)",),
    ),
    (
        "case with a non-bool condition",
        lambda: qm.Case(((pc("i1"), qm.Value(1)),)),
        qm.QueryTypeError,
        ("when() condition must be boolean", "integer"),
    ),
    # Dataset
    (
        "dataset with an event-level variable",
        lambda: dataset(POPULATION, ("v", ec("i1"))),
        qm.DomainError,
        ("Variable 'v' has many values per patient", "rows of e"),
    ),
    (
        "population not bool",
        lambda: dataset(pc("i1")),
        qm.QueryTypeError,
        ("population must be a boolean series",),
    ),
    (
        "event-level population",
        lambda: dataset(ec("b1")),
        qm.QueryTypeError,
        ("one value per patient",),
    ),
    (
        "population that is a frame",
        lambda: dataset(P),
        qm.QueryTypeError,
        ("the population must be a series",),
    ),
    (
        "variable that is a frame",
        lambda: dataset(POPULATION, ("v", P)),
        qm.QueryTypeError,
        ("variable 'v' must be a series",),
    ),
    (
        "variable name starting with a digit",
        lambda: dataset(POPULATION, ("1st", pc("i1"))),
        qm.QueryModelError,
        ("'1st' is not valid", "letters, digits and underscores"),
    ),
    (
        "variable name with a hyphen",
        lambda: dataset(POPULATION, ("a-b", pc("i1"))),
        qm.QueryModelError,
        ("'a-b' is not valid",),
    ),
    (
        "variable name starting with an underscore",
        lambda: dataset(POPULATION, ("_x", pc("i1"))),
        qm.QueryModelError,
        ("'_x' is not valid", "starting with a letter"),
    ),
    (
        "empty variable name",
        lambda: dataset(POPULATION, ("", pc("i1"))),
        qm.QueryModelError,
        ("'' is not valid",),
    ),
    (
        "variable name that is not a string",
        lambda: dataset(POPULATION, (3, pc("i1"))),
        qm.QueryModelError,
        ("3 is not valid",),
    ),
    (
        "reserved variable name patient_id",
        lambda: dataset(POPULATION, ("patient_id", pc("i1"))),
        qm.QueryModelError,
        ("'patient_id' is a reserved name",),
    ),
    (
        "reserved variable name population",
        lambda: dataset(POPULATION, ("population", pc("b1"))),
        qm.QueryModelError,
        ("'population' is a reserved name",),
    ),
    (
        "duplicate variable name",
        lambda: dataset(POPULATION, ("v", pc("i1")), ("v", pc("i2"))),
        qm.QueryModelError,
        ("'v' is defined twice",),
    ),
    (
        "variable name too long",
        lambda: dataset(POPULATION, ("v" * 64, pc("i1"))),
        qm.QueryModelError,
        ("too long", "63"),
    ),
    # Constants
    (
        "Value(None)",
        lambda: qm.Value(None),
        qm.QueryTypeError,
        ("cannot be None",),
    ),
    (
        "Value(nan)",
        lambda: qm.Value(float("nan")),
        qm.QueryTypeError,
        ("nan", "finite"),
    ),
    (
        "Value(inf)",
        lambda: qm.Value(float("-inf")),
        qm.QueryTypeError,
        ("-inf", "finite"),
    ),
    (
        "Value(2**70)",
        lambda: qm.Value(2**70),
        qm.QueryTypeError,
        ("too large", "64 bits"),
    ),
    (
        "Value(2**63)",
        lambda: qm.Value(2**63),
        qm.QueryTypeError,
        ("too large",),
    ),
    (
        "Value(-2**63 - 1)",
        lambda: qm.Value(-(2**63) - 1),
        qm.QueryTypeError,
        ("too large",),
    ),
    (
        "Value(datetime)",
        lambda: qm.Value(datetime.datetime(2020, 1, 1, 12)),
        qm.QueryTypeError,
        ("use a date",),
    ),
    (
        "Value(list)",
        lambda: qm.Value([1]),
        qm.QueryTypeError,
        ("not a value fedsafe can use",),
    ),
    (
        "ValueSet with mixed types",
        lambda: qm.ValueSet((1, "a"), int),
        qm.QueryTypeError,
        ("'a' is a string", "integers"),
    ),
    (
        "ValueSet of bools said to be ints",
        lambda: qm.ValueSet((True, 1), int),
        qm.QueryTypeError,
        ("True is a boolean",),
    ),
    (
        "ValueSet with None",
        lambda: qm.ValueSet((1, None), int),
        qm.QueryTypeError,
        ("cannot contain None",),
    ),
    (
        "ValueSet with codes of two systems",
        lambda: qm.ValueSet((SNOMED, ICD10Code("E119")), SNOMEDCTCode),
        qm.QueryTypeError,
        ("ICD10Code code",),
    ),
    (
        "ValueSet of a type that is not a value type",
        lambda: qm.ValueSet((), list),
        qm.QueryTypeError,
        ("not a value type",),
    ),
    # Inline tables and episodes
    (
        "inline row of the wrong width",
        lambda: qm.InlinePatientTable(((1, 2),), TWO_COLUMNS),
        qm.QueryModelError,
        ("must have 3 values", "patient_id then n, d"),
    ),
    (
        "inline patient twice",
        lambda: qm.InlinePatientTable(((1, 2, None), (1, 3, None)), TWO_COLUMNS),
        qm.QueryModelError,
        ("patient 1 appears twice",),
    ),
    (
        "inline value of the wrong type",
        lambda: qm.InlinePatientTable(((1, "2", None),), TWO_COLUMNS),
        qm.QueryTypeError,
        ("column n", "'2' is not an integer"),
    ),
    (
        "inline bool where an int belongs",
        lambda: qm.InlinePatientTable(((1, True, None),), TWO_COLUMNS),
        qm.QueryTypeError,
        ("True is not an integer",),
    ),
    (
        "inline patient_id that is not an int",
        lambda: qm.InlinePatientTable((("1", 2, None),), TWO_COLUMNS),
        qm.QueryTypeError,
        ("patient_id must be an integer",),
    ),
    (
        "episodes of ints",
        lambda: qm.CountEpisodes(ec("i1"), 3),
        qm.QueryTypeError,
        ("date series with many rows",),
    ),
    (
        "episodes of patient-level dates",
        lambda: qm.CountEpisodes(pc("d1"), 3),
        qm.QueryTypeError,
        ("date series with many rows",),
    ),
    (
        "episodes with a negative gap",
        lambda: qm.CountEpisodes(ec("d1"), -1),
        qm.QueryTypeError,
        ("non-negative number of days",),
    ),
    (
        "episodes with a fractional gap",
        lambda: qm.CountEpisodes(ec("d1"), 1.5),
        qm.QueryTypeError,
        ("whole",),
    ),
    (
        "table with a name that is not an identifier",
        lambda: qm.SelectTable("my table", E.schema),
        qm.QueryModelError,
        ("must be an identifier",),
    ),
    (
        "table whose schema is not a schema",
        lambda: qm.SelectPatientTable("t", (Column("x", int),)),
        qm.QueryTypeError,
        ("needs a TableSchema",),
    ),
    (
        "table with a column type that is not a value type",
        lambda: qm.SelectTable("t", TableSchema((Column("x", list),))),
        qm.QueryTypeError,
        ("no valid type",),
    ),
    # Columns and tables
    (
        "unknown column",
        lambda: qm.SelectColumn(E, "nope"),
        qm.QueryModelError,
        ("Table 'e' has no column 'nope'", "i1, i2, f1, f2, b1, b2, s1, s2, d1, d2, c1"),
    ),
    (
        "unknown column of a picked row",
        lambda: qm.SelectColumn(
            qm.PickOneRowPerPatient(qm.Sort(E, ec("i1")), qm.Position.FIRST), "x"
        ),
        qm.QueryModelError,
        ("Table 'e' has no column 'x'",),
    ),
    (
        "select a column from a series",
        lambda: qm.SelectColumn(pc("i1"), "i1"),
        qm.QueryTypeError,
        ("only be selected from a frame",),
    ),
    (
        "two tables of one name with different columns",
        lambda: qm.tables_used(
            fn(
                qm.Op.AND,
                exists(P),
                exists(qm.SelectPatientTable("p", TableSchema((Column("x", int),)))),
            )
        ),
        qm.QueryModelError,
        ("table 'p' is declared twice",),
    ),
]


@pytest.mark.parametrize(
    ("build", "error", "fragments"),
    [pytest.param(build, error, fragments, id=name) for name, build, error, fragments in INVALID],
)
def test_invalid_construction_is_refused(
    build: Callable[[], Any], error: type[Exception], fragments: tuple[str, ...]
) -> None:
    with pytest.raises(error) as caught:
        build()
    assert type(caught.value) is error, f"{type(caught.value).__name__}: {caught.value}"
    message = str(caught.value)
    for fragment in fragments:
        assert fragment in message, message


def test_error_classes_are_what_callers_catch() -> None:
    assert issubclass(qm.QueryTypeError, TypeError)
    assert issubclass(qm.QueryTypeError, qm.QueryModelError)
    assert issubclass(qm.DomainError, qm.QueryModelError)
    assert issubclass(qm.QueryModelError, ValueError)


# --------------------------------------------------------------------------------------------
# Valid constructions the rules must not refuse


def test_sorting_by_a_patient_level_series_is_allowed() -> None:
    """A constant or patient-level sort key orders nothing but is not an error (ehrQL too)."""
    frame = qm.Sort(qm.Sort(E, ec("d1")), pc("i1"))
    assert qm.frame_sorts(frame) == (pc("i1"), ec("d1"))
    picked = qm.PickOneRowPerPatient(frame, qm.Position.FIRST)
    assert qm.SelectColumn(picked, "i1").domain == qm.PATIENT


def test_series_from_differently_filtered_frames_of_one_table_combine() -> None:
    left = qm.SelectColumn(qm.Filter(E, ec("b1")), "i1")
    right = qm.SelectColumn(qm.Sort(qm.Filter(E, ec("b2")), ec("d1")), "i2")
    combined = fn(qm.Op.ADD, left, right)
    assert combined.domain == qm.Domain(E)


def test_case_may_leave_some_values_null() -> None:
    node = qm.Case(((pc("b1"), None), (pc("b2"), qm.Value(1))))
    assert node.type is int


def test_value_true_and_value_one_are_different_nodes() -> None:
    assert qm.Value(True) != qm.Value(1)
    assert qm.Value(1) != qm.Value(1.0)
    assert qm.Value(1) == qm.Value(1)
    assert len({qm.Value(True), qm.Value(1), qm.Value(1.0)}) == 3


def test_value_set_is_sorted_and_deduplicated() -> None:
    values = qm.ValueSet((3, 1, 2, 3), int)
    assert values.values == (1, 2, 3)
    assert values == qm.ValueSet((1, 2, 3), int)
    assert hash(values) == hash(qm.ValueSet((2, 3, 1), int))
    assert qm.ValueSet((), int) != qm.ValueSet((), str)


def test_limits_of_integer_constants_are_allowed() -> None:
    assert qm.Value(2**63 - 1).type is int
    assert qm.Value(-(2**63)).type is int


@pytest.mark.parametrize("name", ["a", "age", "Age_2", "x" * 63, "variable_1"])
def test_good_variable_names(name: str) -> None:
    assert dataset(POPULATION, (name, pc("i1"))).variables[0][0] == name


# --------------------------------------------------------------------------------------------
# Types and domains

PICKED = qm.PickOneRowPerPatient(qm.Sort(E, ec("d1")), qm.Position.LAST)
FILTERED = qm.Filter(E, fn(qm.Op.GT, ec("i1"), pc("i1")))

TYPED: list[tuple[str, qm.Series, type, qm.SelectTable | None]] = [
    ("patient column", pc("d1"), datetime.date, None),
    ("event column", ec("c1"), SNOMEDCTCode, E),
    ("filtered event column", qm.SelectColumn(FILTERED, "s1"), str, E),
    ("picked column", qm.SelectColumn(PICKED, "f1"), float, None),
    ("int constant", qm.Value(1), int, None),
    ("bool constant", qm.Value(False), bool, None),
    ("date constant", qm.Value(datetime.date(2020, 1, 1)), datetime.date, None),
    ("code constant", qm.Value(SNOMED), SNOMEDCTCode, None),
    ("patient + event", fn(qm.Op.ADD, pc("i1"), ec("i2")), int, E),
    ("event + constant", fn(qm.Op.ADD, ec("f1"), qm.Value(1.0)), float, E),
    ("truediv of ints", fn(qm.Op.TRUEDIV, pc("i1"), pc("i2")), float, None),
    ("floordiv of floats", fn(qm.Op.FLOORDIV, pc("f1"), pc("f2")), int, None),
    ("power of ints", fn(qm.Op.POW, pc("i1"), pc("i2")), float, None),
    ("absolute of an int", fn(qm.Op.ABS, ec("i1")), int, E),
    ("comparison", fn(qm.Op.LT, ec("d1"), pc("d1")), bool, E),
    ("is_in", fn(qm.Op.IN, ec("c1"), qm.ValueSet((SNOMED,), SNOMEDCTCode)), bool, E),
    ("is_null of a code", fn(qm.Op.IS_NULL, pc("c1")), bool, None),
    ("coalesce of codes", fn(qm.Op.COALESCE, ec("c1"), qm.Value(SNOMED)), SNOMEDCTCode, E),
    ("cast bool to int", fn(qm.Op.CAST_TO_INT, pc("b1")), int, None),
    ("cast int to float", fn(qm.Op.CAST_TO_FLOAT, ec("i1")), float, E),
    ("year", fn(qm.Op.YEAR, ec("d1")), int, E),
    ("first of month", fn(qm.Op.TO_FIRST_OF_MONTH, pc("d1")), datetime.date, None),
    ("add months", fn(qm.Op.DATE_ADD_MONTHS, pc("d1"), ec("i1")), datetime.date, E),
    ("difference in years", fn(qm.Op.DATE_DIFF_YEARS, pc("d1"), pc("d2")), int, None),
    ("maximum_of three", fn(qm.Op.MAXIMUM_OF, pc("s1"), ec("s2"), pc("s2")), str, E),
    ("contains", fn(qm.Op.STR_CONTAINS, ec("s1"), qm.Value("x")), bool, E),
    ("case at patient level", qm.Case(((pc("b1"), pc("i1")),), qm.Value(0)), int, None),
    ("case with an event condition", qm.Case(((ec("b1"), pc("s1")),)), str, E),
    ("case with an event default", qm.Case(((pc("b1"), None),), ec("d1")), datetime.date, E),
    ("exists of events", exists(FILTERED), bool, None),
    ("exists of a patient table", exists(P), bool, None),
    ("exists of a picked row", exists(PICKED), bool, None),
    ("count", qm.Aggregate(qm.AggOp.COUNT, FILTERED), int, None),
    ("count distinct codes", qm.Aggregate(qm.AggOp.COUNT_DISTINCT, ec("c1")), int, None),
    ("min of dates", qm.Aggregate(qm.AggOp.MIN, ec("d1")), datetime.date, None),
    ("max of bools", qm.Aggregate(qm.AggOp.MAX, ec("b1")), bool, None),
    ("sum of ints", qm.Aggregate(qm.AggOp.SUM, ec("i1")), int, None),
    ("sum of floats", qm.Aggregate(qm.AggOp.SUM, ec("f1")), float, None),
    ("mean of ints", qm.Aggregate(qm.AggOp.MEAN, ec("i1")), float, None),
    (
        "inline table column",
        qm.SelectColumn(qm.InlinePatientTable(((1, 2, None),), TWO_COLUMNS), "d"),
        datetime.date,
        None,
    ),
    ("episodes", qm.CountEpisodes(qm.SelectColumn(FILTERED, "d1"), 7), int, None),
    (
        "aggregate of a mixed-level expression",
        qm.Aggregate(qm.AggOp.MAX, fn(qm.Op.SUB, ec("i1"), pc("i1"))),
        int,
        None,
    ),
]


@pytest.mark.parametrize(
    ("node", "type_", "root"),
    [pytest.param(node, type_, root, id=name) for name, node, type_, root in TYPED],
)
def test_type_and_domain(node: qm.Series, type_: type, root: qm.SelectTable | None) -> None:
    assert node.type is type_
    assert node.domain == qm.Domain(root)
    assert node.domain.is_patient is (root is None)


def test_domain_descriptions() -> None:
    assert qm.PATIENT.describe() == "patient level"
    assert ec("i1").domain.describe() == "rows of e"


def test_frames_know_their_root_and_schema() -> None:
    frame = qm.Sort(qm.Filter(E, ec("b1")), ec("d1"))
    assert frame.root is E
    assert frame.table_name == "e"
    assert frame.schema == E.schema
    assert PICKED.schema == E.schema


# --------------------------------------------------------------------------------------------
# Walking the tree


def test_tables_used() -> None:
    query = dataset(
        fn(qm.Op.OR, exists(P), exists(FILTERED)),
        ("a", qm.SelectColumn(PICKED, "i1")),
        ("b", pc("s1")),
    )
    assert qm.tables_used(query) == {"p": P, "e": E}
    assert qm.tables_used(pc("i1")) == {"p": P}
    assert qm.tables_used(qm.Value(1)) == {}
    assert qm.tables_used(fn(qm.Op.ADD, ec("i1"), qm.Aggregate(qm.AggOp.COUNT, O))) == {
        "e": E,
        "other": O,
    }


def test_walk_visits_each_node_once_children_first() -> None:
    shared = fn(qm.Op.ADD, pc("i1"), qm.Value(1))
    twice = fn(qm.Op.MUL, shared, shared)
    query = dataset(
        exists(FILTERED),
        ("a", twice),
        ("b", fn(qm.Op.ADD, shared, qm.Aggregate(qm.AggOp.COUNT, FILTERED))),
    )
    visited = list(qm.walk(query))
    assert len(visited) == len(set(visited))
    position = {node: i for i, node in enumerate(visited)}
    for node in visited:
        for child in node.children():
            assert position[child] < position[node], (child, node)
    assert visited[-1] == query
    assert visited.count(shared) == 1
    assert visited.count(E) == 1
    assert visited.count(P) == 1
    assert set(visited) >= {shared, twice, FILTERED, E, P, pc("i1"), qm.Value(1)}


def test_walk_of_a_deeply_shared_tree_is_linear() -> None:
    series: qm.Series = pc("i1")
    for _ in range(200):
        series = fn(qm.Op.ADD, series, series)
    assert len(list(qm.walk(series))) == 202


def test_children_reach_into_tuples_but_not_schemas() -> None:
    node = qm.Case(((pc("b1"), qm.Value(1)),), qm.Value(2))
    assert list(node.children()) == [pc("b1"), qm.Value(1), qm.Value(2)]
    assert list(E.children()) == []
    values = qm.ValueSet((1,), int)
    assert list(fn(qm.Op.IN, pc("i1"), values).children()) == [pc("i1"), values]


def test_frame_filters_are_innermost_first() -> None:
    a, b, c = ec("b1"), ec("b2"), fn(qm.Op.GT, ec("i1"), qm.Value(0))
    frame = qm.Filter(qm.Sort(qm.Filter(qm.Filter(E, a), b), ec("d1")), c)
    assert qm.frame_filters(frame) == (a, b, c)
    assert qm.frame_filters(E) == ()
    language = e.where(e.b1).where(e.b2).sort_by(e.d1).where(e.i1 > 0)
    assert qm.frame_filters(language._node) == (a, b, c)


def test_frame_sorts_put_the_last_sort_first() -> None:
    first, second = ec("d1"), ec("i1")
    frame = qm.Sort(qm.Filter(qm.Sort(E, second), ec("b1")), first)
    assert qm.frame_sorts(frame) == (first, second)
    assert qm.frame_sorts(E) == ()
    # sort_by(a, b): a is the primary key, b breaks ties.
    assert qm.frame_sorts(e.sort_by(e.d1, e.i1)._node) == (first, second)
    assert qm.frame_sorts(e.sort_by(e.i1).sort_by(e.d1)._node) == (first, second)


def test_frame_for_series_applies_the_filters_of_every_frame_read() -> None:
    left = qm.SelectColumn(qm.Filter(E, ec("b1")), "i1")
    right = qm.SelectColumn(qm.Filter(E, ec("b2")), "i2")
    frame = qm.frame_for_series(fn(qm.Op.ADD, left, right))
    assert set(qm.frame_filters(frame)) == {ec("b1"), ec("b2")}
    assert frame.root is E


def test_frame_for_series_ignores_frames_inside_patient_level_values() -> None:
    inner = qm.Aggregate(qm.AggOp.SUM, qm.SelectColumn(qm.Filter(E, ec("b1")), "i2"))
    frame = qm.frame_for_series(fn(qm.Op.ADD, ec("i1"), inner))
    assert qm.frame_filters(frame) == ()


# --------------------------------------------------------------------------------------------
# Populations that would include everyone


def assert_refused(series: Any) -> None:
    node = getattr(series, "_node", series)
    with pytest.raises(qm.QueryModelError) as caught:
        check_population(node)
    message = str(caught.value)
    assert "must not be true for patients who have no data" in message
    assert "exists_for_patient()" in message  # says what to do instead


POPULATIONS_REFUSED = {
    "not exists": lambda: ~e.exists_for_patient(),
    "is_null of a column": lambda: p.i1.is_null(),
    "count == 0": lambda: e.count_for_patient() == 0,
    "count < 1": lambda: e.count_for_patient() < 1,
    "count >= 0": lambda: e.count_for_patient() >= 0,
    "not (count > 0)": lambda: ~(e.count_for_patient() > 0),
    "exists | is_null": lambda: e.exists_for_patient() | p.d1.is_null(),
    "constant True": lambda: qm.Value(True),
    "case true without data": lambda: case(when(p.i1.is_null()).then(True), otherwise=False),
    "case defaulting to true": lambda: case(
        when(e.exists_for_patient()).then(False), otherwise=True
    ),
    "sum is null": lambda: e.i1.sum_for_patient().is_null(),
    "when_null_then(True)": lambda: p.b1.when_null_then(True),
    "count_distinct == 0": lambda: e.c1.count_distinct_for_patient() == 0,
    "no episodes": lambda: e.d1.count_episodes_for_patient(days(7)) == 0,
}

POPULATIONS_ALLOWED = {
    "exists": lambda: e.exists_for_patient(),
    "count > 0": lambda: e.count_for_patient() > 0,
    "patient table exists": lambda: p.exists_for_patient(),
    "a column is true": lambda: p.b1,
    "is_not_null of a column": lambda: p.i1.is_not_null(),
    "exists & not another": lambda: e.exists_for_patient() & ~e.where(e.b1).exists_for_patient(),
    "exists | column": lambda: e.exists_for_patient() | p.b1,
    "case true only with data": lambda: case(
        when(e.exists_for_patient()).then(True), otherwise=False
    ),
    "constant False": lambda: qm.Value(False),
    "comparison of NULLs": lambda: p.i1 > e.i1.sum_for_patient(),
    "some episodes": lambda: e.d1.count_episodes_for_patient(days(7)) > 0,
    "in an inline table": lambda: qm.Aggregate(
        qm.AggOp.EXISTS, qm.InlinePatientTable(((1, 2, None),), TWO_COLUMNS)
    ),
}


@pytest.mark.parametrize("build", POPULATIONS_REFUSED.values(), ids=POPULATIONS_REFUSED.keys())
def test_population_true_without_data_is_refused(build: Callable[[], Any]) -> None:
    assert_refused(build())


@pytest.mark.parametrize("build", POPULATIONS_ALLOWED.values(), ids=POPULATIONS_ALLOWED.keys())
def test_population_needing_data_is_allowed(build: Callable[[], Any]) -> None:
    series = build()
    node = getattr(series, "_node", series)
    check_population(node)
    assert value_for_patient_without_data(node) is not True


@pytest.mark.parametrize(
    ("series", "expected"),
    [
        (exists(E), False),
        (qm.Aggregate(qm.AggOp.COUNT, E), 0),
        (qm.Aggregate(qm.AggOp.COUNT_DISTINCT, ec("i1")), 0),
        (qm.Aggregate(qm.AggOp.MAX, ec("i1")), None),
        (pc("i1"), None),
        (qm.SelectColumn(PICKED, "b1"), None),
        (qm.Value(3), 3),
        (fn(qm.Op.ADD, qm.Aggregate(qm.AggOp.COUNT, E), qm.Value(2)), 2),
        (fn(qm.Op.IN, pc("i1"), qm.ValueSet((1,), int)), None),
        (fn(qm.Op.IN, pc("i1"), qm.ValueSet((), int)), False),
    ],
)
def test_value_for_a_patient_without_data(series: qm.Series, expected: Any) -> None:
    assert value_for_patient_without_data(series) == expected
