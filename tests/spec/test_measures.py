"""Spec: measures, run in one pass on every engine, against tables whose results are worked out
by hand.

ehrQL counts a patient in an interval's row when its denominator is true (or a positive
integer); the numerator is summed over those patients only (NULL counts as 0); the
ratio is numerator / denominator; group_by columns split the rows; INTERVAL stands for each
interval's start and end dates in turn. Every case is also checked against the same measures run
one query per interval, so the one-pass query and the plain dataset engine agree.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from fedsafe.engines.measures import run_measures, run_measures_per_interval
from fedsafe.language import INTERVAL, create_measures, days, months, weeks, years
from fedsafe.language.measures import Measures, compile_measures
from fedsafe.query_model import nodes as qm
from spec.conftest import ENGINES
from spec.harness import normalise, parse_table, table_node
from spec.runner import connect
from spec.tables import e, p

D = datetime.date.fromisoformat

# Every engine, Spark included. (Spark once gave empty or wrong rows here: Ibis handed it the
# test tables and the interval tables through pandas, which lost NULLs; fedsafe now hands Spark
# Arrow, see engines.execute.register_in_memory_tables.)
SPEC_ENGINES = ENGINES


@dataclass(frozen=True)
class MeasureCase:
    """``define(measures)`` over ``tables`` gives exactly ``expected`` (in any order).

    Each expected row is (measure, interval_start, interval_end, ratio, numerator, denominator,
    {group: value}); group columns not named are NULL.
    """

    name: str
    tables: dict[Any, str]
    define: Callable[[Measures], None]
    expected: list[tuple[Any, ...]]

    def __repr__(self) -> str:
        return self.name


def _during(frame: Any) -> Any:
    return frame.where(frame.d1.is_during(INTERVAL))


def _bool_grouped(m: Measures) -> None:
    m.define_measure(
        "m",
        numerator=_during(e).exists_for_patient(),
        denominator=p.b1,
        group_by={"s1": p.s1},
        intervals=months(2).starting_on("2020-01-01"),
    )


def _integer_counts(m: Measures) -> None:
    m.define_measure(
        "m",
        numerator=_during(e).count_for_patient(),
        denominator=p.i1,
        intervals=weeks(2).starting_on("2020-01-01"),
    )


def _patient_level_interval(m: Measures) -> None:
    m.define_measure(
        "m",
        numerator=p.b1,
        denominator=p.d1.is_on_or_before(INTERVAL.end_date),
        group_by={"born_before": p.d1.is_before(INTERVAL.start_date)},
        intervals=years(2).ending_on("2021-12-31"),
    )


def _two_measures(m: Measures) -> None:
    m.define_defaults(numerator=p.b1, denominator=p.exists_for_patient())
    m.define_measure("by_s", group_by={"s1": p.s1}, intervals=[("2020-01-01", "2020-01-31")])
    m.define_measure("by_i", group_by={"i1": p.i1}, intervals=months(1).starting_on("2020-02-01"))


def _numerator_only_within_denominator(m: Measures) -> None:
    m.define_measure(
        "m", numerator=p.b1, denominator=p.b2, intervals=months(1).starting_on("2020-01-01")
    )


def _empty_interval(m: Measures) -> None:
    m.define_measure(
        "m",
        numerator=_during(e).count_for_patient(),
        denominator=_during(e).exists_for_patient(),
        intervals=months(2).starting_on("2020-01-01"),
    )


def _picked_row(m: Measures) -> None:
    latest = e.where(e.d1.is_on_or_before(INTERVAL.end_date)).sort_by(e.d1).last_for_patient()
    m.define_measure(
        "m",
        numerator=latest.i1,
        denominator=p.exists_for_patient(),
        intervals=months(2).starting_on("2020-01-01"),
    )


def _episodes(m: Measures) -> None:
    m.define_measure(
        "m",
        numerator=_during(e).d1.count_episodes_for_patient(days(3)),
        denominator=p.exists_for_patient(),
        intervals=months(2).starting_on("2020-01-01"),
    )


def _mixed_sources(m: Measures) -> None:
    # One event aggregate reads INTERVAL, the other does not: both feed the same measure.
    m.define_measure(
        "m",
        numerator=_during(e).exists_for_patient(),
        denominator=e.where(e.b1).exists_for_patient(),
        intervals=months(2).starting_on("2020-01-01"),
    )


def _events_per_interval(intervals: list[tuple[Any, Any]]) -> Callable[[Measures], None]:
    def define(m: Measures) -> None:
        m.define_measure(
            "m",
            numerator=_during(e).count_for_patient(),
            denominator=p.exists_for_patient(),
            intervals=intervals,
        )

    return define


def _births_per_interval(intervals: list[tuple[Any, Any]]) -> Callable[[Measures], None]:
    def define(m: Measures) -> None:
        m.define_measure(
            "m",
            numerator=p.d1.is_during(INTERVAL),
            denominator=p.exists_for_patient(),
            intervals=intervals,
        )

    return define


CASES = [
    MeasureCase(
        "boolean_numerator_and_denominator_grouped_by_month",
        {
            p: """
                patient_id | s1 | b1
                1          | a  | T
                2          | a  | T
                3          | b  | T
                4          | b  | F
            """,
            e: """
                patient_id | d1
                1          | 2020-01-05
                1          | 2020-01-20
                2          | 2020-02-01
                3          | 2020-01-31
                3          | 2020-03-01
                4          | 2020-01-10
            """,
        },
        _bool_grouped,
        [
            ("m", "2020-01-01", "2020-01-31", 0.5, 1, 2, {"s1": "a"}),
            ("m", "2020-01-01", "2020-01-31", 1.0, 1, 1, {"s1": "b"}),
            ("m", "2020-02-01", "2020-02-29", 0.5, 1, 2, {"s1": "a"}),
            ("m", "2020-02-01", "2020-02-29", 0.0, 0, 1, {"s1": "b"}),
        ],
    ),
    MeasureCase(
        "integer_numerator_and_denominator_by_week",
        {
            p: """
                patient_id | i1
                1          | 2
                2          | 0
                3          |
                4          | -1
            """,
            e: """
                patient_id | d1
                1          | 2020-01-01
                1          | 2020-01-07
                1          | 2020-01-08
                2          | 2020-01-02
                4          | 2020-01-14
            """,
        },
        _integer_counts,
        # Only patient 1 (2) is counted: 2 (zero), 3 (NULL) and 4 (negative) are not, so
        # patient 4's event on the 14th is not in the second week's numerator.
        [
            ("m", "2020-01-01", "2020-01-07", 1.0, 2, 2, {}),
            ("m", "2020-01-08", "2020-01-14", 0.5, 1, 2, {}),
        ],
    ),
    MeasureCase(
        "interval_dates_in_patient_level_series_and_groups_by_year",
        {
            p: """
                patient_id | d1         | b1
                1          | 2019-06-01 | T
                2          | 2020-06-01 | F
                3          | 2021-06-01 | T
                4          |            | T
            """
        },
        _patient_level_interval,
        [
            ("m", "2020-01-01", "2020-12-31", 0.0, 0, 1, {"born_before": False}),
            ("m", "2020-01-01", "2020-12-31", 1.0, 1, 1, {"born_before": True}),
            ("m", "2021-01-01", "2021-12-31", 1.0, 1, 1, {"born_before": False}),
            ("m", "2021-01-01", "2021-12-31", 0.5, 1, 2, {"born_before": True}),
        ],
    ),
    MeasureCase(
        "two_measures_with_their_own_intervals_and_groups",
        {
            p: """
                patient_id | s1 | b1 | i1
                1          | a  | T  | 1
                2          | a  | F  | 1
                3          | b  |    |
            """
        },
        _two_measures,
        [
            ("by_s", "2020-01-01", "2020-01-31", 0.5, 1, 2, {"s1": "a"}),
            ("by_s", "2020-01-01", "2020-01-31", 0.0, 0, 1, {"s1": "b"}),
            ("by_i", "2020-02-01", "2020-02-29", 0.5, 1, 2, {"i1": 1}),
            ("by_i", "2020-02-01", "2020-02-29", 0.0, 0, 1, {"i1": None}),
        ],
    ),
    MeasureCase(
        "numerator_counts_only_patients_in_the_denominator",
        {
            p: """
                patient_id | b1 | b2
                1          | T  | T
                2          | T  | F
                3          | F  | T
            """
        },
        _numerator_only_within_denominator,
        [("m", "2020-01-01", "2020-01-31", 0.5, 1, 2, {})],
    ),
    MeasureCase(
        "an_interval_where_nobody_is_counted_has_no_row",
        {
            e: """
                patient_id | d1
                1          | 2020-01-03
                2          | 2020-03-03
            """
        },
        _empty_interval,
        [("m", "2020-01-01", "2020-01-31", 1.0, 1, 1, {})],
    ),
    MeasureCase(
        "a_row_picked_per_interval",
        {
            p: """
                patient_id
                1
                2
            """,
            e: """
                patient_id | d1         | i1
                1          | 2020-01-10 | 5
                1          | 2020-02-10 | 7
                2          | 2020-02-05 | 3
            """,
        },
        _picked_row,
        [
            ("m", "2020-01-01", "2020-01-31", 2.5, 5, 2, {}),
            ("m", "2020-02-01", "2020-02-29", 5.0, 10, 2, {}),
        ],
    ),
    MeasureCase(
        "episodes_counted_per_interval",
        {
            p: """
                patient_id
                1
            """,
            e: """
                patient_id | d1
                1          | 2020-01-01
                1          | 2020-01-03
                1          | 2020-01-10
                1          | 2020-02-01
            """,
        },
        _episodes,
        [
            ("m", "2020-01-01", "2020-01-31", 2.0, 2, 1, {}),
            ("m", "2020-02-01", "2020-02-29", 1.0, 1, 1, {}),
        ],
    ),
    MeasureCase(
        "sources_with_and_without_interval_in_one_measure",
        {
            e: """
                patient_id | d1         | b1
                1          | 2020-01-05 | T
                2          | 2020-02-05 | T
                3          | 2020-01-06 | F
            """
        },
        _mixed_sources,
        # Denominator: patients with any b1 event (1 and 2), whatever the interval.
        [
            ("m", "2020-01-01", "2020-01-31", 0.5, 1, 2, {}),
            ("m", "2020-02-01", "2020-02-29", 0.5, 1, 2, {}),
        ],
    ),
    # Interval edges (see tests/language/test_intervals.py for the rule): each boundary day
    # falls in exactly one interval on every engine.
    MeasureCase(
        "month_intervals_starting_on_the_31st",
        {
            p: """
                patient_id
                1
            """,
            e: """
                patient_id | d1
                1          | 2020-01-30
                1          | 2020-01-31
                1          | 2020-02-29
                1          | 2020-03-01
                1          | 2020-03-30
                1          | 2020-03-31
                1          | 2020-04-01
                1          | 2020-04-30
                1          | 2020-05-01
            """,
        },
        # 31 Jan-29 Feb, 1-30 Mar, 31 Mar-30 Apr: 30 Jan and 1 May are outside.
        _events_per_interval(months(3).starting_on("2020-01-31")),
        [
            ("m", "2020-01-31", "2020-02-29", 2.0, 2, 1, {}),
            ("m", "2020-03-01", "2020-03-30", 2.0, 2, 1, {}),
            ("m", "2020-03-31", "2020-04-30", 3.0, 3, 1, {}),
        ],
    ),
    MeasureCase(
        "month_intervals_ending_on_the_31st",
        {
            p: """
                patient_id
                1
            """,
            e: """
                patient_id | d1
                1          | 2020-01-31
                1          | 2020-02-01
                1          | 2020-02-29
                1          | 2020-03-01
                1          | 2020-03-02
                1          | 2020-03-31
                1          | 2020-04-01
            """,
        },
        # 31 March - 1 month rounds up to 1 March: 1 Feb-1 Mar, 2-31 Mar.
        _events_per_interval(months(2).ending_on("2020-03-31")),
        [
            ("m", "2020-02-01", "2020-03-01", 3.0, 3, 1, {}),
            ("m", "2020-03-02", "2020-03-31", 2.0, 2, 1, {}),
        ],
    ),
    MeasureCase(
        "year_intervals_from_29_february_across_leap_years",
        {
            p: """
                patient_id | d1
                1          | 2020-02-29
                2          | 2021-02-28
                3          | 2021-03-01
                4          | 2024-02-28
                5          | 2024-02-29
                6          | 2025-03-01
            """
        },
        # 29 Feb 2020-28 Feb 2021, 1 Mar 2021-28 Feb 2022, ..., 1 Mar 2023-28 Feb 2024,
        # 29 Feb 2024-28 Feb 2025: 2024's 29 February starts the last interval.
        _births_per_interval(years(5).starting_on("2020-02-29")),
        [
            ("m", "2020-02-29", "2021-02-28", 2 / 6, 2, 6, {}),
            ("m", "2021-03-01", "2022-02-28", 1 / 6, 1, 6, {}),
            ("m", "2022-03-01", "2023-02-28", 0.0, 0, 6, {}),
            ("m", "2023-03-01", "2024-02-28", 1 / 6, 1, 6, {}),
            ("m", "2024-02-29", "2025-02-28", 1 / 6, 1, 6, {}),
        ],
    ),
    MeasureCase(
        "year_intervals_ending_on_29_february",
        {
            p: """
                patient_id
                1
            """,
            e: """
                patient_id | d1
                1          | 2022-03-01
                1          | 2022-03-02
                1          | 2023-03-01
                1          | 2023-03-02
                1          | 2024-02-29
                1          | 2024-03-01
            """,
        },
        # 29 Feb 2024 - 1 year is "29 Feb 2023", 1 March: 2 Mar 2022-1 Mar 2023, 2 Mar 2023-29
        # Feb 2024.
        _events_per_interval(years(2).ending_on("2024-02-29")),
        [
            ("m", "2022-03-02", "2023-03-01", 2.0, 2, 1, {}),
            ("m", "2023-03-02", "2024-02-29", 2.0, 2, 1, {}),
        ],
    ),
]


def _build(case: MeasureCase) -> tuple[qm.Measures, dict[Any, list[dict[str, Any]]]]:
    measures = create_measures()
    case.define(measures)
    node = compile_measures(measures)
    data = {table_node(frame): parse_table(frame, text) for frame, text in case.tables.items()}
    for table in qm.tables_used(node).values():
        data.setdefault(table, [])
    return node, data


def _rows(table: Any, group_names: list[str]) -> list[tuple[Any, ...]]:
    rows = []
    for row in table.to_pylist():
        rows.append(
            (
                row["measure"],
                row["interval_start"],
                row["interval_end"],
                normalise(row["ratio"]),
                row["numerator"],
                row["denominator"],
                tuple(normalise(row[name]) for name in group_names),
            )
        )
    return sorted(rows, key=repr)


def _expected(case: MeasureCase, group_names: list[str]) -> list[tuple[Any, ...]]:
    rows = []
    for measure, start, end, ratio, numerator, denominator, groups in case.expected:
        assert set(groups) <= set(group_names), f"{case.name}: unknown group in expected"
        rows.append(
            (
                measure,
                D(start),
                D(end),
                normalise(ratio),
                numerator,
                denominator,
                tuple(groups.get(name) for name in group_names),
            )
        )
    return sorted(rows, key=repr)


def test_measures_spec(spec_case: MeasureCase, engine: str) -> None:
    node, data = _build(spec_case)
    group_names = [name for name, _ in node.group_columns]
    backend = connect(engine, data)
    try:
        one_pass = _rows(run_measures(node, backend), group_names)
        per_interval = _rows(run_measures_per_interval(node, backend), group_names)
    finally:
        _release(engine, backend)
    expected = _expected(spec_case, group_names)
    assert one_pass == expected, f"{spec_case.name} on {engine}: {one_pass}"
    assert per_interval == expected, f"{spec_case.name} per interval on {engine}: {per_interval}"


def _release(engine: str, backend: Any) -> None:
    """Close an in-process database; the server engines' shared connections stay open."""
    if engine in ("duckdb", "sqlite"):
        backend.disconnect()


@pytest.mark.parametrize("engine", SPEC_ENGINES)
def test_rows_come_out_in_measure_interval_group_order(engine: str) -> None:
    case = CASES[0]
    node, data = _build(case)
    backend = connect(engine, data)
    try:
        table = run_measures(node, backend)
    finally:
        _release(engine, backend)
    keys = [(r["interval_start"], r["s1"]) for r in table.to_pylist()]
    assert keys == [
        (D("2020-01-01"), "a"),
        (D("2020-01-01"), "b"),
        (D("2020-02-01"), "a"),
        (D("2020-02-01"), "b"),
    ]
    assert table.column_names == [
        "measure",
        "interval_start",
        "interval_end",
        "ratio",
        "numerator",
        "denominator",
        "s1",
    ]
