"""Dummy data for measures: tables generated for the patients the measures count, the real
measures query run on them."""

from __future__ import annotations

import ibis

from fedsafe.dummy_data.measures import dummy_measures_backend, guide_dataset
from fedsafe.engines.execute import run_dataset
from fedsafe.engines.measures import run_measures
from fedsafe.language import INTERVAL, create_measures, months
from fedsafe.language.measures import compile_measures
from fedsafe.query_model import nodes as qm
from fedsafe.query_model.intervals import substitute_interval
from fedsafe.tables.core import medications, patients, practice_registrations

CODES = ["39733211000001101", "39695411000001103"]


def _measures() -> qm.Measures:
    measures = create_measures()
    rx = medications.where(medications.date.is_during(INTERVAL))
    registered = practice_registrations.for_patient_on(INTERVAL.start_date)
    measures.define_measure(
        "m",
        numerator=rx.where(medications.dmd_code.is_in(CODES)).exists_for_patient(),
        denominator=registered.exists_for_patient() & rx.exists_for_patient(),
        group_by={"sex": patients.sex},
        intervals=months(3).starting_on("2022-01-01"),
    )
    return compile_measures(measures)


def test_the_guide_population_is_counted_in_some_interval_and_reads_no_interval() -> None:
    node = _measures()
    guide = guide_dataset(node)
    assert not qm.uses_interval(guide)
    # The denominator of each interval, ORed.
    terms, stack = [], [guide.population]
    while stack:
        term = stack.pop()
        if term not in terms and any(
            term == substitute_interval(m.counted, s, e)
            for m in node.measures
            for s, e in m.intervals
        ):
            terms.append(term)
        elif isinstance(term, qm.Function) and term.op is qm.Op.OR:
            stack.extend(term.args)
    (measure,) = node.measures
    assert sorted(terms, key=repr) == sorted(
        (substitute_interval(measure.counted, s, e) for s, e in measure.intervals), key=repr
    )
    dates = {n.value for n in qm.walk(guide) if isinstance(n, qm.Value)}
    assert {start for start, _ in node.intervals} <= dates


def test_exactly_the_patients_asked_for_are_counted_and_the_numerators_are_not_all_zero() -> None:
    node = _measures()
    backend = dummy_measures_backend(node, population_size=40, seed=3)
    try:
        counted = run_dataset(guide_dataset(node), backend).read_all()
        table = run_measures(node, backend)
    finally:
        backend.disconnect()
    assert counted.num_rows == 40
    rows = table.to_pylist()
    assert rows, "some patient is counted"
    assert all(0 <= r["numerator"] <= r["denominator"] for r in rows)
    assert sum(r["numerator"] for r in rows) > 0
    # Nobody is counted more often than once per interval.
    assert sum(r["denominator"] for r in rows) <= 40 * len(node.intervals)


def test_the_same_tables_for_the_same_seed() -> None:
    node = _measures()
    tables = []
    for _ in range(2):
        backend: ibis.BaseBackend = dummy_measures_backend(node, population_size=20, seed=5)
        try:
            tables.append(backend.table("medications").to_pyarrow())
        finally:
            backend.disconnect()
    assert tables[0].equals(tables[1])
