"""Query models to JSON and back, property-tested; and the engine against the reference semantics.

The strategies here build random *valid* query models by directing the tree by type and level:
``series(t, level, depth)`` only ever combines children whose types and domains the node accepts,
so every drawn tree is constructible, and depth bounds its size.

The second half is a differential test: random small data for ``p`` and ``e``, random
patient-level series, each patient's value worked out in plain Python from
``fedsafe.query_model.semantics``, and the same dataset run on an in-memory DuckDB.
"""

from __future__ import annotations

import datetime
import json
import math
import time
from collections.abc import Callable
from typing import Any

import ibis
import pytest
from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st

from fedsafe.codes import CODE_TYPES, SNOMEDCTCode, verhoeff_check_digit
from fedsafe.engines.execute import run_dataset
from fedsafe.query_model import nodes as qm
from fedsafe.query_model import semantics
from fedsafe.query_model.schema import Column, Constraint, TableSchema
from fedsafe.query_model.serialize import (
    FORMAT_VERSION,
    NODE_TYPES,
    SerializationError,
    dumps,
    from_jsonable,
    loads,
    to_jsonable,
)
from spec.runner import arrow_table
from spec.tables import e, p

# Hypothesis warns when it describes the (deeply nested, deferred) tree strategies.
pytestmark = pytest.mark.filterwarnings("ignore:Generating overly large repr")

E: qm.SelectTable = e._node
P: qm.SelectPatientTable = p._node

TYPES: tuple[type, ...] = (bool, int, float, str, datetime.date, SNOMEDCTCode)
COMPARABLE = (bool, int, float, str, datetime.date)
COLUMNS: dict[type, list[str]] = {
    t: [c.name for c in E.schema.columns if c.type is t] for t in TYPES
}

PATIENT = "patient"  # one value per patient
EVENT = "event"  # a value per row of e (any frame of it)
ROOT = "root"  # (differential test only) a value per row of e, read from e itself

# Deterministic and leaves no example database behind in the working tree.
FAST = settings(
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)

# --------------------------------------------------------------------------------------------
# Which operations produce which type, and from which argument types


def _function_specs() -> dict[type, list[tuple[qm.Op, tuple[type, ...]]]]:
    """For each result type, every (op, argument types) that produces it (IN is separate)."""
    specs: dict[type, list[tuple[qm.Op, tuple[type, ...]]]] = {t: [] for t in TYPES}
    for a in TYPES:
        specs[bool] += [(qm.Op.EQ, (a, a)), (qm.Op.NE, (a, a)), (qm.Op.IS_NULL, (a,))]
    for a in COMPARABLE:
        specs[bool] += [(op, (a, a)) for op in (qm.Op.LT, qm.Op.LE, qm.Op.GT, qm.Op.GE)]
    specs[bool] += [
        (qm.Op.AND, (bool, bool)),
        (qm.Op.OR, (bool, bool)),
        (qm.Op.NOT, (bool,)),
        (qm.Op.STR_CONTAINS, (str, str)),
    ]
    for t in (int, float):
        specs[t] += [(op, (t, t)) for op in (qm.Op.ADD, qm.Op.SUB, qm.Op.MUL)]
        specs[t] += [(qm.Op.NEG, (t,)), (qm.Op.ABS, (t,))]
        specs[float] += [(qm.Op.TRUEDIV, (t, t)), (qm.Op.POW, (t, t))]
        specs[int] += [(qm.Op.FLOORDIV, (t, t))]
    for t in (int, float, bool):
        specs[int] += [(qm.Op.CAST_TO_INT, (t,))]
        specs[float] += [(qm.Op.CAST_TO_FLOAT, (t,))]
    date = datetime.date
    specs[int] += [(op, (date,)) for op in (qm.Op.YEAR, qm.Op.MONTH, qm.Op.DAY)]
    specs[int] += [
        (op, (date, date))
        for op in (qm.Op.DATE_DIFF_DAYS, qm.Op.DATE_DIFF_MONTHS, qm.Op.DATE_DIFF_YEARS)
    ]
    specs[date] += [(qm.Op.TO_FIRST_OF_MONTH, (date,)), (qm.Op.TO_FIRST_OF_YEAR, (date,))]
    specs[date] += [
        (op, (date, int))
        for op in (qm.Op.DATE_ADD_DAYS, qm.Op.DATE_ADD_MONTHS, qm.Op.DATE_ADD_YEARS)
    ]
    for t in TYPES:
        specs[t] += [(qm.Op.COALESCE, (t, t))]
    for t in COMPARABLE:
        for op in (qm.Op.MAXIMUM_OF, qm.Op.MINIMUM_OF):
            specs[t] += [(op, (t, t)), (op, (t, t, t))]
    return specs


FUNCTION_SPECS = _function_specs()

# For each result type, the aggregations producing it: (op, source kind, source type).
AGGREGATE_SPECS: dict[type, list[tuple[qm.AggOp, type | None]]] = {
    bool: [(qm.AggOp.EXISTS, None), (qm.AggOp.MIN, bool), (qm.AggOp.MAX, bool)],
    int: [(qm.AggOp.COUNT, None)]
    + [(qm.AggOp.COUNT_DISTINCT, t) for t in TYPES]
    + [(qm.AggOp.SUM, int), (qm.AggOp.MIN, int), (qm.AggOp.MAX, int)],
    float: [
        (qm.AggOp.SUM, float),
        (qm.AggOp.MIN, float),
        (qm.AggOp.MAX, float),
        (qm.AggOp.MEAN, int),
        (qm.AggOp.MEAN, float),
    ],
    str: [(qm.AggOp.MIN, str), (qm.AggOp.MAX, str)],
    datetime.date: [(qm.AggOp.MIN, datetime.date), (qm.AggOp.MAX, datetime.date)],
    SNOMEDCTCode: [],
}


def test_the_generators_cover_every_operation() -> None:
    ops = {op for specs in FUNCTION_SPECS.values() for op, _ in specs} | {qm.Op.IN}
    assert ops == set(qm.Op)
    agg_ops = {op for specs in AGGREGATE_SPECS.values() for op, _ in specs}
    assert agg_ops == set(qm.AggOp)


def test_the_generators_cover_every_node_type() -> None:
    """A node type added to the serialiser must be added to the generators too."""
    generated = {
        "SelectTable", "SelectPatientTable", "InlinePatientTable", "Filter", "Sort",
        "PickOneRowPerPatient", "SelectColumn", "Value", "ValueSet", "Function", "Case",
        "Aggregate", "CountEpisodes", "Dataset",
        # Generated in tests/query_model/test_measures.py, with INTERVAL in their series.
        "IntervalDate", "Measure", "Measures",
    }  # fmt: skip
    assert set(NODE_TYPES) == generated


# --------------------------------------------------------------------------------------------
# Values


def snomed_code(body: int) -> SNOMEDCTCode:
    digits = f"{body}00"  # partition 00: a concept
    return SNOMEDCTCode(digits + verhoeff_check_digit(digits))


SERIALISATION_VALUES: dict[type, st.SearchStrategy[Any]] = {
    bool: st.booleans(),
    int: st.integers(-(2**63), 2**63 - 1),
    float: st.floats(allow_nan=False, allow_infinity=False),
    str: st.text(max_size=12),
    datetime.date: st.dates(),
    SNOMEDCTCode: st.integers(100, 10**14).map(snomed_code),
}


# --------------------------------------------------------------------------------------------
# Type-directed trees


