"""Running a compiled dataset on a database, and showing its SQL.

Results stream out as Arrow record batches, so memory stays bounded however many patients there
are: the database does the work and hands over one batch at a time.
"""

from __future__ import annotations

from typing import Any

import ibis
import ibis.expr.operations as ops
import ibis.expr.types as ir
import pyarrow as pa
import sqlglot

import fedsafe.engines.dialects  # noqa: F401  (teaches Ibis's compilers our dialect rules)
from fedsafe.engines.compiler import PATIENT_ID, Compiler, arrow_type, ibis_type
from fedsafe.errors import FedsafeError
from fedsafe.query_model import nodes as qm

DEFAULT_BATCH_SIZE = 100_000

# Dialects whose SQL we can print; executed engines are a subset.
SQL_DIALECTS = ("duckdb", "sqlite", "postgres", "pyspark", "mssql", "trino")


class QueryTooComplexError(FedsafeError):
    """An engine's SQL parser cannot take a query this deeply nested (SQLite's has a limit)."""


class UnknownDialectError(FedsafeError):
    """A dialect name fedsafe does not know."""


def arrow_schema(dataset: qm.Dataset) -> pa.Schema:
    """The output columns: ``patient_id`` then each variable, with its logical type."""
    fields = [pa.field(PATIENT_ID, pa.int64(), nullable=False)]
    fields += [pa.field(name, arrow_type(series.type)) for name, series in dataset.variables]
    return pa.schema(fields)


def register_in_memory_tables(backend: Any, expr: ir.Expr) -> None:
    """Hand Spark the expression's in-memory tables (intervals, codelists, inline tables) as Arrow.

    Ibis registers them with Spark through pandas, and under pandas 3 that loses NULLs in an
    integer column (the whole column reads back NULL: pandas stores it as float with NaN) and
    turns a NULL string into the text 'NaN'. Spark 4 reads Arrow directly, keeping every type
    and NULL, so fedsafe registers them itself before Ibis looks; other engines need nothing.
    Tables Ibis knows as registered are not registered again.
    """
    if getattr(backend, "name", None) != "pyspark":
        return
    known = backend._memtables
    for op in expr.op().find(ops.InMemoryTable):
        if op in known:
            continue
        frame = backend._session.createDataFrame(op.data.to_pyarrow(op.schema))
        frame.createOrReplaceTempView(op.name)
        known.add(op)


def _bound_loader(backend: ibis.BaseBackend):
    cache: dict[str, ibis.Table] = {}

    def load(table: qm.SelectTable | qm.SelectPatientTable) -> ibis.Table:
        if table.name not in cache:
            cache[table.name] = backend.table(table.name)
        return cache[table.name]

    return load


def _unbound_loader(table: qm.SelectTable | qm.SelectPatientTable) -> ibis.Table:
    schema = {PATIENT_ID: "int64"}
    schema.update({c.name: ibis_type(c.type) for c in table.schema.columns})
    return ibis.table(schema, name=table.name)


def compile_dataset(
    dataset: qm.Dataset,
    backend: ibis.BaseBackend | None = None,
    load_table: Any = None,
    dialect: str | None = None,
) -> ibis.Table:
    """The Ibis expression for a dataset, over ``backend``'s tables (or unbound ones).

    ``load_table`` replaces the default of reading each logical table by its own name: a
    backend's mapping passes one that builds logical tables from its physical ones.
    """
    if load_table is None:
        load_table = _bound_loader(backend) if backend is not None else _unbound_loader
    if dialect is None and backend is not None:
        dialect = backend.name
    return Compiler(load_table, dialect=dialect).dataset(dataset)


def run_dataset(
    dataset: qm.Dataset,
    backend: ibis.BaseBackend,
    batch_size: int = DEFAULT_BATCH_SIZE,
    load_table: Any = None,
) -> pa.RecordBatchReader:
    """Execute a dataset and stream its rows as Arrow batches with the dataset's schema."""
    expr = compile_dataset(dataset, backend, load_table)
    schema = arrow_schema(dataset)
    register_in_memory_tables(backend, expr)
    try:
        reader = backend.to_pyarrow_batches(expr, chunk_size=batch_size)
    except Exception as exc:
        if "parser stack overflow" in str(exc):
            raise QueryTooComplexError(
                f"this query is nested too deeply for {backend.name}'s SQL parser, which has a "
                "fixed limit on nesting; split the longest expression into simpler variables, "
                "or run it on another engine"
            ) from exc
        raise

    def batches():
        for batch in reader:
            yield pa.RecordBatch.from_arrays(
                [batch.column(i).cast(schema.field(i).type) for i in range(len(schema))],
                schema=schema,
            )

    return pa.RecordBatchReader.from_batches(schema, batches())


def dataset_sql(dataset: qm.Dataset, dialect: str = "duckdb") -> str:
    """The SQL a dataset compiles to, pretty-printed, in ``dialect``."""
    if dialect not in SQL_DIALECTS:
        raise UnknownDialectError(
            f"Unknown SQL dialect {dialect!r}: choose one of {', '.join(SQL_DIALECTS)}"
        )
    return sql_for(dataset, dialect)


def sql_for(dataset: qm.Dataset, dialect: str, load_table: Any = None) -> str:
    """The SQL for a dataset in ``dialect``, over unbound tables or those ``load_table`` gives."""
    expr = compile_dataset(dataset, None, load_table, dialect)
    ibis_dialect = {"pyspark": "spark"}.get(dialect, dialect)
    sql = ibis.to_sql(expr, dialect=ibis_dialect)
    target = {"pyspark": "spark", "mssql": "tsql"}.get(dialect, dialect)
    return sqlglot.transpile(str(sql), read=target, write=target, pretty=True)[0]
