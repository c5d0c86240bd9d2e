"""Compile a query model into one Ibis expression.

The shape of the query:

* the *universe* is every patient in the tables the population reads;
* each patient-level *source* (a patient table, a picked row, an aggregate) becomes a table with
  one row per patient, left-joined onto the universe;
* row-level work happens on one many-rows table at a time, with the patient-level values it
  needs joined on, and frames' filters as a row's *presence* condition.

Where SQL engines disagree (date arithmetic, integer division, GREATEST with NULLs, casts) the
expression is built from primitives that behave the same everywhere, so every engine Ibis
supports computes ehrQL's documented answer.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from fedsafe.query_model import nodes as qm
from fedsafe.query_model.types import is_code_type

# Above this many values, ``is_in`` reads a table of values instead of an inline IN list, so a
# codelist of 10,000 codes does not become 10,000 SQL literals.
INLINE_VALUES_LIMIT = 50

PATIENT_ID = "patient_id"


def ibis_type(type_: type) -> str:
    if type_ is bool:
        return "boolean"
    if type_ is int:
        return "int64"
    if type_ is float:
        return "float64"
    if type_ is datetime.date:
        return "date"
    if type_ is str or is_code_type(type_):
        return "string"
    raise TypeError(f"no database type for {type_!r}")


def arrow_type(type_: type) -> pa.DataType:
    return {
        "boolean": pa.bool_(),
        "int64": pa.int64(),
        "float64": pa.float64(),
        "date": pa.date32(),
        "string": pa.string(),
    }[ibis_type(type_)]


def literal(value: Any) -> ir.Value:
    type_ = type(value)
    if is_code_type(type_):
        return ibis.literal(value.value, type="string")
    return ibis.literal(value, type=ibis_type(type_))


def null(type_: type) -> ir.Value:
    return ibis.null(ibis_type(type_))


TableLoader = Callable[[qm.SelectTable | qm.SelectPatientTable], ir.Table]


@dataclass
class _Joined:
    """A table with patient-level sources joined on, and where each source's columns went."""

    table: ir.Table
    columns: dict[tuple[qm.Node, str], str]