class Trees:
    """Strategies for valid query models, built by type, level and remaining depth."""

    levels = (PATIENT, EVENT)

    def __init__(self, values: dict[type, st.SearchStrategy[Any]]) -> None:
        self.values = values
        self._cache: dict[tuple[Any, ...], st.SearchStrategy[Any]] = {}

    def _cached(
        self, key: tuple[Any, ...], make: Callable[[], st.SearchStrategy[Any]]
    ) -> st.SearchStrategy[Any]:
        if key not in self._cache:
            self._cache[key] = st.deferred(make)
        return self._cache[key]

    # Series ------------------------------------------------------------------------------

    def series(self, t: type, level: str, depth: int) -> st.SearchStrategy[qm.Series]:
        return self._cached(("series", t, level, depth), lambda: self._series(t, level, depth))

    def _series(self, t: type, level: str, depth: int) -> st.SearchStrategy[qm.Series]:
        options = [self.leaves(t, level, depth)]
        if depth > 0:
            options += [self.functions(t, level, depth - 1), self.cases(t, level, depth - 1)]
            if level == PATIENT and AGGREGATE_SPECS[t]:
                options.append(self.aggregates(t, depth - 1))
            if level == PATIENT and t is int:
                options.append(self.episodes(depth - 1))
        return st.one_of(options)

    def episodes(self, depth: int) -> st.SearchStrategy[qm.Series]:
        return st.builds(
            qm.CountEpisodes, self.series(datetime.date, EVENT, depth), st.integers(0, 40)
        )

    def other_arg(self, t: type, level: str, depth: int) -> st.SearchStrategy[qm.Series]:
        """An argument next to one at ``level``: that level, or patient level."""
        if level == PATIENT:
            return self.series(t, PATIENT, depth)
        return st.one_of(self.series(t, PATIENT, depth), self.series(t, level, depth))

    def args(
        self, types: tuple[type, ...], level: str, depth: int
    ) -> st.SearchStrategy[tuple[qm.Series, ...]]:
        """Arguments of these types whose combined level is ``level``."""
        if level == PATIENT:
            return st.tuples(*(self.series(t, PATIENT, depth) for t in types))
        return st.integers(0, len(types) - 1).flatmap(
            lambda k: st.tuples(
                *(
                    self.series(t, level, depth) if i == k else self.other_arg(t, level, depth)
                    for i, t in enumerate(types)
                )
            )
        )

    def leaves(self, t: type, level: str, depth: int) -> st.SearchStrategy[qm.Series]:
        if level == PATIENT:
            return st.one_of(
                self.values[t].map(qm.Value),
                st.builds(qm.SelectColumn, self.patient_frames(depth), st.sampled_from(COLUMNS[t])),
            )
        return st.builds(qm.SelectColumn, self.event_frames(depth), st.sampled_from(COLUMNS[t]))

    def functions(self, t: type, level: str, depth: int) -> st.SearchStrategy[qm.Series]:
        options = [
            self.args(types, level, depth).map(lambda args, op=op: qm.Function(op, args))
            for op, types in FUNCTION_SPECS[t]
        ]
        if t is bool:
            options += [self.is_in(a, level, depth) for a in TYPES]
        return st.one_of(options)

    def value_sets(self, t: type) -> st.SearchStrategy[qm.ValueSet]:
        return st.lists(self.values[t], max_size=4).map(lambda vs: qm.ValueSet(tuple(vs), t))

    def is_in(self, t: type, level: str, depth: int) -> st.SearchStrategy[qm.Series]:
        return st.builds(
            lambda s, vs: qm.Function(qm.Op.IN, (s, vs)),
            self.series(t, level, depth),
            self.value_sets(t),
        )

    def cases(self, t: type, level: str, depth: int) -> st.SearchStrategy[qm.Series]:
        first_condition = self.series(bool, level, depth)
        other_condition = self.other_arg(bool, level, depth)
        value = self.other_arg(t, level, depth)
        maybe_value = st.none() | value

        @st.composite
        def build(draw: st.DrawFn) -> qm.Case:
            conditions = [draw(first_condition), *draw(st.lists(other_condition, max_size=2))]
            values = [draw(maybe_value) for _ in conditions]
            default = draw(maybe_value)
            if default is None and all(v is None for v in values):
                values[draw(st.integers(0, len(values) - 1))] = draw(value)
            return qm.Case(tuple(zip(conditions, values)), default)

        return build()

    def aggregates(self, t: type, depth: int) -> st.SearchStrategy[qm.Series]:
        options = []
        for op, source_type in AGGREGATE_SPECS[t]:
            if op is qm.AggOp.EXISTS:
                source = st.one_of(self.event_frames(depth), self.patient_frames(depth))
            elif op is qm.AggOp.COUNT:
                source = self.event_frames(depth)
            else:
                assert source_type is not None
                source = self.series(source_type, EVENT, depth)
            options.append(source.map(lambda s, op=op: qm.Aggregate(op, s)))
        return st.one_of(options)

    # Frames ------------------------------------------------------------------------------

    def sort_keys(self, depth: int) -> st.SearchStrategy[qm.Series]:
        return st.one_of([self.series(t, EVENT, depth) for t in TYPES])

    def filter_conditions(self, depth: int) -> st.SearchStrategy[qm.Series]:
        return self.other_arg(bool, EVENT, depth)

    def event_frames(self, depth: int) -> st.SearchStrategy[qm.ManyRowsFrame]:
        return self._cached(("event_frames", depth), lambda: self._event_frames(depth))

    def _event_frames(self, depth: int) -> st.SearchStrategy[qm.ManyRowsFrame]:
        if depth == 0:
            return st.just(E)
        d = depth - 1
        return st.one_of(
            st.just(E),
            st.builds(qm.Filter, self.event_frames(d), self.filter_conditions(d)),
            st.builds(qm.Sort, self.event_frames(d), self.sort_keys(d)),
        )

    def sorted_frames(self, depth: int) -> st.SearchStrategy[qm.ManyRowsFrame]:
        return st.builds(qm.Sort, self.event_frames(depth), self.sort_keys(depth))

    def patient_frames(self, depth: int) -> st.SearchStrategy[qm.OneRowPerPatientFrame]:
        return self._cached(("patient_frames", depth), lambda: self._patient_frames(depth))

    def _patient_frames(self, depth: int) -> st.SearchStrategy[qm.OneRowPerPatientFrame]:
        if depth == 0:
            return st.just(P)
        return st.one_of(
            st.just(P),
            self.inline_tables(),
            st.builds(
                qm.PickOneRowPerPatient,
                self.sorted_frames(depth - 1),
                st.sampled_from(qm.Position),
            ),
        )

    def inline_tables(self) -> st.SearchStrategy[qm.InlinePatientTable]:
        """A table written in the definition, with p's columns, for some of patients 1-5."""
        row_values = st.tuples(*(st.none() | self.values[c.type] for c in P.schema.columns))
        rows = st.dictionaries(st.integers(1, 5), row_values, max_size=4)
        return rows.map(
            lambda r: qm.InlinePatientTable(
                tuple((pid, *values) for pid, values in sorted(r.items())), P.schema
            )
        )

    # Whole queries -----------------------------------------------------------------------

    def any_series(self, depth: int) -> st.SearchStrategy[qm.Series]:
        return st.one_of([self.series(t, level, depth) for t in TYPES for level in self.levels])

    def datasets(self, depth: int) -> st.SearchStrategy[qm.Dataset]:
        names = st.from_regex(r"[a-z][a-z0-9_]{0,62}", fullmatch=True).filter(
            lambda n: n not in qm.RESERVED_NAMES
        )
        variables = st.lists(
            st.tuples(names, st.one_of([self.series(t, PATIENT, depth) for t in TYPES])),
            max_size=4,
            unique_by=lambda pair: pair[0],
        )
        return st.builds(
            lambda pop, vs: qm.Dataset(pop, tuple(vs)), self.series(bool, PATIENT, depth), variables
        )

    def any_node(self, depth: int) -> st.SearchStrategy[qm.Node]:
        return st.one_of(
            self.any_series(depth),
            self.event_frames(depth),
            self.patient_frames(depth),
            self.datasets(depth),
            st.sampled_from(TYPES).flatmap(self.value_sets),
        )


