"""Query model nodes written back as the ehrQL a researcher would recognise.

Used in messages about a definition (which condition no dummy patient met, why a test patient
is or isn't in the population), where a node's Python repr would be unreadable. The text is for
people: it is close to what was written, but not guaranteed to be valid code.
"""

from __future__ import annotations

import datetime
from typing import Any

from fedsafe.query_model import nodes as qm

_INFIX = {
    qm.Op.EQ: "==",
    qm.Op.NE: "!=",
    qm.Op.LT: "<",
    qm.Op.LE: "<=",
    qm.Op.GT: ">",
    qm.Op.GE: ">=",
    qm.Op.AND: "&",
    qm.Op.OR: "|",
    qm.Op.ADD: "+",
    qm.Op.SUB: "-",
    qm.Op.MUL: "*",
    qm.Op.TRUEDIV: "/",
    qm.Op.FLOORDIV: "//",
    qm.Op.POW: "**",
}
_DATE_UNITS = {
    qm.Op.DATE_ADD_DAYS: "days",
    qm.Op.DATE_ADD_MONTHS: "months",
    qm.Op.DATE_ADD_YEARS: "years",
}
_DIFF_UNITS = {
    qm.Op.DATE_DIFF_DAYS: "days",
    qm.Op.DATE_DIFF_MONTHS: "months",
    qm.Op.DATE_DIFF_YEARS: "years",
}
_METHODS = {
    qm.Op.IS_NULL: "is_null()",
    qm.Op.ABS: "absolute()",
    qm.Op.CAST_TO_INT: "as_int()",
    qm.Op.CAST_TO_FLOAT: "as_float()",
    qm.Op.YEAR: "year",
    qm.Op.MONTH: "month",
    qm.Op.DAY: "day",
    qm.Op.TO_FIRST_OF_MONTH: "to_first_of_month()",
    qm.Op.TO_FIRST_OF_YEAR: "to_first_of_year()",
}
MAX_LISTED = 3


def describe(node: Any, max_length: int | None = None) -> str:
    """``node`` as text close to the ehrQL that made it, cut short at ``max_length``."""
    text = _describe(node)
    if max_length is not None and len(text) > max_length:
        return text[: max_length - 3] + "..."
    return text


def _describe(node: Any) -> str:
    if isinstance(node, qm.Value):
        return _constant(node.value)
    if isinstance(node, qm.SelectTable | qm.SelectPatientTable):
        return node.name
    if isinstance(node, qm.InlinePatientTable):
        return "table_from_rows(...)"
    if isinstance(node, qm.Filter):
        return f"{_describe(node.source)}.where({_describe(node.condition)})"
    if isinstance(node, qm.Sort):
        return f"{_describe(node.source)}.sort_by({_describe(node.sort_by)})"
    if isinstance(node, qm.PickOneRowPerPatient):
        return f"{_describe(node.source)}.{node.position.value}_for_patient()"
    if isinstance(node, qm.SelectColumn):
        return f"{_column_owner(node.source)}.{node.name}"
    if isinstance(node, qm.Aggregate):
        name = {qm.AggOp.EXISTS: "exists", qm.AggOp.COUNT: "count"}.get(node.op, node.op.value)
        return f"{_describe(node.source)}.{name}_for_patient()"
    if isinstance(node, qm.CountEpisodes):
        return f"{_describe(node.source)}.count_episodes_for_patient(days({node.maximum_gap_days}))"
    if isinstance(node, qm.Case):
        return "case(...)"
    if isinstance(node, qm.Function):
        return _function(node)
    return type(node).__name__  # pragma: no cover


def _column_owner(frame: qm.Frame) -> str:
    # A column of a filtered frame reads naturally as the table's column.
    while isinstance(frame, qm.Filter | qm.Sort):
        frame = frame.source
    return _describe(frame)


def _function(node: qm.Function) -> str:
    args = node.args
    if node.op in _INFIX:
        return f"({_describe(args[0])} {_INFIX[node.op]} {_describe(args[1])})"
    if node.op is qm.Op.NOT:
        return f"~{_describe(args[0])}"
    if node.op is qm.Op.NEG:
        return f"-{_describe(args[0])}"
    if node.op is qm.Op.IN:
        values = args[1].values if isinstance(args[1], qm.ValueSet) else ()
        shown = ", ".join(_constant(v) for v in values[:MAX_LISTED])
        more = f", ... {len(values) - MAX_LISTED} more" if len(values) > MAX_LISTED else ""
        return f"{_describe(args[0])}.is_in([{shown}{more}])"
    if node.op in _METHODS:
        return f"{_describe(args[0])}.{_METHODS[node.op]}"
    if node.op in _DATE_UNITS:
        return f"({_describe(args[0])} + {_DATE_UNITS[node.op]}({_describe(args[1])}))"
    if node.op in _DIFF_UNITS:
        return f"({_describe(args[0])} - {_describe(args[1])}).{_DIFF_UNITS[node.op]}"
    if node.op is qm.Op.COALESCE:
        return f"{_describe(args[0])}.when_null_then({_describe(args[1])})"
    if node.op is qm.Op.STR_CONTAINS:
        return f"{_describe(args[0])}.contains({_describe(args[1])})"
    name = node.op.value
    return f"{name}({', '.join(_describe(a) for a in args)})"


def _constant(value: Any) -> str:
    if isinstance(value, datetime.date):
        return f'"{value.isoformat()}"'
    if hasattr(value, "system_id"):
        return repr(value.value)
    return repr(value)
