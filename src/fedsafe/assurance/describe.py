"""A short ehrQL-like text for a query model node, so a researcher can recognise their condition.

The query model keeps no source text (it crosses the sandbox as data), so the population's parts
are written back out in the language's own words: ``patients.date_of_birth < 2000-01-01``.
Long expressions are cut short; this is a label, not a way to rebuild the query.
"""

from __future__ import annotations

from fedsafe.query_model import nodes as qm

__all__ = ["describe"]

MAX_LENGTH = 120

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

_DIFFERENCES = {
    qm.Op.DATE_DIFF_DAYS: "days",
    qm.Op.DATE_DIFF_MONTHS: "months",
    qm.Op.DATE_DIFF_YEARS: "years",
}


def describe(node: qm.Node) -> str:
    """The node as ehrQL-like text, at most :data:`MAX_LENGTH` characters."""
    text = _describe(node)
    return text if len(text) <= MAX_LENGTH else text[: MAX_LENGTH - 3] + "..."


def _describe(node: qm.Node) -> str:
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
        return f"{_describe(node.source)}.{node.name}"
    if isinstance(node, qm.Value):
        value = node.value
        return str(getattr(value, "value", value)) if not isinstance(value, str) else repr(value)
    if isinstance(node, qm.ValueSet):
        if len(node.values) <= 5:
            return "[" + ", ".join(_describe(qm.Value(v)) for v in node.values) + "]"
        return f"[{len(node.values)} values]"
    if isinstance(node, qm.Aggregate):
        return f"{_describe(node.source)}.{node.op.value}_for_patient()"
    if isinstance(node, qm.CountEpisodes):
        return f"{_describe(node.source)}.count_episodes_for_patient({node.maximum_gap_days})"
    if isinstance(node, qm.Case):
        return "case(...)"
    if isinstance(node, qm.Function):
        return _function(node)
    return type(node).__name__


def _function(node: qm.Function) -> str:
    op, args = node.op, node.args
    if op in _INFIX:
        return f"({_describe(args[0])} {_INFIX[op]} {_describe(args[1])})"
    if op is qm.Op.NOT:
        return f"~{_describe(args[0])}"
    if op is qm.Op.NEG:
        return f"-{_describe(args[0])}"
    if op in _DIFFERENCES:
        return f"({_describe(args[0])} - {_describe(args[1])}).{_DIFFERENCES[op]}"
    if op is qm.Op.IS_NULL:
        return f"{_describe(args[0])}.is_null()"
    if op is qm.Op.IN:
        return f"{_describe(args[0])}.is_in({_describe(args[1])})"
    rest = ", ".join(_describe(a) for a in args[1:])
    return f"{_describe(args[0])}.{op.value}({rest})"