TREES = Trees(SERIALISATION_VALUES)


# --------------------------------------------------------------------------------------------
# Round trip


def assert_round_trips(node: qm.Node) -> None:
    text = dumps(node)
    loaded = loads(text)
    assert loaded == node
    assert type(loaded) is type(node)
    assert hash(loaded) == hash(node)
    assert dumps(loaded) == text
    if isinstance(node, qm.Series):
        assert loaded.type is node.type
        assert loaded.domain == node.domain


@settings(FAST, max_examples=300)
@given(TREES.any_node(3))
def test_any_query_model_round_trips(node: qm.Node) -> None:
    assert_round_trips(node)


@settings(FAST, max_examples=150)
@given(TREES.any_series(3))
def test_series_keep_their_type_and_domain(series: qm.Series) -> None:
    loaded = loads(dumps(series))
    assert loaded.type is series.type
    assert loaded.domain == series.domain
    assert loaded.domain.is_patient == series.domain.is_patient


@settings(FAST, max_examples=150)
@given(TREES.datasets(3))
def test_datasets_round_trip(dataset: qm.Dataset) -> None:
    assert_round_trips(dataset)
    loaded = loads(dumps(dataset))
    assert [name for name, _ in loaded.variables] == [name for name, _ in dataset.variables]


@settings(FAST, max_examples=150)
@given(TREES.any_node(3))
def test_every_node_is_written_once(node: qm.Node) -> None:
    document = to_jsonable(node)
    records = [json.dumps(r, sort_keys=True) for r in document["nodes"]]
    assert len(set(records)) == len(records), "a node is written twice"
    assert len(records) == len(list(qm.walk(node)))
    # Children before parents: every reference points backwards.
    for index, record in enumerate(document["nodes"]):
        for ref in _refs(record):
            assert ref < index


def _refs(value: Any) -> list[int]:
    if isinstance(value, dict):
        if "$ref" in value:
            return [value["$ref"]]
        return [r for v in value.values() for r in _refs(v)]
    if isinstance(value, list):
        return [r for v in value for r in _refs(v)]
    return []


@settings(FAST, max_examples=200)
@given(st.sampled_from(TYPES).flatmap(lambda t: SERIALISATION_VALUES[t]))
def test_every_constant_round_trips_exactly(value: Any) -> None:
    loaded = loads(dumps(qm.Value(value))).value
    assert type(loaded) is type(value)
    assert loaded == value
    if isinstance(value, float):
        assert repr(loaded) == repr(value)  # also the sign of zero


@pytest.mark.parametrize(
    "value",
    [0.1, 1e300, -1e300, -0.0, 0.0, 5e-324, 2.2250738585072014e-308, 1 / 3, 1e16, 123456789.125],
)
def test_floats_round_trip_exactly(value: float) -> None:
    loaded = loads(dumps(qm.Value(value))).value
    assert repr(loaded) == repr(value)
    assert math.copysign(1.0, loaded) == math.copysign(1.0, value)


def test_zero_and_negative_zero_in_one_query_both_survive() -> None:
    """0.0 and -0.0 are different constants; merging them as one shared node changes -0.0.

    ``Value.__eq__`` says ``Value(0.0) == Value(-0.0)``, so the writer's node table treats the
    second as a repeat of the first and writes ``0.0`` for both.
    """
    dataset = qm.Dataset(
        qm.Aggregate(qm.AggOp.EXISTS, P),
        (("zero", qm.Value(0.0)), ("negative_zero", qm.Value(-0.0))),
    )
    loaded = loads(dumps(dataset))
    values = {name: series.value for name, series in loaded.variables}
    assert repr(values["zero"]) == "0.0"
    assert repr(values["negative_zero"]) == "-0.0"


@pytest.mark.parametrize(
    "value",
    [
        -(2**63),
        2**63 - 1,
        -1,
        True,
        False,
        "",
        'naïve ☃ 🩺 \u0000 "quoted" \\ back',
        datetime.date(1, 1, 1),
        datetime.date(9999, 12, 31),
        datetime.date(2020, 2, 29),
        *[cls(cls.example) for cls in CODE_TYPES.values()],
    ],
    ids=repr,
)
def test_edge_constants_round_trip(value: Any) -> None:
    loaded = loads(dumps(qm.Value(value))).value
    assert type(loaded) is type(value)
    assert loaded == value


def test_true_and_one_stay_different_nodes() -> None:
    series = qm.Function(qm.Op.EQ, (qm.Value(1), qm.Value(1)))
    flags = qm.Function(qm.Op.EQ, (qm.Value(True), qm.Value(True)))
    both = qm.Function(qm.Op.AND, (series, flags))
    loaded = loads(dumps(both))
    assert loaded == both
    assert type(loaded.args[0].args[0].value) is int
    assert type(loaded.args[1].args[0].value) is bool


def test_schema_with_constraints_round_trips() -> None:
    schema = TableSchema(
        (
            Column("sex", str, "Sex", (Constraint.Categorical(("female", "male")),)),
            Column("dob", datetime.date, "", (Constraint.FirstOfMonth(), Constraint.NotNull())),
            Column("weight", float, "", (Constraint.ClosedRange(0.5, 300.25, 0.25),)),
            Column("code", str, "", (Constraint.Regex(r"[A-Z]\d+"), Constraint.Unique())),
            Column(
                "died",
                datetime.date,
                "",
                (Constraint.DateAfter(("dob",), datetime.date(1900, 1, 1)),),
            ),
        )
    )
    node = qm.SelectColumn(qm.SelectPatientTable("people", schema), "weight")
    loaded = loads(dumps(node))
    assert loaded == node
    assert loaded.source.schema.columns == schema.columns
    assert loaded.source.schema.get_column("sex").constraints == (
        Constraint.Categorical(("female", "male")),
    )


# --------------------------------------------------------------------------------------------
# Sharing


def test_a_subtree_used_many_times_is_written_once() -> None:
    frame = e.where(e.i1 > 10).where(e.c1.is_in([snomed_code(123), snomed_code(456)]))
    codes = qm.ValueSet(tuple(snomed_code(n) for n in range(100, 120)), SNOMEDCTCode)
    variables = []
    for i in range(20):
        series = qm.Aggregate(qm.AggOp.SUM, qm.SelectColumn(frame._node, "i2"))
        condition = qm.Function(qm.Op.IN, (qm.SelectColumn(P, "c1"), codes))
        variables.append((f"v{i}", qm.Case(((condition, series),), qm.Value(i))))
    dataset = qm.Dataset(qm.Aggregate(qm.AggOp.EXISTS, frame._node), tuple(variables))
    document = to_jsonable(dataset)
    kinds = [record["node"] for record in document["nodes"]]
    assert kinds.count("SelectTable") == 1
    assert kinds.count("SelectPatientTable") == 1
    assert kinds.count("Filter") == 2
    assert kinds.count("ValueSet") == 2
    assert kinds.count("Aggregate") == 2  # the population's EXISTS and the one SUM
    assert kinds.count("Case") == 20
    records = [json.dumps(r, sort_keys=True) for r in document["nodes"]]
    assert len(set(records)) == len(records)
    assert len(records) == len(list(qm.walk(dataset)))
    assert loads(dumps(dataset)) == dataset


