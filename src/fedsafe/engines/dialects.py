"""The few operations Ibis cannot express the same way on every engine, one rule per dialect.

Ibis compiles ``//`` through floating point (``FLOOR(a / b)``), which loses precision beyond
2**53, and has no exact truncating integer division. Every engine has one, under different
spellings, so fedsafe adds one small Ibis operation, :class:`TruncatingDivide`, and tells each
SQL compiler how to write it:

* DuckDB: ``a // b`` (its ``/`` is float division);
* Spark: ``a DIV b`` (its ``/`` is float division);
* SQLite, PostgreSQL, SQL Server, Trino: ``a / b``, which on two integers truncates towards
  zero.

SQLite's ``date(d, '+N days')`` needs no modifier, but Ibis adds ``floor`` (SQLite 3.46+ only)
to every day shift; Debian 12's SQLite is 3.40, so whole days are written without it.

Ibis builds a SQLite date from parts with ``printf``, which prints NULL as 0 (giving the year 0
instead of NULL), so a NULL part makes the date NULL explicitly.

Ibis writes ``(x IS NULL) IS NULL`` and ``(x IN (...)) IS NULL`` without the parentheses,
which Spark refuses to parse; the operand of IS [NOT] NULL is always parenthesised.

A float constant such as ``0.0`` is DECIMAL/NUMERIC to PostgreSQL, DuckDB, SQL Server and
Trino, so ``0.0 * 0.25`` came back as a Decimal; float constants are cast to DOUBLE.

SQLite's parser stack (depth 100 in 3.40) overflows on the portable month arithmetic nested
two or three deep, so on SQLite months are added with its own ``date(d, 'N months')``: it
rolls a missing day over into the next month (31 Jan + 1 month = 2 or 3 March), and a result
whose day changed is moved to the 1st of its month, which is ehrQL's round-up rule. The compiler
asks for this when it knows it is compiling for SQLite.

``x IN (...)`` is written in parentheses: SQLite gives ``=`` and ``IN`` the same precedence,
so ``FALSE = d IN ('1999-01-01')`` meant ``(FALSE = d) IN (...)``.

This module is the whole per-dialect layer: everything else is built from primitives every
engine already agrees on (see ``compiler.py``).
"""

from __future__ import annotations

import ibis
import ibis.expr.datashape as ds
import ibis.expr.datatypes as dt
import ibis.expr.operations as ops
import ibis.expr.types as ir
import sqlglot.expressions as sge
from ibis.backends.sql.compilers.base import SQLGlotCompiler
from ibis.common.annotations import attribute

__all__ = ["TruncatingDivide", "sqlite_add_months", "truncating_divide"]


class TruncatingDivide(ops.Value):
    """Integer division rounding towards zero, exact for every 64-bit value."""

    left: ops.Value[dt.Integer]
    right: ops.Value[dt.Integer]

    dtype = dt.int64

    @attribute
    def shape(self) -> ds.DataShape:
        return max(self.left.shape, self.right.shape)


def truncating_divide(left: ir.IntegerValue, right: ir.IntegerValue) -> ir.IntegerValue:
    return TruncatingDivide(left, right).to_expr()  # type: ignore[return-value]


def _slash(
    self: SQLGlotCompiler, op: TruncatingDivide, *, left: sge.Expression, right: sge.Expression
):
    return sge.Div(this=sge.paren(left), expression=sge.paren(right), typed=True)


def _int_div(
    self: SQLGlotCompiler, op: TruncatingDivide, *, left: sge.Expression, right: sge.Expression
):
    return sge.IntDiv(this=sge.paren(left), expression=sge.paren(right))


def _sqlite_date_shift(original):
    def visit(self, op, *, left, right):
        if op.right.dtype.unit.short == "D" and op.left.dtype.is_date():
            sign = 1 if isinstance(op, ops.DateAdd) else -1
            days = sge.paren(sge.Mul(this=sge.paren(right.this), expression=sge.convert(sign)))
            # || keeps NULL NULL (printf would turn it into +0).
            return self.f.date(left, sge.DPipe(this=days, expression=sge.convert(" days")))
        return original(self, op, left=left, right=right)

    return visit


def _sqlite_date_from_parts(self, op, *, year, month, day):
    date = self.f.date(self.f.printf("%04d-%02d-%02d", year, month, day))
    missing = sge.or_(*(sge.Is(this=part, expression=sge.Null()) for part in (year, month, day)))
    return self.if_(missing, sge.Null(), date)


def _is_null(self, op, *, arg):
    return sge.Is(this=sge.paren(arg), expression=sge.Null())


def _not_null(self, op, *, arg):
    return sge.Is(this=sge.paren(arg), expression=sge.Not(this=sge.Null()))


def _float_literals(original):
    def visit(self, op, *, value, dtype):
        result = original(self, op, value=value, dtype=dtype)
        if value is None or not dtype.is_floating() or isinstance(result, sge.Cast):
            return result
        return self.cast(result, dt.float64)

    return visit


@ibis.udf.scalar.builtin(name="date")
def _sqlite_date(d: dt.Date, modifier: dt.String) -> dt.Date:  # type: ignore[empty-body]
    """SQLite's ``date(d, modifier)``."""


def sqlite_add_months(date: ir.DateValue, n: ir.IntegerValue) -> ir.DateValue:
    """``date`` + ``n`` calendar months on SQLite, a missing day rolling up to the 1st."""
    shifted = _sqlite_date(date, n.cast("string").concat(" months"))
    start_of_month = _sqlite_date(shifted, ibis.literal("start of month"))
    return ibis.ifelse(shifted.day() == date.day(), shifted, start_of_month)  # type: ignore[return-value]


def _in_values(self, op, *, value, options):
    return sge.paren(sge.paren(value).isin(*options))


def _register() -> None:
    SQLGlotCompiler.visit_InValues = _in_values  # type: ignore[method-assign]
    SQLGlotCompiler.visit_Literal = _float_literals(SQLGlotCompiler.visit_Literal)  # type: ignore[method-assign]

    from ibis.backends.sql.compilers import DuckDBCompiler, PySparkCompiler, SQLiteCompiler

    SQLiteCompiler.visit_DateFromYMD = _sqlite_date_from_parts  # type: ignore[method-assign]
    SQLiteCompiler.visit_DateAdd = _sqlite_date_shift(SQLiteCompiler.visit_DateAdd)  # type: ignore[method-assign]
    SQLiteCompiler.visit_DateSub = _sqlite_date_shift(SQLiteCompiler.visit_DateSub)  # type: ignore[method-assign]
    # PySpark's own rule also counts NaN as NULL; fedsafe's semantics do not.
    for compiler in (SQLGlotCompiler, PySparkCompiler):
        compiler.visit_IsNull = _is_null  # type: ignore[method-assign]
        compiler.visit_NotNull = _not_null  # type: ignore[method-assign]
    SQLGlotCompiler.visit_TruncatingDivide = _slash  # type: ignore[attr-defined]
    DuckDBCompiler.visit_TruncatingDivide = _int_div  # type: ignore[attr-defined]
    PySparkCompiler.visit_TruncatingDivide = _int_div  # type: ignore[attr-defined]


_register()