class Compiler:
    """Turns query-model nodes into Ibis expressions over the tables ``load_table`` returns.

    One compiler serves one query: it remembers the table it built for each patient-level
    source so that a source used by several variables is computed once.
    """

    def __init__(self, load_table: TableLoader) -> None:
        self._load_table = load_table
        self._source_tables: dict[qm.Node, ir.Table] = {}
        self._counter = 0

    def _name(self, prefix: str) -> str:
        self._counter += 1
        return f"{prefix}{self._counter}"

    # ---------------------------------------------------------------------------------------
    # The dataset

    def dataset(self, dataset: qm.Dataset) -> ir.Table:
        universe = self.universe(dataset.population)
        series = [dataset.population] + [s for _, s in dataset.variables]
        joined = self._join_sources(universe, series)
        table = joined.table
        population = self.expr(dataset.population, joined, None)
        table = table.filter(population.fill_null(False))
        # Re-bind the expressions to the filtered table: same columns, so compile again.
        joined = _Joined(table, joined.columns)
        selections = {PATIENT_ID: table[PATIENT_ID]}
        for name, variable in dataset.variables:
            selections[name] = self.expr(variable, joined, None).cast(ibis_type(variable.type))
        return table.select(**selections).order_by(PATIENT_ID)

    def universe(self, population: qm.Series) -> ir.Table:
        tables = sorted(qm.tables_used(population).values(), key=lambda t: t.name)
        if not tables:
            raise qm.QueryModelError(
                "The population does not read any table, so there are no patients to choose "
                "from: base it on a table, e.g. practice_registrations"
            )
        ids = [self._load_table(t).select(PATIENT_ID) for t in tables]
        union = ids[0] if len(ids) == 1 else ibis.union(*ids, distinct=True)
        return union.distinct() if len(ids) == 1 else union

    # ---------------------------------------------------------------------------------------
    # Patient-level sources

    def _sources_in(self, series: qm.Node, root: qm.SelectTable | None) -> Iterator[qm.Node]:
        """Patient-level sources an expression reads, not looking inside the sources."""
        stack = [series]
        seen: set[qm.Node] = set()
        while stack:
            node = stack.pop()
            if node in seen:
                continue
            seen.add(node)
            if isinstance(node, qm.Aggregate):
                yield node
            elif isinstance(node, qm.SelectColumn):
                if isinstance(node.source, qm.OneRowPerPatientFrame):
                    yield node.source
                elif root is not None:
                    # Row-level column: its frame's filters are part of the expression's rows.
                    stack.extend(qm.frame_filters(node.source))
            elif isinstance(node, qm.Function | qm.Case):
                stack.extend(node.children())

    def _join_sources(
        self, base: ir.Table, series: list[qm.Node], root: qm.SelectTable | None = None
    ) -> _Joined:
        sources: list[qm.Node] = []
        for s in series:
            for source in self._sources_in(s, root):
                if source not in sources:
                    sources.append(source)
        columns: dict[tuple[qm.Node, str], str] = {}
        table = base
        for source in sources:
            source_table = self.source_table(source)
            prefix = self._name("s")
            renamed = source_table.rename({f"{prefix}_{c}": c for c in source_table.columns})
            key = f"{prefix}_{PATIENT_ID}"
            table = table.left_join(renamed, table[PATIENT_ID] == renamed[key])
            for column in source_table.columns:
                if column != PATIENT_ID:
                    columns[(source, column)] = f"{prefix}_{column}"
        return _Joined(table, columns)

    def source_table(self, source: qm.Node) -> ir.Table:
        """One row per patient: ``patient_id`` plus the source's value column(s)."""
        if source not in self._source_tables:
            if isinstance(source, qm.SelectPatientTable):
                table = self._load_table(source)
                built = table.select(PATIENT_ID, *source.schema.column_names).mutate(
                    __exists__=ibis.literal(True)
                )
            elif isinstance(source, qm.PickOneRowPerPatient):
                built = self._pick(source)
            elif isinstance(source, qm.Aggregate):
                built = self._aggregate(source)
            else:  # pragma: no cover - the query model admits no other sources
                raise AssertionError(f"not a patient-level source: {source!r}")
            self._source_tables[source] = built
        return self._source_tables[source]

    def _rows(self, frame: qm.ManyRowsFrame, extra: list[qm.Node]) -> tuple[ir.Table, _Joined]:
        """The rows of ``frame``'s root with the patient values ``extra`` needs, and presence."""
        root = frame.root
        base = self._load_table(root)
        filters = list(qm.frame_filters(frame))
        joined = self._join_sources(base, filters + extra, root)
        table = joined.table
        if filters:
            table = table.filter(
                *(self.expr(condition, joined, root).fill_null(False) for condition in filters)
            )
        return table, _Joined(table, joined.columns)

    def _pick(self, source: qm.PickOneRowPerPatient) -> ir.Table:
        frame = source.source
        keys = list(qm.frame_sorts(frame))
        table, joined = self._rows(frame, keys)
        columns = list(frame.root.schema.column_names)
        first = source.position is qm.Position.FIRST
        order = []
        sort_exprs = [self.expr(k, joined, frame.root) for k in keys]
        # Ties on the sort keys are broken by the remaining columns, so every engine picks the
        # same row and reruns give the same answer.
        sort_exprs += [table[c] for c in columns]
        for expr in sort_exprs:
            order.append(
                ibis.asc(expr, nulls_first=True) if first else ibis.desc(expr, nulls_first=False)
            )
        ranked = table.mutate(
            __rank__=ibis.row_number().over(group_by=table[PATIENT_ID], order_by=order)
        )
        picked = ranked.filter(ranked["__rank__"] == 0)
        return picked.select(PATIENT_ID, *columns).mutate(__exists__=ibis.literal(True))

    def _aggregate(self, source: qm.Aggregate) -> ir.Table:
        op = source.op
        if op is qm.AggOp.EXISTS and isinstance(source.source, qm.OneRowPerPatientFrame):
            table = self.source_table(source.source)
            return table.select(PATIENT_ID, value=ibis.literal(True))
        if op in (qm.AggOp.EXISTS, qm.AggOp.COUNT):
            frame = source.source
            assert isinstance(frame, qm.ManyRowsFrame)
            table, _ = self._rows(frame, [])
            grouped = table.group_by(PATIENT_ID)
            if op is qm.AggOp.EXISTS:
                return grouped.aggregate(value=ibis.literal(True))
            return grouped.aggregate(value=table.count())
        series = source.source
        assert isinstance(series, qm.Series) and series.domain.root is not None
        frame = _frame_of(series)
        table, joined = self._rows(frame, [series])
        value = self.expr(series, joined, frame.root)
        table = table.mutate(__value__=value)
        column = table["__value__"]
        aggregated = {
            qm.AggOp.COUNT_DISTINCT: lambda: column.nunique(),
            qm.AggOp.MIN: lambda: column.min(),
            qm.AggOp.MAX: lambda: column.max(),
            qm.AggOp.SUM: lambda: column.sum(),
            qm.AggOp.MEAN: lambda: column.cast("float64").mean(),
        }[op]()
        return table.group_by(PATIENT_ID).aggregate(value=aggregated)

    # ---------------------------------------------------------------------------------------
    # Expressions

    def expr(self, node: qm.Node, joined: _Joined, root: qm.SelectTable | None) -> ir.Value:
        method = getattr(self, f"_expr_{type(node).__name__}")
        return method(node, joined, root)

    def _expr_Value(self, node: qm.Value, joined: _Joined, root: Any) -> ir.Value:
        return literal(node.value)

    def _expr_SelectColumn(self, node: qm.SelectColumn, joined: _Joined, root: Any) -> ir.Value:
        if isinstance(node.source, qm.ManyRowsFrame):
            return joined.table[node.name]
        return joined.table[joined.columns[(node.source, node.name)]]

    def _expr_Aggregate(self, node: qm.Aggregate, joined: _Joined, root: Any) -> ir.Value:
        value = joined.table[joined.columns[(node, "value")]]
        if node.op is qm.AggOp.EXISTS:
            return value.fill_null(False)
        if node.op in (qm.AggOp.COUNT, qm.AggOp.COUNT_DISTINCT):
            return value.fill_null(0)
        return value

    def _expr_Case(self, node: qm.Case, joined: _Joined, root: Any) -> ir.Value:
        type_ = ibis_type(node.type)
        branches = []
        for condition, value in node.cases:
            then = null(node.type) if value is None else self.expr(value, joined, root)
            branches.append((self.expr(condition, joined, root).fill_null(False), then.cast(type_)))
        default = null(node.type) if node.default is None else self.expr(node.default, joined, root)
        return ibis.cases(*branches, else_=default.cast(type_))

    def _expr_Function(self, node: qm.Function, joined: _Joined, root: Any) -> ir.Value:
        if node.op is qm.Op.IN:
            return self._is_in(self.expr(node.args[0], joined, root), node.args[1])
        args = [self.expr(a, joined, root) for a in node.args]
        return FUNCTIONS[node.op](*args)

    def _is_in(self, value: ir.Value, values: qm.ValueSet) -> ir.Value:
        raw = [v.value if is_code_type(values.type) else v for v in values.values]
        if not raw:
            return ibis.ifelse(value.isnull(), ibis.null("boolean"), ibis.literal(False))
        if len(raw) <= INLINE_VALUES_LIMIT:
            return value.isin(raw)
        column = pa.array(raw, type=arrow_type(values.type))
        table = ibis.memtable(pa.table({"value": column}), name=self._name("values_"))
        return value.isin(table["value"])