def test_deep_sharing_stays_linear() -> None:
    """A chain where each level uses the one below twice: 2**40 paths, 40-odd nodes."""
    series: qm.Series = qm.SelectColumn(P, "i1")
    for _ in range(40):
        series = qm.Function(qm.Op.ADD, (series, series))
    document = to_jsonable(series)
    assert len(document["nodes"]) == 42  # table, column, 40 additions
    text = dumps(series)
    loaded = loads(text)
    assert dumps(loaded) == text
    assert loaded.args[0] is loaded.args[1]  # rebuilt shared, not copied
    # (Not ``loaded == series``: see test_equal_but_separately_built_trees_compare_quickly.)


def test_equal_but_separately_built_trees_compare_quickly() -> None:
    """Two equal DAGs built separately: equality, and so dumps() of both, must not explode.

    Dataclass ``__eq__`` compares field by field; Python's shortcut for identical objects only
    helps within one tree, so comparing two separately built copies of a 24-level
    self-sharing chain visits 2**24 paths. ``dumps`` does that comparison when the copies meet
    in its node table, e.g. as two variables built by the same helper.
    """

    def chain() -> qm.Series:
        series: qm.Series = qm.SelectColumn(P, "i1")
        for _ in range(24):
            series = qm.Function(qm.Op.ADD, (series, series))
        return series

    dataset = qm.Dataset(qm.Aggregate(qm.AggOp.EXISTS, P), (("a", chain()), ("b", chain())))
    started = time.perf_counter()
    document = to_jsonable(dataset)
    elapsed = time.perf_counter() - started
    assert len(document["nodes"]) == 28  # p, EXISTS, column, 24 additions, the dataset
    assert elapsed < 1.0, f"dumps took {elapsed:.1f}s for 28 nodes"


# --------------------------------------------------------------------------------------------
# Bad documents


def valid_document() -> dict[str, Any]:
    """A small dataset's document, to tamper with."""
    dataset = qm.Dataset(
        qm.Aggregate(qm.AggOp.EXISTS, P),
        (
            ("age", qm.Function(qm.Op.ADD, (qm.SelectColumn(P, "i1"), qm.Value(1)))),
            ("code", qm.SelectColumn(P, "c1")),
        ),
    )
    return json.loads(dumps(dataset))


def index_of(document: dict[str, Any], kind: str) -> int:
    return next(i for i, r in enumerate(document["nodes"]) if r["node"] == kind)


def assert_refused(document: Any, *fragments: str) -> SerializationError:
    text = document if isinstance(document, str) else json.dumps(document)
    with pytest.raises(SerializationError) as caught:
        loads(text)
    message = str(caught.value)
    for fragment in fragments:
        assert fragment in message, message
    return caught.value


def test_the_valid_document_loads() -> None:
    assert isinstance(loads(json.dumps(valid_document())), qm.Dataset)


@pytest.mark.parametrize(
    "text",
    ["", "{", "not json", '{"format": "fedsafe-query-model",', "[1, 2"],
)
def test_not_json_is_refused(text: str) -> None:
    assert_refused(text, "not valid JSON")


@pytest.mark.parametrize("document", [[], 3, "x", None, {"format": "other"}, {}])
def test_not_a_query_model_is_refused(document: Any) -> None:
    assert_refused(json.dumps(document), "not a fedsafe query model")


@pytest.mark.parametrize("version", [0, 2, "1", None])
def test_wrong_version_is_refused(version: Any) -> None:
    document = valid_document()
    document["version"] = version
    assert_refused(document, "version", str(FORMAT_VERSION))


def test_a_missing_version_is_refused() -> None:
    document = valid_document()
    del document["version"]
    assert_refused(document, "version")


def test_a_boolean_is_not_a_version() -> None:
    """``true == 1`` in Python, but a document saying version ``true`` is not version 1."""
    document = valid_document()
    document["version"] = True
    assert_refused(document, "version")


@pytest.mark.parametrize("nodes", [[], None, {}, "nodes"])
def test_no_nodes_is_refused(nodes: Any) -> None:
    document = valid_document()
    document["nodes"] = nodes
    assert_refused(document, "no nodes")


@pytest.mark.parametrize("root", [-1, 99, "0", None, 1.0])
def test_a_bad_root_is_refused(root: Any) -> None:
    document = valid_document()
    document["root"] = root
    assert_refused(document, "root")


def test_a_boolean_root_is_refused() -> None:
    """``"root": true`` must not quietly mean node 1 (``$ref`` already refuses booleans)."""
    document = valid_document()
    document["root"] = True
    assert_refused(document, "root")


@pytest.mark.parametrize("kind", ["Frobnicate", "Node", "Series", "", None, 3])
def test_an_unknown_node_type_is_refused(kind: Any) -> None:
    document = valid_document()
    document["nodes"][0]["node"] = kind
    assert_refused(document, "node 0", "unknown")


@pytest.mark.parametrize("kind", [["Value"], {"Value": 1}])
def test_an_unhashable_node_type_is_refused(kind: Any) -> None:
    """A list or object where the node type belongs must give SerializationError, not TypeError."""
    document = valid_document()
    document["nodes"][0]["node"] = kind
    assert_refused(document, "node 0")


def test_a_node_that_is_not_an_object_is_refused() -> None:
    document = valid_document()
    document["nodes"].insert(0, ["Value", 1])
    assert_refused(document, "node 0")


def test_a_reference_to_a_later_node_is_refused() -> None:
    document = valid_document()
    column = index_of(document, "SelectColumn")
    document["nodes"][column]["source"] = {"$ref": column + 1}
    assert_refused(document, f"node {column}", "not an earlier node")


@pytest.mark.parametrize("ref", [-1, "0", None, True, 0.0, [0]])
def test_a_malformed_reference_is_refused(ref: Any) -> None:
    document = valid_document()
    column = index_of(document, "SelectColumn")
    document["nodes"][column]["source"] = {"$ref": ref}
    assert_refused(document, f"node {column}")


def test_a_self_reference_is_refused() -> None:
    document = valid_document()
    column = index_of(document, "SelectColumn")
    document["nodes"][column]["source"] = {"$ref": column}
    assert_refused(document, "not an earlier node")


def test_a_function_comparing_a_date_with_an_int_is_refused() -> None:
    document = {
        "format": "fedsafe-query-model",
        "version": FORMAT_VERSION,
        "nodes": [
            {"node": "Value", "value": {"$date": "2020-01-01"}},
            {"node": "Value", "value": 3},
            {
                "node": "Function",
                "op": {"$enum": "Op", "name": "LT"},
                "args": [{"$ref": 0}, {"$ref": 1}],
            },
        ],
        "root": 2,
    }
    assert_refused(document, "node 2 (Function) is invalid", "date", "integer")


def test_an_edited_dump_that_no_longer_type_checks_is_refused() -> None:
    """Changing ADD's int constant to a string in a real dump breaks the type rule."""
    document = valid_document()
    value = next(
        i for i, r in enumerate(document["nodes"]) if r["node"] == "Value" and r["value"] == 1
    )
    document["nodes"][value]["value"] = "one"
    function = index_of(document, "Function")
    assert_refused(document, f"node {function} (Function) is invalid", "arithmetic")


def test_a_dataset_with_an_event_level_variable_is_refused() -> None:
    dataset = qm.Dataset(qm.Aggregate(qm.AggOp.EXISTS, E), (("v", qm.Value(1)),))
    document = json.loads(dumps(dataset))
    # Point the variable at e.i1 by adding the column node before the dataset.
    column = {"node": "SelectColumn", "source": {"$ref": 0}, "name": "i1"}
    dataset_index = len(document["nodes"]) - 1
    document["nodes"].insert(dataset_index, column)
    document["nodes"][-1]["variables"][0][1] = {"$ref": dataset_index}
    document["root"] = dataset_index + 1
    assert_refused(document, "(Dataset) is invalid", "one value per patient")


