"""DuckDB's MIN/MAX picks give the values the portable ROW_NUMBER picks give.

On DuckDB, a picked row of which only the primary sort key is read
(``e.sort_by(e.d1).first_for_patient().d1``) is a MIN/MAX in the grouped pass
(``Compiler._pick_by_extreme``); every other engine, and every other pick, numbers rows with a
window. Both forms run here on the same DuckDB database, over data drawn from NULL and two
values per column, so that ties on the sort keys, NULL keys and filtered-out rows are common,
and must agree on every value.
"""

from __future__ import annotations

import datetime
from typing import Any

import ibis
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fedsafe.engines.compiler import Compiler
from fedsafe.engines.execute import _bound_loader, arrow_schema, register_in_memory_tables
from fedsafe.query_model import nodes as qm
from query_model.test_serialize import DIFF_TREES, FAST, PATIENT, SMALL_VALUES, TYPES, E, P, show
from spec.runner import arrow_table

pytestmark = pytest.mark.filterwarnings("ignore:Generating overly large repr")

SORTABLE = [c.name for c in E.schema.columns]
BOOLS = [c.name for c in E.schema.columns if c.type is bool]


@st.composite
def tied_data(draw: st.DrawFn) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Rows of p and e whose values come from a pool of NULL and two values per column."""
    pools = {
        c.name: [None, *draw(st.lists(SMALL_VALUES[c.type], min_size=1, max_size=2))]
        for table in (P, E)
        for c in table.schema.columns
    }

    def row(pid: int, table: Any) -> dict[str, Any]:
        values: dict[str, Any] = {"patient_id": pid}
        for column in table.schema.columns:
            values[column.name] = draw(st.sampled_from(pools[column.name]))
        return values

    patients = range(1, draw(st.integers(1, 4)) + 1)
    p_rows = [row(pid, P) for pid in patients if draw(st.booleans())]
    e_rows = [row(pid, E) for pid in patients for _ in range(draw(st.integers(0, 4)))]
    return p_rows, e_rows


@st.composite
def key_picks(draw: st.DrawFn) -> list[qm.Series]:
    """Picks reading their primary sort key (and sometimes another column), maybe filtered."""
    series: list[qm.Series] = []
    for _ in range(draw(st.integers(1, 3))):
        frame: qm.ManyRowsFrame = E
        if draw(st.booleans()):
            frame = qm.Filter(frame, qm.SelectColumn(frame, draw(st.sampled_from(BOOLS))))
        sorts = draw(st.lists(st.sampled_from(SORTABLE), min_size=1, max_size=3))
        for name in reversed(sorts):  # the last Sort applied is the primary key
            frame = qm.Sort(frame, qm.SelectColumn(frame, name))
        pick = qm.PickOneRowPerPatient(frame, draw(st.sampled_from(list(qm.Position))))
        series.append(qm.SelectColumn(pick, sorts[0]))
        if draw(st.integers(0, 3)) == 0:  # another column read: the window form again
            series.append(qm.SelectColumn(pick, draw(st.sampled_from(SORTABLE))))
    return series


def run_with(dialect: str | None, dataset: qm.Dataset, backend: Any) -> list[dict[str, Any]]:
    """``dataset`` on DuckDB, compiled as for ``dialect`` (None: the portable forms)."""
    expr = Compiler(_bound_loader(backend), dialect=dialect).dataset(dataset)
    register_in_memory_tables(backend, expr)
    return backend.to_pyarrow(expr).cast(arrow_schema(dataset)).to_pylist()


def assert_both_forms_agree(
    series: list[qm.Series], p_rows: list, e_rows: list
) -> list[dict[str, Any]]:
    """The dataset of ``series`` compiled for DuckDB, after checking the portable form agrees."""
    backend = ibis.duckdb.connect()
    backend.create_table(P.name, arrow_table(P, p_rows))
    backend.create_table(E.name, arrow_table(E, e_rows))
    population = qm.Function(
        qm.Op.OR, (qm.Aggregate(qm.AggOp.EXISTS, P), qm.Aggregate(qm.AggOp.EXISTS, E))
    )
    dataset = qm.Dataset(population, tuple((f"v{i}", s) for i, s in enumerate(series)))
    portable = run_with(None, dataset, backend)
    duckdb = run_with("duckdb", dataset, backend)
    shown = "\n".join(show(s) for s in series)
    assert duckdb == portable, f"{shown}\np: {p_rows}\ne: {e_rows}"
    return duckdb


@settings(FAST, max_examples=200)
@given(key_picks(), tied_data())
def test_key_picks_match_row_number_picks(series: list[qm.Series], data: Any) -> None:
    assert_both_forms_agree(series, *data)


SERIES = st.lists(
    st.sampled_from(TYPES).flatmap(lambda t: DIFF_TREES.series(t, PATIENT, 3)),
    min_size=1,
    max_size=3,
)


@settings(FAST, max_examples=60)
@given(SERIES, tied_data())
def test_any_series_matches_the_portable_form(series: list[qm.Series], data: Any) -> None:
    assert_both_forms_agree(series, *data)


@pytest.mark.parametrize("position", list(qm.Position))
def test_null_keys_ties_and_filtered_rows(position: qm.Position) -> None:
    """NULL is below every key: the first is NULL if any kept row's key is, the last only if all
    are; rows a filter drops (b1 not true) take no part."""
    day, later = datetime.date(2020, 1, 1), datetime.date(2021, 6, 30)
    e_rows = [
        # patient 1: a NULL date among dated rows, and a tie on the latest
        {"patient_id": 1, "d1": None, "b1": True},
        {"patient_id": 1, "d1": day, "b1": True},
        {"patient_id": 1, "d1": later, "b1": True},
        {"patient_id": 1, "d1": later, "b1": True},
        # patient 2: the NULL-dated row is filtered out
        {"patient_id": 2, "d1": None, "b1": False},
        {"patient_id": 2, "d1": day, "b1": True},
        # patient 3: only NULL dates
        {"patient_id": 3, "d1": None, "b1": True},
        # patient 4: every row filtered out
        {"patient_id": 4, "d1": day, "b1": None},
    ]
    frame = qm.Filter(E, qm.SelectColumn(E, "b1"))
    pick = qm.PickOneRowPerPatient(qm.Sort(frame, qm.SelectColumn(frame, "d1")), position)
    rows = assert_both_forms_agree([qm.SelectColumn(pick, "d1")], [], e_rows)
    values = {r["patient_id"]: r["v0"] for r in rows}
    if position is qm.Position.FIRST:
        assert values == {1: None, 2: day, 3: None, 4: None}
    else:
        assert values == {1: later, 2: day, 3: None, 4: None}