def _frame_of(series: qm.Series) -> qm.ManyRowsFrame:
    """The frame whose rows a row-level series ranges over: its root, filtered as its columns are.

    Series from several frames of one root are combined row by row; a row takes part only where
    every frame it reads has it, so the filters of all of them apply.
    """
    root = series.domain.root
    assert root is not None
    frame: qm.ManyRowsFrame = root
    conditions: list[qm.Series] = []
    for node in qm.walk(series):
        if isinstance(node, qm.SelectColumn) and isinstance(node.source, qm.ManyRowsFrame):
            for condition in qm.frame_filters(node.source):
                if condition not in conditions:
                    conditions.append(condition)
    for condition in conditions:
        frame = qm.Filter(frame, condition)
    return frame


# ---------------------------------------------------------------------------------------------
# Operations built from primitives every engine agrees on


def _floordiv(a: ir.NumericValue, b: ir.NumericValue) -> ir.Value:
    quotient = a.cast("float64") / b.nullif(0).cast("float64")
    return quotient.floor().cast("int64")


def _truediv(a: ir.NumericValue, b: ir.NumericValue) -> ir.Value:
    return a.cast("float64") / b.nullif(0).cast("float64")


def _cast_to_int(a: ir.Value) -> ir.Value:
    if a.type().is_boolean():
        return ibis.ifelse(a, 1, 0).cast("int64")
    if a.type().is_floating():
        return ibis.ifelse(a >= 0, a.floor(), a.ceil()).cast("int64")
    return a.cast("int64")


def _add_days(date: ir.DateValue, n: ir.IntegerValue) -> ir.Value:
    return (date + n.cast("int64").as_interval("D")).cast("date")