def test_an_unknown_column_is_refused() -> None:
    document = valid_document()
    column = index_of(document, "SelectColumn")
    document["nodes"][column]["name"] = "nope"
    assert_refused(document, "(SelectColumn) is invalid", "nope", "i1")


def test_an_unknown_code_system_is_refused() -> None:
    document = valid_document()
    document["nodes"].insert(0, {"node": "Value", "value": {"$code": "snomed", "value": "1"}})
    document["nodes"] = _shift_refs(document["nodes"], 1)
    document["root"] += 1
    error = assert_refused(document, "node 0", "unknown coding system")
    assert "snomedct" in str(error)  # the known systems, and the near miss, are named


def test_an_invalid_code_is_refused() -> None:
    document = {
        "format": "fedsafe-query-model",
        "version": FORMAT_VERSION,
        "nodes": [{"node": "Value", "value": {"$code": "snomedct", "value": "123"}}],
        "root": 0,
    }
    assert_refused(document, "node 0", "SNOMED CT")


def test_an_unknown_column_type_is_refused() -> None:
    document = valid_document()
    text = json.dumps(document).replace('{"$type": "int"}', '{"$type": "integer"}', 1)
    assert_refused(text, "node 0", "integer")


def test_a_column_type_that_is_not_a_type_is_refused() -> None:
    """A column whose type is written as a bare string, not ``{"$type": ...}``, must not load.

    Otherwise the loaded table has a column of "type" ``'int'`` (a str), which no engine or
    type rule understands: exactly the query-no-one-wrote the loader promises to refuse.
    """
    document = {
        "format": "fedsafe-query-model",
        "version": FORMAT_VERSION,
        "nodes": [
            {"node": "SelectPatientTable", **_p_table_fields()},
            {"node": "SelectColumn", "source": {"$ref": 0}, "name": "i1"},
        ],
        "root": 1,
    }
    text = json.dumps(document).replace('{"$type": "int"}', '"int"', 1)
    assert '"type": "int"' in text
    assert_refused(text, "node 0")


def test_a_table_schema_that_is_not_a_schema_is_refused() -> None:
    document = {
        "format": "fedsafe-query-model",
        "version": FORMAT_VERSION,
        "nodes": [{"node": "SelectPatientTable", "name": "p", "schema": 5}],
        "root": 0,
    }
    assert_refused(document, "node 0")


def test_a_bad_enum_is_refused() -> None:
    document = valid_document()
    function = index_of(document, "Function")
    document["nodes"][function]["op"] = {"$enum": "Op", "name": "FROBNICATE"}
    assert_refused(document, f"node {function}", "FROBNICATE")
    document["nodes"][function]["op"] = {"$enum": "AggOp", "name": "SUM"}
    assert_refused(document, f"node {function}", "unknown operation")


@pytest.mark.parametrize(
    "value",
    [
        {"$float": "nan"},
        {"$float": "inf"},
        {"$float": "-inf"},
        {"$float": "x"},
        {"$date": "2020-02-30"},
        {"$date": 20200101},
        {"$what": 1},
        2**70,
        1.5,
        [1, 2],
    ],
    ids=repr,
)
def test_a_bad_constant_is_refused(value: Any) -> None:
    document = {
        "format": "fedsafe-query-model",
        "version": FORMAT_VERSION,
        "nodes": [{"node": "Value", "value": value}],
        "root": 0,
    }
    assert_refused(document, "node 0")


def test_extra_fields_on_a_node_are_refused() -> None:
    document = valid_document()
    column = index_of(document, "SelectColumn")
    document["nodes"][column]["comment"] = "tampered"
    assert_refused(document, f"node {column}", "unexpected fields", "comment")


def test_a_missing_field_is_refused() -> None:
    document = valid_document()
    column = index_of(document, "SelectColumn")
    del document["nodes"][column]["name"]
    assert_refused(document, f"node {column}", "missing", "name")


@pytest.mark.parametrize(
    "tag",
    [
        {"$ref": 0, "extra": 1},
        {"$float": "1.5", "extra": 1},
        {"$date": "2020-01-01", "extra": 1},
    ],
    ids=repr,
)
def test_extra_fields_inside_a_value_are_refused(tag: dict[str, Any]) -> None:
    """Unknown keys next to ``$ref``/``$float``/``$date`` are as suspect as unknown node fields."""
    nodes: list[dict[str, Any]] = [{"node": "SelectPatientTable", **_p_table_fields()}]
    if "$ref" in tag:
        nodes.append({"node": "SelectColumn", "source": tag, "name": "i1"})
    else:
        nodes.append({"node": "Value", "value": tag})
    document = {"format": "fedsafe-query-model", "version": 1, "nodes": nodes, "root": 1}
    assert_refused(document, "node 1")


def _p_table_fields() -> dict[str, Any]:
    record = to_jsonable(P)["nodes"][0]
    return {k: v for k, v in record.items() if k != "node"}


def _shift_refs(value: Any, by: int) -> Any:
    if isinstance(value, dict):
        if "$ref" in value:
            return {"$ref": value["$ref"] + by}
        return {k: _shift_refs(v, by) for k, v in value.items()}
    if isinstance(value, list):
        return [_shift_refs(v, by) for v in value]
    return value


def test_from_jsonable_refuses_what_loads_refuses() -> None:
    with pytest.raises(SerializationError):
        from_jsonable({"format": "fedsafe-query-model", "version": 1, "nodes": []})


def test_loading_a_bad_document_leaves_a_good_one_loadable() -> None:
    good = json.dumps(valid_document())
    bad = valid_document()
    bad["nodes"][-1]["population"] = {"$ref": 999}
    with pytest.raises(SerializationError):
        loads(json.dumps(bad))
    assert isinstance(loads(good), qm.Dataset)


# --------------------------------------------------------------------------------------------
# Differential test: DuckDB against the Python reference semantics

FIRST_DAY = datetime.date(1990, 1, 1)
LAST_DAY = datetime.date(2030, 12, 31)
CODE_POOL = [snomed_code(n) for n in (123, 4567, 890)]


def _month_ends() -> st.SearchStrategy[datetime.date]:
    return st.builds(
        lambda y, m, back: (
            datetime.date(y + (m == 12), m % 12 + 1, 1) - datetime.timedelta(days=back)
        ),
        st.integers(1990, 2030),
        st.integers(1, 12),
        st.integers(1, 3),
    )


SMALL_VALUES: dict[type, st.SearchStrategy[Any]] = {
    bool: st.booleans(),
    int: st.integers(-20, 20),
    float: st.integers(-200, 200).map(lambda i: i / 4),  # exact in binary: sums are exact
    str: st.text(alphabet="abé", max_size=3),
    datetime.date: st.one_of(st.dates(FIRST_DAY, LAST_DAY), _month_ends()),
    SNOMEDCTCode: st.sampled_from(CODE_POOL),
}


class DifferentialTrees(Trees):
    """Patient-level series over ``p`` and ``e`` whose meaning is unambiguous.

    Filter conditions and sort keys read ``e`` itself (level ROOT); the series an aggregate
    reduces read any frame of ``e`` (level EVENT), a row taking part where every frame it reads
    has it.
    """

    levels = (PATIENT,)

    def leaves(self, t: type, level: str, depth: int) -> st.SearchStrategy[qm.Series]:
        if level == ROOT:
            return st.sampled_from(COLUMNS[t]).map(lambda c: qm.SelectColumn(E, c))
        return super().leaves(t, level, depth)

    def sort_keys(self, depth: int) -> st.SearchStrategy[qm.Series]:
        return st.one_of([self.series(t, ROOT, depth) for t in TYPES])

    def filter_conditions(self, depth: int) -> st.SearchStrategy[qm.Series]:
        return self.other_arg(bool, ROOT, depth)


