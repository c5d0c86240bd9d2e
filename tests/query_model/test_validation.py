"""Invalid queries cannot be built: each construction below raises with a useful message."""

import datetime

import pytest

from fedsafe.language import EventFrame, Series, table
from fedsafe.query_model import nodes as qm
from fedsafe.query_model.population import check_population
from spec.tables import e, p

E = e._node
P = p._node


@table
class other(EventFrame):
    d1 = Series(datetime.date)


O = other._node  # noqa: E741


def col(frame: qm.Frame, name: str) -> qm.SelectColumn:
    return qm.SelectColumn(frame, name)


INVALID = [
    ("date vs int", lambda: qm.Function(qm.Op.GT, (col(P, "d1"), col(P, "i1"))), "same type"),
    ("str + int", lambda: qm.Function(qm.Op.ADD, (col(P, "s1"), col(P, "i1"))), "same type"),
    ("& on ints", lambda: qm.Function(qm.Op.AND, (col(P, "i1"), col(P, "i2"))), "boolean"),
    (
        "two many-rows tables",
        lambda: qm.Function(qm.Op.LT, (col(E, "d1"), col(O, "d1"))),
        "different tables (e and other)",
    ),
    ("filter by non-bool", lambda: qm.Filter(E, col(E, "i1")), "must be a boolean"),
    (
        "filter by another table",
        lambda: qm.Filter(E, qm.Function(qm.Op.IS_NULL, (col(O, "d1"),))),
        "different tables",
    ),
    ("pick without sort", lambda: qm.PickOneRowPerPatient(E, qm.Position.FIRST), "sort_by"),
    ("sum of strings", lambda: qm.Aggregate(qm.AggOp.SUM, col(E, "s1")), "Cannot sum"),
    ("min of codes", lambda: qm.Aggregate(qm.AggOp.MIN, col(E, "c1")), "no minimum"),
    ("aggregate patient series", lambda: qm.Aggregate(qm.AggOp.MAX, col(P, "i1")), "one value"),
    (
        "case mixing types",
        lambda: qm.Case(((col(P, "b1"), qm.Value(1)), (col(P, "b2"), qm.Value("a"))), None),
        "one type",
    ),
    ("case of Nones", lambda: qm.Case(((col(P, "b1"), None),), None), "not None"),
    ("case non-bool condition", lambda: qm.Case(((col(P, "i1"), qm.Value(1)),)), "boolean"),
    (
        "event-level variable",
        lambda: qm.Dataset(qm.Aggregate(qm.AggOp.EXISTS, E), (("v", col(E, "i1")),)),
        "one value per patient",
    ),
    ("non-bool population", lambda: qm.Dataset(col(P, "i1"), ()), "boolean"),
    (
        "reserved name",
        lambda: qm.Dataset(col(P, "b1"), (("patient_id", col(P, "i1")),)),
        "reserved",
    ),
    ("invalid name", lambda: qm.Dataset(col(P, "b1"), (("2x", col(P, "i1")),)), "not valid"),
    ("long name", lambda: qm.Dataset(col(P, "b1"), (("x" * 64, col(P, "i1")),)), "too long"),
    (
        "duplicate name",
        lambda: qm.Dataset(col(P, "b1"), (("x", col(P, "i1")), ("x", col(P, "i2")))),
        "twice",
    ),
    ("Value(None)", lambda: qm.Value(None), "cannot be None"),
    ("Value(nan)", lambda: qm.Value(float("nan")), "finite"),
    ("Value(2**70)", lambda: qm.Value(2**70), "64 bits"),
    ("Value(datetime)", lambda: qm.Value(datetime.datetime(2020, 1, 1)), "not a datetime"),
    ("mixed value set", lambda: qm.ValueSet((1, "a"), int), "string"),
    ("unknown column", lambda: col(P, "nope"), "Its columns are: i1, i2"),
    (
        "is_in with wrong type",
        lambda: qm.Function(qm.Op.IN, (col(P, "i1"), qm.ValueSet(("a",), str))),
        "collection of strings",
    ),
    (
        "date plus float",
        lambda: qm.Function(qm.Op.DATE_ADD_DAYS, (col(P, "d1"), col(P, "f1"))),
        "whole number",
    ),
]


