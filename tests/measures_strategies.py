"""Hypothesis strategies for measures over the spec tables, shared by the query-model and
engine tests: patient-level series that read ``INTERVAL`` in filters, picked rows, aggregates and
date arithmetic, and denominators that never count patients without data."""

from __future__ import annotations

from hypothesis import strategies as st

from fedsafe.language import INTERVAL
from fedsafe.query_model import nodes as qm
from spec.tables import e, p

_in_interval = e.where(e.d1.is_during(INTERVAL))
BOOLS = [
    p.b1._node,
    p.b2._node,
    p.d1.is_on_or_before(INTERVAL.end_date)._node,
    _in_interval.exists_for_patient()._node,
    e.where(e.d1.is_before(INTERVAL.start_date)).exists_for_patient()._node,
]
INTS = [
    p.i1._node,
    _in_interval.count_for_patient()._node,
    (INTERVAL.end_date - p.d1).years._node,
    e.where(e.d1.is_on_or_before(INTERVAL.end_date)).sort_by(e.d1).last_for_patient().i1._node,
]
# A group name means one series in every measure (ehrQL's rule), so each name has one.
GROUP_SERIES = [*BOOLS, *INTS, p.s1._node, p.s2._node, p.c1._node]
GROUPS = {f"g{i}": series for i, series in enumerate(GROUP_SERIES)}
EXISTS_P = p.exists_for_patient()._node


def _combined(parts: list[qm.Series]) -> qm.Series:
    result = parts[0]
    for part in parts[1:]:
        result = qm.Function(qm.Op.AND, (result, part))
    return result


bools = st.lists(st.sampled_from(BOOLS), min_size=1, max_size=3).map(_combined)
numerators = st.one_of(bools, st.sampled_from(INTS))
# A denominator must not count patients without data: AND it with "has a row in p".
denominators = st.one_of(
    bools.map(lambda b: qm.Function(qm.Op.AND, (EXISTS_P, b))),
    st.sampled_from(INTS).map(lambda i: qm.Case(((EXISTS_P, i),), None)),
)
groups = st.lists(st.sampled_from(sorted(GROUPS)), max_size=3, unique=True).map(
    lambda names: tuple((name, GROUPS[name]) for name in names)
)