DIFF_TREES = DifferentialTrees(SMALL_VALUES)


@st.composite
def small_data(draw: st.DrawFn) -> tuple[dict[int, dict[str, Any]], dict[int, list[dict]]]:
    """Rows for p (at most one per patient) and e (any number), with some NULLs."""
    patients = range(1, draw(st.integers(1, 5)) + 1)

    def row(pid: int, frame: Any) -> dict[str, Any]:
        values = {"patient_id": pid}
        for column in frame._node.schema.columns:
            values[column.name] = draw(st.none() | SMALL_VALUES[column.type])
        return values

    p_rows = {pid: row(pid, p) for pid in patients if draw(st.integers(0, 4))}
    e_rows = {pid: [row(pid, e) for _ in range(draw(st.integers(0, 3)))] for pid in patients}
    return p_rows, e_rows


class Reject(Exception):
    """The example strays outside what the engines are specified to do (e.g. int64 overflow)."""


class Ambiguous(Exception):
    """The value depends on how ties in a sort are broken, which ehrQL leaves unspecified."""


def _code_free(value: Any) -> Any:
    return getattr(value, "value", value)


def _sort_key(value: Any) -> tuple[Any, ...]:
    return (0,) if value is None else (1, _code_free(value))


class Reference:
    """Each patient's value of a series, from ``semantics`` and the documented rules."""

    def __init__(self, p_rows: dict[int, dict[str, Any]], e_rows: dict[int, list[dict]]):
        self.p_rows = p_rows
        self.e_rows = e_rows

    def value(self, node: qm.Node, pid: int, row: dict[str, Any] | None = None) -> Any:
        result = self._value(node, pid, row)
        if (
            isinstance(result, int)
            and not isinstance(result, bool)
            and not -(2**63) <= result < 2**63
        ):
            raise Reject("int64 overflow")
        if isinstance(result, float) and not math.isfinite(result):
            raise Reject("float overflow")
        return result

    def _value(self, node: qm.Node, pid: int, row: dict[str, Any] | None) -> Any:
        if isinstance(node, qm.Value):
            return node.value
        if isinstance(node, qm.SelectColumn):
            if isinstance(node.source, qm.SelectPatientTable):
                return self.p_rows.get(pid, {}).get(node.name)
            if isinstance(node.source, qm.InlinePatientTable):
                row = self.inline_row(node.source, pid)
                return None if row is None else row[node.name]
            if isinstance(node.source, qm.PickOneRowPerPatient):
                picked = self.pick(node.source, pid)
                return None if picked is None else picked[node.name]
            assert row is not None, "a row-level column read outside a row"
            return row[node.name]
        if isinstance(node, qm.Function):
            if node.op is qm.Op.IN:
                return semantics.is_in(self.value(node.args[0], pid, row), node.args[1].values)
            args = [self.value(a, pid, row) for a in node.args]
            result = semantics.FUNCTIONS[node.op](*args)
            if node.op.value.startswith("date_add") and result is None and None not in args:
                raise Reject("date out of range")  # see test_date_overflow_gives_null
            return result
        if isinstance(node, qm.Case):
            # Every branch is computed, as SQL does, so an overflow in any branch is seen.
            conditions = [self.value(c, pid, row) for c, _ in node.cases]
            values = [None if v is None else self.value(v, pid, row) for _, v in node.cases]
            default = None if node.default is None else self.value(node.default, pid, row)
            for condition, value in zip(conditions, values):
                if condition is True:
                    return value
            return default
        if isinstance(node, qm.Aggregate):
            return self.aggregate(node, pid)
        if isinstance(node, qm.CountEpisodes):
            return self.episodes(node, pid)
        raise AssertionError(f"no reference rule for {node!r}")

    def inline_row(self, table: qm.InlinePatientTable, pid: int) -> dict[str, Any] | None:
        for row in table.rows:
            if row[0] == pid:
                return dict(zip(table.schema.column_names, row[1:], strict=True))
        return None

    def episodes(self, node: qm.CountEpisodes, pid: int) -> int:
        """A date more than the gap after the previous (distinct, non-NULL) date starts one."""
        rows = self.series_rows(node.source, pid)
        dates = sorted({d for r in rows if (d := self.value(node.source, pid, r)) is not None})
        return sum(
            1
            for i, date in enumerate(dates)
            if i == 0 or (date - dates[i - 1]).days > node.maximum_gap_days
        )

    def frame_rows(self, frame: qm.ManyRowsFrame, pid: int) -> list[dict[str, Any]]:
        conditions = qm.frame_filters(frame)
        rows = []
        for row in self.e_rows.get(pid, []):
            results = [self.value(c, pid, row) for c in conditions]
            if all(r is True for r in results):
                rows.append(row)
        return rows

    def series_rows(self, series: qm.Series, pid: int) -> list[dict[str, Any]]:
        """The rows of e where every frame the row-level series reads has the row."""
        conditions: list[qm.Series] = []
        stack: list[qm.Node] = [series]
        while stack:
            node = stack.pop()
            if isinstance(node, qm.SelectColumn):
                if isinstance(node.source, qm.ManyRowsFrame):
                    conditions += qm.frame_filters(node.source)
            elif isinstance(node, qm.Function | qm.Case):
                # Not into aggregates or picked rows: those are patient-level values, whose
                # own frames do not decide which of this series' rows exist.
                stack.extend(c for c in node.children() if isinstance(c, qm.Series))
        rows = []
        for row in self.e_rows.get(pid, []):
            results = [self.value(c, pid, row) for c in conditions]
            if all(r is True for r in results):
                rows.append(row)
        return rows

    def pick(self, node: qm.PickOneRowPerPatient, pid: int) -> dict[str, Any] | None:
        rows = self.frame_rows(node.source, pid)
        keys = qm.frame_sorts(node.source)
        keyed = [(tuple(_sort_key(self.value(k, pid, r)) for k in keys), r) for r in rows]
        if not keyed:
            return None
        choose = min if node.position is qm.Position.FIRST else max
        best = choose(k for k, _ in keyed)
        candidates = [r for k, r in keyed if k == best]
        if any(r != candidates[0] for r in candidates):
            raise Ambiguous
        return candidates[0]

    def aggregate(self, node: qm.Aggregate, pid: int) -> Any:
        source = node.source
        if node.op is qm.AggOp.EXISTS:
            if isinstance(source, qm.SelectPatientTable):
                return pid in self.p_rows
            if isinstance(source, qm.InlinePatientTable):
                return self.inline_row(source, pid) is not None
            if isinstance(source, qm.PickOneRowPerPatient):
                return self.pick(source, pid) is not None
            return bool(self.frame_rows(source, pid))
        if node.op is qm.AggOp.COUNT:
            return len(self.frame_rows(source, pid))
        values = [self.value(source, pid, row) for row in self.series_rows(source, pid)]
        present = [v for v in values if v is not None]
        if node.op is qm.AggOp.COUNT_DISTINCT:
            return len(set(present))
        if not present:
            return None
        if node.op is qm.AggOp.MIN:
            return min(present, key=_code_free)
        if node.op is qm.AggOp.MAX:
            return max(present, key=_code_free)
        if node.op is qm.AggOp.SUM:
            return sum(present)
        if node.op is qm.AggOp.MEAN:
            return math.fsum(present) / len(present)
        raise AssertionError(node.op)