def _add_months(date: ir.DateValue, n: ir.IntegerValue) -> ir.Value:
    # First of the target month plus (day - 1) days: a day the month lacks rolls into the
    # next month, which is ehrQL's documented "round up" rule.
    index = date.year().cast("int64") * 12 + (date.month().cast("int64") - 1) + n.cast("int64")
    year = (index.cast("float64") / 12).floor().cast("int64")
    month = index - year * 12 + 1
    first = ibis.date(year, month, ibis.literal(1))
    return _add_days(first, date.day().cast("int64") - 1)


def _month_day(date: ir.DateValue) -> ir.Value:
    return date.month().cast("int64") * 100 + date.day().cast("int64")


def _diff_months(end: ir.DateValue, start: ir.DateValue) -> ir.Value:
    def forwards(later: ir.DateValue, earlier: ir.DateValue) -> ir.Value:
        months = (later.year().cast("int64") - earlier.year().cast("int64")) * 12 + (
            later.month().cast("int64") - earlier.month().cast("int64")
        )
        return months - ibis.ifelse(later.day() < earlier.day(), 1, 0)

    return ibis.ifelse(end >= start, forwards(end, start), -forwards(start, end))


def _diff_years(end: ir.DateValue, start: ir.DateValue) -> ir.Value:
    def forwards(later: ir.DateValue, earlier: ir.DateValue) -> ir.Value:
        years = later.year().cast("int64") - earlier.year().cast("int64")
        return years - ibis.ifelse(_month_day(later) < _month_day(earlier), 1, 0)

    return ibis.ifelse(end >= start, forwards(end, start), -forwards(start, end))


def _extreme(pick: Callable[..., ir.Value]) -> Callable[..., ir.Value]:
    # GREATEST/LEAST treat NULL differently across engines; replacing each NULL by another
    # argument first makes "ignore NULLs, NULL only if all are NULL" hold everywhere.
    def apply(*args: ir.Value) -> ir.Value:
        filled = [ibis.coalesce(a, *(b for b in args if b is not a)) for a in args]
        return pick(*filled)

    return apply


FUNCTIONS: dict[qm.Op, Callable[..., ir.Value]] = {
    qm.Op.EQ: lambda a, b: a == b,
    qm.Op.NE: lambda a, b: a != b,
    qm.Op.LT: lambda a, b: a < b,
    qm.Op.LE: lambda a, b: a <= b,
    qm.Op.GT: lambda a, b: a > b,
    qm.Op.GE: lambda a, b: a >= b,
    qm.Op.AND: lambda a, b: a & b,
    qm.Op.OR: lambda a, b: a | b,
    qm.Op.NOT: lambda a: ~a,
    qm.Op.IS_NULL: lambda a: a.isnull(),
    qm.Op.COALESCE: lambda a, b: ibis.coalesce(a, b),
    qm.Op.ADD: lambda a, b: a + b,
    qm.Op.SUB: lambda a, b: a - b,
    qm.Op.MUL: lambda a, b: a * b,
    qm.Op.TRUEDIV: _truediv,
    qm.Op.FLOORDIV: _floordiv,
    qm.Op.NEG: lambda a: -a,
    qm.Op.CAST_TO_INT: _cast_to_int,
    qm.Op.CAST_TO_FLOAT: lambda a: a.cast("float64"),
    qm.Op.STR_CONTAINS: lambda a, b: a.contains(b),
    qm.Op.YEAR: lambda d: d.year().cast("int64"),
    qm.Op.MONTH: lambda d: d.month().cast("int64"),
    qm.Op.DAY: lambda d: d.day().cast("int64"),
    qm.Op.TO_FIRST_OF_MONTH: lambda d: ibis.date(d.year(), d.month(), ibis.literal(1)),
    qm.Op.TO_FIRST_OF_YEAR: lambda d: ibis.date(d.year(), ibis.literal(1), ibis.literal(1)),
    qm.Op.DATE_ADD_DAYS: _add_days,
    qm.Op.DATE_ADD_MONTHS: _add_months,
    qm.Op.DATE_ADD_YEARS: lambda d, n: _add_months(d, n * 12),
    qm.Op.DATE_DIFF_DAYS: lambda a, b: a.delta(b, unit="day").cast("int64"),
    qm.Op.DATE_DIFF_MONTHS: _diff_months,
    qm.Op.DATE_DIFF_YEARS: _diff_years,
    qm.Op.MAXIMUM_OF: _extreme(ibis.greatest),
    qm.Op.MINIMUM_OF: _extreme(ibis.least),
}