@pytest.mark.parametrize(
    ("build", "message"), [c[1:] for c in INVALID], ids=[c[0] for c in INVALID]
)
def test_invalid_construction_raises(build, message):
    with pytest.raises(qm.QueryModelError) as info:
        build()
    assert message in str(info.value)


TYPES = [
    (qm.Function(qm.Op.TRUEDIV, (col(P, "i1"), col(P, "i2"))), float, True),
    (qm.Function(qm.Op.FLOORDIV, (col(E, "f1"), col(E, "f2"))), int, False),
    (qm.Function(qm.Op.DATE_DIFF_YEARS, (col(P, "d1"), col(E, "d1"))), int, False),
    (qm.Aggregate(qm.AggOp.MEAN, col(E, "i1")), float, True),
    (qm.Aggregate(qm.AggOp.SUM, col(E, "i1")), int, True),
    (qm.Aggregate(qm.AggOp.COUNT_DISTINCT, col(E, "s1")), int, True),
    (qm.Function(qm.Op.POW, (col(P, "i1"), col(P, "i2"))), float, True),
    (qm.Function(qm.Op.IS_NULL, (col(E, "c1"),)), bool, False),
    (col(qm.PickOneRowPerPatient(qm.Sort(E, col(E, "d1")), qm.Position.LAST), "s1"), str, True),
]


@pytest.mark.parametrize(("node", "type_", "patient_level"), TYPES)
def test_types_and_domains(node, type_, patient_level):
    assert node.type is type_
    assert node.domain.is_patient is patient_level
    if not patient_level:
        assert node.domain.root == E


def test_walk_visits_each_node_once_children_first():
    shared = col(E, "i1")
    node = qm.Function(qm.Op.ADD, (shared, shared))
    order = list(qm.walk(node))
    assert order.count(shared) == 1
    assert order.index(shared) < order.index(node)
    assert order[-1] == node


def test_filters_innermost_first_sorts_primary_first():
    a, b = qm.Value(True), qm.Function(qm.Op.IS_NULL, (col(E, "i1"),))
    frame = qm.Sort(qm.Sort(qm.Filter(qm.Filter(E, a), b), col(E, "i2")), col(E, "d1"))
    assert qm.frame_filters(frame) == (a, b)
    assert qm.frame_sorts(frame) == (col(E, "d1"), col(E, "i2"))


def test_tables_used():
    node = qm.Function(qm.Op.AND, (qm.Aggregate(qm.AggOp.EXISTS, E), col(P, "b1")))
    assert set(qm.tables_used(node)) == {"e", "p"}


POPULATIONS = [
    ("not exists", qm.Function(qm.Op.NOT, (qm.Aggregate(qm.AggOp.EXISTS, E),)), False),
    ("exists", qm.Aggregate(qm.AggOp.EXISTS, E), True),
    ("is null", qm.Function(qm.Op.IS_NULL, (col(P, "i1"),)), False),
    (
        "count == 0",
        qm.Function(qm.Op.EQ, (qm.Aggregate(qm.AggOp.COUNT, E), qm.Value(0))),
        False,
    ),
    (
        "count > 0",
        qm.Function(qm.Op.GT, (qm.Aggregate(qm.AggOp.COUNT, E), qm.Value(0))),
        True,
    ),
    (
        "case true without data",
        qm.Case(((col(P, "b1"), qm.Value(False)),), qm.Value(True)),
        False,
    ),
    ("p value", col(P, "b1"), True),
]


@pytest.mark.parametrize(
    ("population", "allowed"), [c[1:] for c in POPULATIONS], ids=[c[0] for c in POPULATIONS]
)
def test_population_must_not_include_patients_without_data(population, allowed):
    if allowed:
        check_population(population)
    else:
        with pytest.raises(qm.QueryModelError, match="patients who have no data"):
            check_population(population)