def run_on_duckdb(
    variables: dict[str, qm.Series],
    p_rows: dict[int, dict[str, Any]],
    e_rows: dict[int, list[dict]],
) -> dict[int, dict[str, Any]]:
    """Each patient's values, from the engine (population: everyone in p or e)."""
    population = qm.Function(
        qm.Op.OR, (qm.Aggregate(qm.AggOp.EXISTS, P), qm.Aggregate(qm.AggOp.EXISTS, E))
    )
    dataset = qm.Dataset(population, tuple(variables.items()))
    backend = ibis.duckdb.connect()
    backend.create_table(P.name, arrow_table(P, list(p_rows.values())))
    backend.create_table(E.name, arrow_table(E, [r for rows in e_rows.values() for r in rows]))
    result = run_dataset(dataset, backend).read_all().to_pylist()
    return {row.pop("patient_id"): row for row in result}


def same_value(expected: Any, actual: Any) -> bool:
    expected = _code_free(expected)
    if isinstance(expected, float) and isinstance(actual, float):
        return math.isclose(expected, actual, rel_tol=1e-9, abs_tol=1e-9)
    return type(expected) is type(actual) and expected == actual


def show(node: Any) -> str:
    """A short, readable rendering of a query model, for failure messages."""
    if isinstance(node, qm.SelectTable | qm.SelectPatientTable):
        return node.name
    if isinstance(node, qm.InlinePatientTable):
        return f"inline{[row[0] for row in node.rows]}"
    if isinstance(node, qm.CountEpisodes):
        return f"count_episodes({show(node.source)}, {node.maximum_gap_days})"
    if isinstance(node, qm.Filter):
        return f"{show(node.source)}.where({show(node.condition)})"
    if isinstance(node, qm.Sort):
        return f"{show(node.source)}.sort_by({show(node.sort_by)})"
    if isinstance(node, qm.PickOneRowPerPatient):
        return f"{show(node.source)}.{node.position.value}_for_patient()"
    if isinstance(node, qm.SelectColumn):
        return f"{show(node.source)}.{node.name}"
    if isinstance(node, qm.Value):
        return repr(node.value)
    if isinstance(node, qm.ValueSet):
        return repr(list(node.values))
    if isinstance(node, qm.Function):
        return f"{node.op.name}({', '.join(show(a) for a in node.args)})"
    if isinstance(node, qm.Case):
        whens = " ".join(f"when({show(c)}).then({show(v)})" for c, v in node.cases)
        return f"case({whens} otherwise={show(node.default)})"
    if isinstance(node, qm.Aggregate):
        return f"{node.op.name}({show(node.source)})"
    return repr(node)


def check_engine_agrees(
    variables: dict[str, qm.Series],
    p_rows: dict[int, dict[str, Any]],
    e_rows: dict[int, list[dict]],
) -> None:
    reference = Reference(p_rows, e_rows)
    patients = set(p_rows) | {pid for pid, rows in e_rows.items() if rows}
    expected: dict[int, dict[str, Any]] = {}
    for pid in sorted(patients):
        expected[pid] = {}
        for name, series in variables.items():
            try:
                expected[pid][name] = reference.value(series, pid)
            except Ambiguous:
                expected[pid][name] = Ambiguous
            except Reject:
                reject()
    actual = run_on_duckdb(variables, p_rows, e_rows)
    assert set(actual) == patients
    mismatches = [
        f"patient {pid}, {name}: expected {expected[pid][name]!r}, DuckDB gave {value!r}"
        for pid in sorted(patients)
        for name, value in actual[pid].items()
        if expected[pid][name] is not Ambiguous and not same_value(expected[pid][name], value)
    ]
    if mismatches:
        shown = [f"{name} = {show(series)}" for name, series in variables.items()]
        raise AssertionError("\n".join(mismatches + shown + [f"p: {p_rows}", f"e: {e_rows}"]))


@settings(FAST, max_examples=100)
@given(
    st.lists(
        st.sampled_from(TYPES).flatmap(lambda t: DIFF_TREES.series(t, PATIENT, 3)),
        min_size=1,
        max_size=3,
    ),
    small_data(),
)
def test_duckdb_agrees_with_the_reference_semantics(
    series: list[qm.Series], data: tuple[dict[int, dict[str, Any]], dict[int, list[dict]]]
) -> None:
    p_rows, e_rows = data
    check_engine_agrees({f"v{i}": s for i, s in enumerate(series)}, p_rows, e_rows)


# Minimal disagreements, each found by the property above or by reading the compiler.


def _p_row(pid: int, **values: Any) -> dict[str, Any]:
    return {"patient_id": pid, **{c: values.get(c) for c in P.schema.column_names}}


