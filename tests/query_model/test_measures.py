"""Measure nodes: serialised exactly (property-tested), and a tampered document is refused.

Measures travel from the sandboxed definition process as JSON, like datasets; the trusted side
rebuilds them through their constructors, so every rule a Measure checks holds for what comes
back, whatever the document says.
"""

from __future__ import annotations

import datetime
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fedsafe.query_model import nodes as qm
from fedsafe.query_model.intervals import substitute_interval
from fedsafe.query_model.serialize import SerializationError, dumps, loads
from measures_strategies import EXISTS_P, denominators, groups, numerators
from spec.tables import p

FAST = settings(deadline=None, database=None, derandomize=True, max_examples=120)


@st.composite
def intervals(draw: st.DrawFn) -> tuple[tuple[datetime.date, datetime.date], ...]:
    starts = draw(
        st.lists(
            st.dates(datetime.date(1990, 1, 1), datetime.date(2030, 1, 1)),
            min_size=1,
            max_size=4,
            unique=True,
        )
    )
    lengths = draw(st.lists(st.integers(0, 400), min_size=len(starts), max_size=len(starts)))
    return tuple((s, s + datetime.timedelta(days=n)) for s, n in zip(starts, lengths, strict=True))


names = st.from_regex(r"[a-z][a-z0-9_]{0,20}", fullmatch=True)
measure = st.builds(qm.Measure, names, numerators, denominators, groups, intervals())
measures = st.lists(measure, min_size=1, max_size=3, unique_by=lambda m: m.name).map(
    lambda ms: qm.Measures(tuple(ms))
)


@FAST
@given(measures)
def test_measures_round_trip(node: qm.Measures) -> None:
    text = dumps(node)
    loaded = loads(text)
    assert loaded == node
    assert isinstance(loaded, qm.Measures)
    assert dumps(loaded) == text
    assert [m.name for m in loaded.measures] == [m.name for m in node.measures]
    assert loaded.group_columns == node.group_columns
    assert loaded.intervals == node.intervals


@FAST
@given(measures)
def test_substituting_an_interval_leaves_no_placeholder(node: qm.Measures) -> None:
    for m in node.measures:
        for start, end in m.intervals:
            for series in (m.numerator, m.counted, *(s for _, s in m.group_by)):
                fixed = substitute_interval(series, start, end)
                assert not qm.uses_interval(fixed)
                assert fixed.type is series.type
                if qm.uses_interval(series):
                    dates = {n.value for n in qm.walk(fixed) if isinstance(n, qm.Value)}
                    assert dates & {start, end}
                else:
                    assert fixed == series


# --------------------------------------------------------------------------------------------
# Tampered documents


def _document() -> dict[str, Any]:
    node = qm.Measures(
        (
            qm.Measure(
                "m",
                p.b1._node,
                EXISTS_P,
                (("g", p.s1._node),),
                ((datetime.date(2020, 1, 1), datetime.date(2020, 1, 31)),),
            ),
        )
    )
    return json.loads(dumps(node))


def _measure_record(document: dict[str, Any]) -> dict[str, Any]:
    return next(r for r in document["nodes"] if r["node"] == "Measure")


TAMPERINGS = [
    ("a bad name", lambda r: r.update(name="1 bad"), "is not valid"),
    ("no intervals", lambda r: r.update(intervals=[]), "has no intervals"),
    (
        "an interval backwards",
        lambda r: r.update(intervals=[[{"$date": "2020-02-01"}, {"$date": "2020-01-01"}]]),
        "before it starts",
    ),
    ("an interval of numbers", lambda r: r.update(intervals=[[1, 2]]), "pair of dates"),
    ("a reserved group name", lambda r: r["group_by"][0].__setitem__(0, "numerator"), "clashes"),
]


@pytest.mark.parametrize(
    ("tamper", "fragment"), [t[1:] for t in TAMPERINGS], ids=[t[0] for t in TAMPERINGS]
)
def test_a_tampered_measure_is_refused(tamper: Any, fragment: str) -> None:
    document = _document()
    tamper(_measure_record(document))
    with pytest.raises(SerializationError, match=fragment):
        loads(json.dumps(document))


def test_a_dataset_reading_interval_is_refused() -> None:
    document = json.loads(dumps(qm.Dataset(EXISTS_P, (("d", p.d1._node),))))
    column = next(r for r in document["nodes"] if r["node"] == "SelectColumn")
    column.clear()
    column.update(node="IntervalDate", bound={"$enum": "IntervalBound", "name": "START"})
    with pytest.raises(SerializationError, match="INTERVAL can only be used in measures"):
        loads(json.dumps(document))


def test_the_untampered_document_loads() -> None:
    assert isinstance(loads(json.dumps(_document())), qm.Measures)
