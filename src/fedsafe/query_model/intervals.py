"""Replacing the ``INTERVAL`` placeholder by one interval's dates.

A measure is one query over every interval at once; this gives the query a single interval means,
which is what the per-interval reference (and the population rule) are written against.
"""

from __future__ import annotations

import dataclasses
import datetime
from typing import Any

from fedsafe.query_model import nodes as qm


def substitute_interval(node: qm.Node, start: datetime.date, end: datetime.date) -> Any:
    """``node`` with every ``INTERVAL.start_date``/``end_date`` replaced by these dates."""
    values = {
        qm.IntervalBound.START: qm.Value(start),
        qm.IntervalBound.END: qm.Value(end),
    }
    replaced: dict[qm.Node, qm.Node] = {}
    for current in qm.walk(node):  # children first, so each node's children are done
        if isinstance(current, qm.IntervalDate):
            replaced[current] = values[current.bound]
        elif any(child in replaced for child in current.children()):
            changes = {
                f.name: _replace(getattr(current, f.name), replaced)
                for f in dataclasses.fields(current)
            }
            replaced[current] = dataclasses.replace(current, **changes)
    return replaced.get(node, node)


def _replace(value: Any, replaced: dict[qm.Node, qm.Node]) -> Any:
    if isinstance(value, qm.Node):
        return replaced.get(value, value)
    if isinstance(value, tuple):
        return tuple(_replace(v, replaced) for v in value)
    return value