def _e_row(pid: int, **values: Any) -> dict[str, Any]:
    return {"patient_id": pid, **{c: values.get(c) for c in E.schema.column_names}}


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        (datetime.date(2020, 8, 31), 1, datetime.date(2020, 10, 1)),
        (datetime.date(2020, 1, 31), 1, datetime.date(2020, 3, 1)),
        (datetime.date(2021, 1, 30), 1, datetime.date(2021, 3, 1)),
        (datetime.date(2020, 3, 31), -1, datetime.date(2020, 3, 1)),
        (datetime.date(2020, 2, 29), 12, datetime.date(2021, 3, 1)),
    ],
)
def test_engine_adds_months_with_the_round_up_rule(
    start: datetime.date, n: int, expected: datetime.date
) -> None:
    """A day the target month lacks rolls to the 1st of the next month (ehrQL's rule).

    ``semantics.add_months`` does this; the compiler instead adds the surplus days, so
    31 Jan 2020 + 1 month is 2 March, not 1 March, whenever the month is 2+ days short.
    """
    assert semantics.add_months(start, n) == expected
    variables = {
        "v": qm.Function(qm.Op.DATE_ADD_MONTHS, (qm.SelectColumn(P, "d1"), qm.Value(n))),
        "w": qm.Function(qm.Op.DATE_ADD_YEARS, (qm.SelectColumn(P, "d1"), qm.Value(n // 12))),
    }
    check_engine_agrees(variables, {1: _p_row(1, d1=start)}, {})


def test_an_aggregate_inside_a_row_expression_does_not_filter_its_rows() -> None:
    """``(e.i1 + e.where(e.b1).i2.sum_for_patient()).sum_for_patient()`` sums every row of e.

    The inner sum is one value per patient; its frame's filter (b1) is not a condition on the
    outer rows. The compiler's ``_frame_of`` walks into the inner aggregate and applies b1 to
    the outer sum too.
    """
    inner = qm.Aggregate(
        qm.AggOp.SUM, qm.SelectColumn(qm.Filter(E, qm.SelectColumn(E, "b1")), "i2")
    )
    outer = qm.Aggregate(qm.AggOp.SUM, qm.Function(qm.Op.ADD, (qm.SelectColumn(E, "i1"), inner)))
    e_rows = {1: [_e_row(1, i1=1, i2=10, b1=True), _e_row(1, i1=2, i2=20, b1=False)]}
    # inner = 10; outer = (1 + 10) + (2 + 10) = 23
    assert Reference({}, e_rows).value(outer, 1) == 23
    check_engine_agrees({"v": outer}, {}, e_rows)


def test_a_picked_row_inside_a_row_expression_does_not_filter_its_rows() -> None:
    """Same as above with a picked row: its frame's filter is not the outer rows' filter."""
    frame = qm.Sort(qm.Filter(E, qm.SelectColumn(E, "b1")), qm.SelectColumn(E, "i1"))
    first = qm.SelectColumn(qm.PickOneRowPerPatient(frame, qm.Position.FIRST), "i2")
    outer = qm.Aggregate(
        qm.AggOp.COUNT_DISTINCT, qm.Function(qm.Op.ADD, (qm.SelectColumn(E, "i1"), first))
    )
    e_rows = {1: [_e_row(1, i1=1, i2=10, b1=True), _e_row(1, i1=2, i2=20, b1=False)]}
    assert Reference({}, e_rows).value(outer, 1) == 2
    check_engine_agrees({"v": outer}, {}, e_rows)


def test_floor_division_of_large_ints_is_exact() -> None:
    """``semantics.floordiv`` is exact for ints; the compiler divides in float64."""
    big = 2**53 + 1
    variables = {
        "v": qm.Function(qm.Op.FLOORDIV, (qm.SelectColumn(P, "i1"), qm.Value(1))),
        "w": qm.Function(qm.Op.FLOORDIV, (qm.SelectColumn(P, "i1"), qm.Value(2))),
    }
    check_engine_agrees(variables, {1: _p_row(1, i1=big)}, {})


@pytest.mark.parametrize(
    ("op", "start", "n"),
    [
        (qm.Op.DATE_ADD_DAYS, datetime.date(9999, 12, 31), 1),
        (qm.Op.DATE_ADD_MONTHS, datetime.date(9999, 12, 1), 1),
        (qm.Op.DATE_ADD_YEARS, datetime.date(9999, 1, 1), 1),
        (qm.Op.DATE_ADD_DAYS, datetime.date(1, 1, 1), -1),
    ],
)
def test_date_overflow_gives_null(op: qm.Op, start: datetime.date, n: int) -> None:
    """``semantics`` gives NULL when date arithmetic leaves years 1-9999; so must the engine."""
    series = qm.Function(op, (qm.SelectColumn(P, "d1"), qm.SelectColumn(P, "i1")))
    assert semantics.FUNCTIONS[op](start, n) is None
    actual = run_on_duckdb({"v": series}, {1: _p_row(1, d1=start, i1=n)}, {})
    assert actual == {1: {"v": None}}


def test_is_in_an_empty_list_inside_an_aggregate() -> None:
    """``e.i1.is_in([]).count_distinct_for_patient()``: is_in([]) is False on every row.

    The compiler turns ``is_in([])`` into the scalar literal False rather than a column, and
    aggregating a scalar fails (``'BooleanScalar' object has no attribute 'nunique'``).
    """
    series = qm.Aggregate(
        qm.AggOp.COUNT_DISTINCT,
        qm.Function(qm.Op.IN, (qm.SelectColumn(E, "i1"), qm.ValueSet((), int))),
    )
    e_rows = {1: [_e_row(1, i1=3), _e_row(1, i1=None)], 2: []}
    assert Reference({}, e_rows).value(series, 1) == 1
    check_engine_agrees({"v": series}, {}, e_rows)


def test_is_in_of_a_comparison() -> None:
    """``(p.f1 < 0.0).is_in([False])``: the SQL must keep the comparison in parentheses.

    The compiled SQL reads ``f1 < 0.0 IN (FALSE)``, which DuckDB parses as
    ``f1 < (0.0 IN (FALSE))`` and refuses (Binder Error: cannot compare DOUBLE and BOOLEAN).
    """
    comparison = qm.Function(qm.Op.LT, (qm.SelectColumn(P, "f1"), qm.Value(0.0)))
    series = qm.Function(qm.Op.IN, (comparison, qm.ValueSet((False,), bool)))
    p_rows = {1: _p_row(1, f1=1.0), 2: _p_row(2, f1=-1.0), 3: _p_row(3)}
    check_engine_agrees({"v": series}, p_rows, {})


@pytest.mark.parametrize(
    "op", [qm.Op.DATE_ADD_DAYS, qm.Op.DATE_ADD_MONTHS, qm.Op.DATE_ADD_YEARS], ids=str
)
@pytest.mark.parametrize(
    "amount",
    [
        pytest.param(lambda: qm.Aggregate(qm.AggOp.SUM, qm.SelectColumn(E, "i1")), id="sum"),
        pytest.param(lambda: qm.CountEpisodes(qm.SelectColumn(E, "d1"), 0), id="episodes"),
    ],
)
def test_a_date_plus_a_summed_number_of_units(op: qm.Op, amount: Callable[[], qm.Series]) -> None:
    """``p.d1 + days(e.i1.sum_for_patient())``.

    DuckDB sums BIGINTs into a HUGEINT; Ibis types the sum as int64, so the compiler's
    ``.cast("int64")`` is dropped and DuckDB refuses ``to_days(HUGEINT)`` /
    ``make_date(BIGINT, HUGEINT, ...)``.
    """
    series = qm.Function(op, (qm.SelectColumn(P, "d1"), amount()))
    p_rows = {1: _p_row(1, d1=datetime.date(2020, 1, 31))}
    e_rows = {1: [_e_row(1, i1=1, d1=datetime.date(2020, 1, 1))]}
    check_engine_agrees({"v": series}, p_rows, e_rows)


def test_power_that_overflows_gives_null() -> None:
    """``semantics.power`` gives NULL where the result is not a real number, overflow included;
    the engine gives ``inf``."""
    series = qm.Function(qm.Op.POW, (qm.SelectColumn(P, "i1"), qm.SelectColumn(P, "i2")))
    assert semantics.power(10, 400) is None
    check_engine_agrees({"v": series}, {1: _p_row(1, i1=10, i2=400)}, {})


@pytest.mark.parametrize(
    ("a", "b"),
    [(5, 2**63 - 1), (-(2**63), 3), (2**63 - 1, -(2**63)), (-(2**63), 2**63 - 1)],
)
def test_floor_division_near_the_int64_limits(a: int, b: int) -> None:
    """Every quotient here fits in 64 bits, but the exact floor division's intermediates
    (``a % b + b``, ``a - remainder``) overflow, and DuckDB raises instead of answering."""
    assert -(2**63) <= a // b < 2**63
    series = qm.Function(qm.Op.FLOORDIV, (qm.SelectColumn(P, "i1"), qm.SelectColumn(P, "i2")))
    check_engine_agrees({"v": series}, {1: _p_row(1, i1=a, i2=b)}, {})


NOT_B1 = qm.Function(qm.Op.NOT, (qm.SelectColumn(P, "b1"),))
IS_NOT_NULL_B1 = qm.Function(qm.Op.NOT, (qm.Function(qm.Op.IS_NULL, (qm.SelectColumn(P, "b1"),)),))


@pytest.mark.parametrize(
    "series",
    [
        pytest.param(qm.Function(qm.Op.IS_NULL, (NOT_B1,)), id="(~b1).is_null()"),
        pytest.param(
            qm.Function(qm.Op.IS_NULL, (IS_NOT_NULL_B1,)), id="b1.is_not_null().is_null()"
        ),
        *(
            pytest.param(
                qm.Function(op, (NOT_B1, qm.SelectColumn(P, "b2"))), id=f"~b1 {op.name} b2"
            )
            for op in (qm.Op.LT, qm.Op.LE, qm.Op.GT, qm.Op.GE)
        ),
    ],
)
def test_a_negation_inside_another_operation(series: qm.Series) -> None:
    """``(~p.b1).is_null()``, ``(~p.b1) < p.b2`` and the like.

    The SQL Ibis writes for the negation has no parentheses: ``NOT x IS NULL`` and
    ``NOT x < y``, which SQL parses as ``NOT (x IS NULL)`` and ``NOT (x < y)``. For
    ``(~p.b1).is_null()`` every patient gets the wrong answer. (Found by applying every
    operation to every other over p's columns; nothing else disagreed.)
    """
    p_rows = {
        1: _p_row(1),
        2: _p_row(2, b1=True, b2=False),
        3: _p_row(3, b1=False, b2=True),
        4: _p_row(4, b1=True, b2=True),
        5: _p_row(5, b1=False, b2=False),
    }
    check_engine_agrees({"v": series}, p_rows, {})
