"""Intervals for measures: ``starting_on`` / ``ending_on`` of days, weeks, months and years.

Worked out by hand from ehrQL's documented rules: each interval lasts one unit; date arithmetic
in months and years rounds a day the target month lacks *up* to the next day that exists (31
September is 1 October, 29 February 2021 is 1 March). Every boundary is measured from the anchor
date, so a month-end anchor keeps its day in the months that have it; the intervals are
contiguous and together cover the anchor to the anchor plus the whole duration (less a day).
"""

from __future__ import annotations

import datetime
import itertools

import pytest

from fedsafe.language import days, months, weeks, years

D = datetime.date.fromisoformat

# (duration, method, anchor, expected [(start, end), ...])
CASES = [
    (
        weeks(3),
        "starting_on",
        "2000-01-01",
        [("2000-01-01", "2000-01-07"), ("2000-01-08", "2000-01-14"), ("2000-01-15", "2000-01-21")],
    ),
    (
        weeks(3),
        "ending_on",
        "2000-01-21",
        [("2000-01-01", "2000-01-07"), ("2000-01-08", "2000-01-14"), ("2000-01-15", "2000-01-21")],
    ),
    (
        days(2),
        "starting_on",
        "2020-02-28",
        [("2020-02-28", "2020-02-28"), ("2020-02-29", "2020-02-29")],
    ),
    (
        days(2),
        "ending_on",
        "2020-03-01",
        [("2020-02-29", "2020-02-29"), ("2020-03-01", "2020-03-01")],
    ),
    # Calendar months from the 1st: whole months, February's end by leap year.
    (
        months(3),
        "starting_on",
        "2020-01-01",
        [("2020-01-01", "2020-01-31"), ("2020-02-01", "2020-02-29"), ("2020-03-01", "2020-03-31")],
    ),
    (
        months(2),
        "starting_on",
        "2021-02-01",
        [("2021-02-01", "2021-02-28"), ("2021-03-01", "2021-03-31")],
    ),
    # From the 15th: the day before the same day next month.
    (
        months(2),
        "starting_on",
        "2020-01-15",
        [("2020-01-15", "2020-02-14"), ("2020-02-15", "2020-03-14")],
    ),
    # From 31 January: 31 Feb rounds up to 1 March (so the first interval ends 29 Feb), 31 March
    # exists (so the second ends 30 March), 31 April rounds up to 1 May.
    (
        months(3),
        "starting_on",
        "2020-01-31",
        [("2020-01-31", "2020-02-29"), ("2020-03-01", "2020-03-30"), ("2020-03-31", "2020-04-30")],
    ),
    (
        months(2),
        "starting_on",
        "2021-01-31",
        [("2021-01-31", "2021-02-28"), ("2021-03-01", "2021-03-30")],
    ),
    (
        months(2),
        "starting_on",
        "2020-08-31",
        [("2020-08-31", "2020-09-30"), ("2020-10-01", "2020-10-30")],
    ),
    # Across a year end.
    (
        months(2),
        "starting_on",
        "2020-12-01",
        [("2020-12-01", "2020-12-31"), ("2021-01-01", "2021-01-31")],
    ),
    # ending_on a month's last day is not whole calendar months: 31 March - 1 month is
    # "31 February", rounded up to 1 March, so the last interval starts on 2 March; 31 December
    # - 1 month is "31 November", 1 December, so it starts on 2 December. (To get calendar
    # months, use starting_on the 1st.)
    (
        months(2),
        "ending_on",
        "2020-03-31",
        [("2020-02-01", "2020-03-01"), ("2020-03-02", "2020-03-31")],
    ),
    (months(1), "ending_on", "2020-12-31", [("2020-12-02", "2020-12-31")]),
    (
        months(2),
        "ending_on",
        "2020-01-31",
        [("2019-12-02", "2019-12-31"), ("2020-01-01", "2020-01-31")],
    ),
    (
        months(2),
        "ending_on",
        "2020-02-29",
        [("2019-12-30", "2020-01-29"), ("2020-01-30", "2020-02-29")],
    ),
    (
        months(2),
        "ending_on",
        "2020-02-14",
        [("2019-12-15", "2020-01-14"), ("2020-01-15", "2020-02-14")],
    ),
    # Years: 29 February + 1 year is 1 March; an anchor on 29 Feb comes back to it in leap years.
    (
        years(2),
        "starting_on",
        "2020-01-01",
        [("2020-01-01", "2020-12-31"), ("2021-01-01", "2021-12-31")],
    ),
    (
        years(5),
        "starting_on",
        "2020-02-29",
        [
            ("2020-02-29", "2021-02-28"),
            ("2021-03-01", "2022-02-28"),
            ("2022-03-01", "2023-02-28"),
            ("2023-03-01", "2024-02-28"),
            ("2024-02-29", "2025-02-28"),
        ],
    ),
    (
        years(2),
        "ending_on",
        "2021-12-31",
        [("2020-01-01", "2020-12-31"), ("2021-01-01", "2021-12-31")],
    ),
    (
        years(2),
        "ending_on",
        "2024-02-29",
        [("2022-03-02", "2023-03-01"), ("2023-03-02", "2024-02-29")],
    ),
    (months(0), "starting_on", "2020-01-31", []),
]


@pytest.mark.parametrize(
    ("duration", "method", "anchor", "expected"),
    CASES,
    ids=[f"{d!r}.{m}({a})" for d, m, a, _ in CASES],
)
def test_intervals(duration, method, anchor, expected) -> None:
    got = getattr(duration, method)(anchor)
    assert got == [(D(start), D(end)) for start, end in expected]


@pytest.mark.parametrize(
    ("duration", "method", "anchor"),
    [(d, m, a) for d, m, a, expected in CASES if expected],
    ids=[f"{d!r}.{m}({a})" for d, m, a, expected in CASES if expected],
)
def test_intervals_are_contiguous_and_cover_the_whole_duration(duration, method, anchor) -> None:
    intervals = getattr(duration, method)(anchor)
    for (_, end), (start, _) in itertools.pairwise(intervals):
        assert start == end + datetime.timedelta(days=1)
    if method == "starting_on":
        assert intervals[0][0] == D(anchor)
        assert intervals[-1][1] == D(anchor) + duration - days(1)
    else:
        assert intervals[-1][1] == D(anchor)
        assert intervals[0][0] == D(anchor) - duration + days(1)


def test_a_negative_number_of_units_is_refused() -> None:
    with pytest.raises(ValueError, match="non-negative"):
        months(-1).starting_on("2020-01-01")
