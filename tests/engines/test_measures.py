"""The one-pass measures query against the plain per-interval run, on random data.

Random rows for ``p`` and ``e`` and random measures (from a vocabulary of series that read
``INTERVAL`` in filters, picked rows, aggregates, date arithmetic and groups) must give the same
table computed in one query as computed with one ordinary dataset query per measure and interval,
INTERVAL replaced by that interval's dates. The spec cases pin the semantics down by hand; this
looks for the combinations they miss.
"""

from __future__ import annotations

import datetime
import re
from typing import Any

import ibis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fedsafe.engines.measures import run_measures, run_measures_per_interval
from fedsafe.query_model import nodes as qm
from measures_strategies import denominators, groups, numerators
from spec.runner import connect
from spec.tables import e, p

SETTINGS = settings(
    deadline=None,
    database=None,
    derandomize=True,
    max_examples=40,
    suppress_health_check=[HealthCheck.too_slow],
)

FIRST = datetime.date(2019, 11, 1)
dates = st.none() | st.dates(FIRST, datetime.date(2020, 6, 30))

patient_rows = st.lists(
    st.fixed_dictionaries(
        {
            "b1": st.none() | st.booleans(),
            "b2": st.none() | st.booleans(),
            "i1": st.none() | st.integers(-3, 3),
            "s1": st.none() | st.sampled_from(["a", "b"]),
            "s2": st.none() | st.sampled_from(["x", "y"]),
            "d1": st.none() | st.dates(datetime.date(1950, 1, 1), datetime.date(2020, 6, 30)),
        }
    ),
    min_size=1,
    max_size=8,
)
event_rows = st.lists(
    st.fixed_dictionaries(
        {
            "patient_id": st.integers(1, 9),
            "d1": dates,
            "i1": st.none() | st.integers(0, 9),
        }
    ),
    max_size=25,
)


@st.composite
def interval_lists(draw: st.DrawFn) -> tuple[tuple[datetime.date, datetime.date], ...]:
    count = draw(st.integers(1, 5))
    length = draw(st.sampled_from([7, 30, 61]))
    gap = draw(st.sampled_from([-10, 0, 1]))  # overlapping, adjacent or apart
    start = FIRST + datetime.timedelta(days=draw(st.integers(0, 60)))
    result = []
    for _ in range(count):
        end = start + datetime.timedelta(days=length - 1)
        result.append((start, end))
        start = end + datetime.timedelta(days=1 + gap)
    return tuple(result)


measure = st.builds(
    qm.Measure,
    st.sampled_from(["m1", "m2", "m3"]),
    numerators,
    denominators,
    groups,
    interval_lists(),
)
measures = st.lists(measure, min_size=1, max_size=3, unique_by=lambda m: m.name).map(
    lambda ms: qm.Measures(tuple(ms))
)


def _sorted(table: Any) -> list[tuple[Any, ...]]:
    rows = [
        tuple(round(v, 9) if isinstance(v, float) else v for v in row.values())
        for row in table.to_pylist()
    ]
    return sorted(rows, key=repr)


@SETTINGS
@given(patient_rows, event_rows, measures)
def test_one_pass_equals_one_query_per_interval(
    patients: list[dict[str, Any]], events: list[dict[str, Any]], node: qm.Measures
) -> None:
    data = {
        p._node: [{"patient_id": i, **row} for i, row in enumerate(patients, start=1)],
        e._node: events,
    }
    backend = connect("duckdb", data)
    try:
        one_pass = run_measures(node, backend)
        reference = run_measures_per_interval(node, backend)
    finally:
        backend.disconnect()
    assert one_pass.schema == reference.schema
    assert _sorted(one_pass) == _sorted(reference)


def _sql_for(intervals: int) -> str:
    from fedsafe.engines.execute import _unbound_loader
    from fedsafe.engines.measures import compile_measures
    from fedsafe.language import INTERVAL, create_measures, weeks
    from fedsafe.language.measures import compile_measures as compile_language

    measures = create_measures()
    in_interval = e.where(e.d1.is_during(INTERVAL))
    measures.define_measure(
        "m",
        numerator=in_interval.count_for_patient(),
        denominator=p.exists_for_patient() & p.d1.is_before(INTERVAL.start_date),
        group_by={"s1": p.s1},
        intervals=weeks(intervals).starting_on("2020-01-01"),
    )
    expr = compile_measures(compile_language(measures), _unbound_loader)
    return re.sub(r"ibis_pyarrow_memtable_\w+", "MEMTABLE", str(ibis.to_sql(expr)))


def test_the_query_is_the_same_whatever_the_number_of_intervals() -> None:
    # The intervals are rows of an inline table, not parts of the query: one query serves 3
    # weeks or 300, and reads each table the same number of times.
    three, three_hundred = _sql_for(3), _sql_for(300)
    assert three == three_hundred
    assert three.count('FROM "e"') == 1
