"""Compiling and running measures: every measure, every interval, one query.

The shape of the query:

* an *interval table* holds each distinct interval once (id, start, end);
* the *universe* is every patient in the tables the denominators read, once per interval, so
  that ``INTERVAL`` is a column like any other; sources that read ``INTERVAL`` are computed per
  (patient, interval), the others once per patient (see :class:`Compiler`);
* each (patient, interval) row is joined to the measures that use that interval, and each
  measure's numerator, denominator and groups are picked out with a CASE on the measure;
* one GROUP BY over (measure, interval, groups) sums numerators and denominators.

So the database reads each table once, not once per interval and measure; the per-interval
version (:func:`run_measures_per_interval`) exists as the reference that checks this one and as
the benchmark's baseline.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import Any

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from fedsafe.engines.compiler import (
    INTERVAL_END,
    INTERVAL_ID,
    INTERVAL_START,
    PATIENT_ID,
    Compiler,
    TableLoader,
    arrow_type,
    ibis_type,
)
from fedsafe.engines.execute import _bound_loader, compile_dataset, register_in_memory_tables
from fedsafe.query_model import nodes as qm
from fedsafe.query_model.intervals import substitute_interval

MEASURE_ID = "__measure__"


def measures_schema(measures: qm.Measures) -> pa.Schema:
    """The long-format table: ``measure, interval_start, interval_end, ratio, numerator,
    denominator``, then every group column (NULL in rows of measures that don't use it)."""
    fields = [
        pa.field("measure", pa.string(), nullable=False),
        pa.field("interval_start", pa.date32(), nullable=False),
        pa.field("interval_end", pa.date32(), nullable=False),
        pa.field("ratio", pa.float64()),
        pa.field("numerator", pa.int64(), nullable=False),
        pa.field("denominator", pa.int64(), nullable=False),
    ]
    fields += [pa.field(name, arrow_type(type_)) for name, type_ in measures.group_columns]
    return pa.schema(fields)


def interval_table(measures: qm.Measures) -> pa.Table:
    intervals = measures.intervals
    return pa.table(
        {
            INTERVAL_ID: pa.array(range(len(intervals)), pa.int64()),
            INTERVAL_START: pa.array([start for start, _ in intervals], pa.date32()),
            INTERVAL_END: pa.array([end for _, end in intervals], pa.date32()),
        }
    )


def _membership_table(measures: qm.Measures) -> pa.Table:
    """(measure, interval) for each interval a measure is evaluated over."""
    ids = {interval: index for index, interval in enumerate(measures.intervals)}
    pairs = [(m, ids[i]) for m, measure in enumerate(measures.measures) for i in measure.intervals]
    return pa.table(
        {
            MEASURE_ID: pa.array([m for m, _ in pairs], pa.int64()),
            "__member_interval__": pa.array([i for _, i in pairs], pa.int64()),
        }
    )


def compile_measures(
    measures: qm.Measures, load_table: TableLoader, dialect: str | None = None
) -> ir.Table:
    """One Ibis expression computing the whole measures table."""
    intervals = ibis.memtable(interval_table(measures))
    compiler = Compiler(load_table, intervals=intervals, dialect=dialect)
    compiler.plan(measures)
    population = functools.reduce(
        lambda a, b: qm.Function(qm.Op.OR, (a, b)), [m.counted for m in measures.measures]
    )
    base = compiler.universe(population).cross_join(intervals)
    series: list[qm.Node] = []
    for measure in measures.measures:
        series += [measure.numerator, measure.counted]
        series += [s for _, s in measure.group_by]
    joined = compiler.join_sources(base, series)

    # Each measure's values as columns of the (patient, interval) row.
    per_measure: dict[str, ir.Value] = {}
    for index, measure in enumerate(measures.measures):
        per_measure[f"__n{index}"] = _as_count(compiler.expr(measure.numerator, joined, None))
        per_measure[f"__d{index}"] = _as_count(compiler.expr(measure.denominator, joined, None))
        per_measure[f"__in{index}"] = compiler.expr(measure.counted, joined, None).fill_null(False)
        for name, group in measure.group_by:
            value = compiler.expr(group, joined, None).cast(ibis_type(group.type))
            per_measure[f"__g{index}_{name}"] = value
    rows = joined.table.select(INTERVAL_ID, **per_measure)

    # Each row once per measure evaluated over its interval; pick that measure's values.
    members = ibis.memtable(_membership_table(measures))
    rows = rows.inner_join(members, rows[INTERVAL_ID] == members["__member_interval__"])
    measure_id = rows[MEASURE_ID]

    def pick(column: str, indexes: list[int], type_: str) -> ir.Value:
        branches = [(measure_id == i, rows[column.format(i=i)]) for i in indexes]
        return ibis.cases(*branches, else_=ibis.null(type_))

    every = list(range(len(measures.measures)))
    picked: dict[str, ir.Value] = {
        "__counted__": pick("__in{i}", every, "boolean"),
        "__numerator__": pick("__n{i}", every, "int64"),
        "__denominator__": pick("__d{i}", every, "int64"),
    }
    for name, type_ in measures.group_columns:
        users = [i for i, m in enumerate(measures.measures) if name in dict(m.group_by)]
        picked[name] = pick(f"__g{{i}}_{name}", users, ibis_type(type_))
    rows = rows.select(MEASURE_ID, INTERVAL_ID, **picked)
    rows = rows.filter(rows["__counted__"])

    group_names = [name for name, _ in measures.group_columns]
    totals = rows.group_by([MEASURE_ID, INTERVAL_ID, *group_names]).aggregate(
        numerator=rows["__numerator__"].sum().cast("!int64"),
        denominator=rows["__denominator__"].sum().cast("!int64"),
    )
    totals = totals.inner_join(intervals, totals[INTERVAL_ID] == intervals[INTERVAL_ID])
    names = ibis.cases(
        *((totals[MEASURE_ID] == i, m.name) for i, m in enumerate(measures.measures)),
        else_=ibis.null("string"),
    )
    numerator = totals["numerator"]
    denominator = totals["denominator"]
    result = totals.select(
        MEASURE_ID,
        measure=names,
        interval_start=totals[INTERVAL_START],
        interval_end=totals[INTERVAL_END],
        ratio=numerator.cast("float64") / denominator.nullif(0).cast("float64"),
        numerator=numerator,
        denominator=denominator,
        **{name: totals[name] for name in group_names},
    )
    order = [result[MEASURE_ID], result["interval_start"]]
    order += [ibis.asc(result[name], nulls_first=True) for name in group_names]
    return result.order_by(order).drop(MEASURE_ID)


def _as_count(value: ir.Value) -> ir.Value:
    """A boolean as 1/0, an integer as itself; NULL counts as 0."""
    if value.type().is_boolean():
        return ibis.ifelse(value.fill_null(False), 1, 0).cast("int64")
    return value.fill_null(0).cast("int64")


def run_measures(measures: qm.Measures, backend: ibis.BaseBackend) -> pa.Table:
    """The measures table, computed by the database in one query."""
    expr = compile_measures(measures, _bound_loader(backend), dialect=backend.name)
    register_in_memory_tables(backend, expr)
    return _conform(backend.to_pyarrow(expr), measures_schema(measures))


def _conform(table: pa.Table, schema: pa.Schema) -> pa.Table:
    columns = [table.column(f.name).cast(f.type) for f in schema]
    return pa.Table.from_arrays(columns, schema=schema)


# ---------------------------------------------------------------------------------------------
# One query per measure and interval: the reference the one-pass query must agree with


def per_interval_queries(
    measures: qm.Measures,
) -> Iterator[tuple[qm.Measure, tuple[Any, Any], qm.Dataset]]:
    """For each measure and interval, a plain dataset with INTERVAL replaced by its dates.

    Its population is the patients the measure counts in that interval; its variables are the
    numerator, the denominator and the groups.
    """
    for measure in measures.measures:
        for start, end in measure.intervals:
            variables = [("n", measure.numerator), ("d", measure.denominator)]
            variables += [(f"g_{name}", series) for name, series in measure.group_by]
            fixed = [(name, substitute_interval(s, start, end)) for name, s in variables]
            population = substitute_interval(measure.counted, start, end)
            yield measure, (start, end), qm.Dataset(population, tuple(fixed))


def run_measures_per_interval(measures: qm.Measures, backend: ibis.BaseBackend) -> pa.Table:
    """The measures table computed with one database query per measure and interval."""
    schema = measures_schema(measures)
    group_names = [name for name, _ in measures.group_columns]
    rows: list[dict[str, Any]] = []
    for measure, (start, end), dataset in per_interval_queries(measures):
        patients = compile_dataset(dataset, backend)
        own = [name for name, _ in measure.group_by]
        counts = patients.mutate(n=_as_count(patients["n"]), d=_as_count(patients["d"]))
        sums = {
            "numerator": counts["n"].sum().cast("!int64"),
            "denominator": counts["d"].sum().cast("!int64"),
        }
        keys = [f"g_{name}" for name in own]
        totals = (
            counts.group_by(keys).aggregate(**sums)
            if keys
            else counts.aggregate(**sums).filter(ibis._["denominator"].notnull())
        )
        register_in_memory_tables(backend, totals)
        for row in backend.to_pyarrow(totals).to_pylist():
            denominator = row["denominator"]
            record = {
                "measure": measure.name,
                "interval_start": start,
                "interval_end": end,
                "ratio": row["numerator"] / denominator if denominator else None,
                "numerator": row["numerator"],
                "denominator": denominator,
            }
            record.update({name: row.get(f"g_{name}") for name in group_names})
            rows.append(record)
    return pa.Table.from_pylist(rows, schema=schema)


__all__ = [
    "PATIENT_ID",
    "compile_measures",
    "measures_schema",
    "run_measures",
    "run_measures_per_interval",
]
