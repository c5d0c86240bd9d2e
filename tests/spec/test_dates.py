"""Spec: operations on date series: parts, comparisons, durations and differences.

ehrQL documents year/month/day, to_first_of_month/year, the is_before/after/between family
(NULL in, NULL out; a backwards range matches nothing), adding and subtracting days(), weeks(),
months() and years() (constant or integer series) where a day missing from the target month
rolls up to the 1st of the next month (31 Aug + 1 month = 1 Oct, 29 Feb + 1 year = 1 Mar), and
date differences in days, whole weeks, whole calendar months and whole calendar years, where a
negative difference counts down ("if A is earlier than B then the year difference is always
negative, even if this difference is only one day").
"""

from datetime import date

from fedsafe import days, months, weeks, years
from spec.harness import SpecCase
from spec.runner import check_case
from spec.tables import e, p

_PARTS = """
    patient_id | d1         | i1
    1          | 1990-01-02 | 100
    2          | 2000-03-04 | 200
    3          |            |
"""

_COMPARE = """
    patient_id | d1
    1          | 1990-01-01
    2          | 2000-01-01
    3          | 2010-01-01
    4          |
"""

_BETWEEN = """
    patient_id | d1
    1          | 2010-01-01
    2          | 2010-01-02
    3          | 2010-01-03
    4          | 2010-01-04
    5          | 2010-01-05
    6          |
"""

_EPISODES = """
    patient_id | d1
    1          | 2020-01-01
    1          | 2020-01-04
    1          | 2020-01-06
    1          | 2020-01-10
    1          | 2020-01-12
    2          | 2020-01-01
    3          |
    4          | 2020-01-10
    4          |
    4          |
    4          | 2020-01-01
"""

_EPISODES_NOTE = (
    "DISCREPANCY: ehrQL documents DateEventSeries.count_episodes_for_patient(maximum_gap); "
    "fedsafe's date series have no such method."
)

_NEGATIVE_DIFF_NOTE = (
    "ehrQL counts a negative difference down (floor), not towards zero: 'if A is earlier "
    "than B then the year difference is always negative, even if this difference is only one "
    "day'."
)

CASES = [
    # --- parts and rounding ------------------------------------------------------------
    SpecCase(
        "year of a date; NULL stays NULL",
        tables={p: _PARTS},
        series=lambda: p.d1.year,
        expected={1: 1990, 2: 2000, 3: None},
    ),
    SpecCase(
        "month of a date (1-12)",
        tables={p: _PARTS},
        series=lambda: p.d1.month,
        expected={1: 1, 2: 3, 3: None},
    ),
    SpecCase(
        "day of the month of a date (1-31)",
        tables={p: _PARTS},
        series=lambda: p.d1.day,
        expected={1: 2, 2: 4, 3: None},
    ),
    SpecCase(
        "to_first_of_year",
        tables={
            p: """
                patient_id | d1
                1          | 1990-01-01
                2          | 2000-12-15
                3          | 2020-12-31
                4          |
            """,
        },
        series=lambda: p.d1.to_first_of_year(),
        expected={1: date(1990, 1, 1), 2: date(2000, 1, 1), 3: date(2020, 1, 1), 4: None},
    ),
    SpecCase(
        "to_first_of_month",
        tables={
            p: """
                patient_id | d1
                1          | 1990-01-01
                2          | 1990-01-31
                3          | 2020-02-29
                4          |
            """,
        },
        series=lambda: p.d1.to_first_of_month(),
        expected={1: date(1990, 1, 1), 2: date(1990, 1, 1), 3: date(2020, 2, 1), 4: None},
    ),
    SpecCase(
        "to_first_of_month on events, then the number of distinct months",
        tables={
            e: """
                patient_id | d1
                1          | 2020-01-01
                1          | 2020-01-31
                1          | 2020-02-01
                1          |
                2          |
            """,
        },
        series=lambda: e.d1.to_first_of_month().count_distinct_for_patient(),
        expected={1: 2, 2: 0},
    ),
    SpecCase(
        "year of the latest event; NULL for a patient with no events",
        tables={
            e: """
                patient_id | d1
                1          | 2019-12-31
                1          | 2021-01-01
            """,
            p: """
                patient_id
                2
            """,
        },
        series=lambda: e.d1.maximum_for_patient().year,
        expected={1: 2021, 2: None},
    ),
    # --- comparisons ----------------------------------------------------------------------
    SpecCase(
        "is_before a date",
        tables={p: _COMPARE},
        series=lambda: p.d1.is_before(date(2000, 1, 1)),
        expected={1: True, 2: False, 3: False, 4: None},
    ),
    SpecCase(
        "is_on_or_before a date",
        tables={p: _COMPARE},
        series=lambda: p.d1.is_on_or_before(date(2000, 1, 1)),
        expected={1: True, 2: True, 3: False, 4: None},
    ),
    SpecCase(
        "is_after a date",
        tables={p: _COMPARE},
        series=lambda: p.d1.is_after(date(2000, 1, 1)),
        expected={1: False, 2: False, 3: True, 4: None},
    ),
    SpecCase(
        "is_on_or_after a date",
        tables={p: _COMPARE},
        series=lambda: p.d1.is_on_or_after(date(2000, 1, 1)),
        expected={1: False, 2: True, 3: True, 4: None},
    ),
    SpecCase(
        "is_before an ISO date string",
        tables={
            p: """
                patient_id | d1
                1          | 1990-01-01
                2          | 2000-01-01
                3          | 2010-01-01
                4          |
            """,
        },
        series=lambda: p.d1.is_before("2000-01-20"),
        expected={1: True, 2: True, 3: False, 4: None},
    ),
    SpecCase(
        "is_before another date series; NULL on either side gives NULL",
        tables={
            p: """
                patient_id | d1         | d2
                1          | 1990-01-01 | 1980-01-01
                2          | 2000-01-01 | 1980-01-01
                3          | 2010-01-01 | 2020-01-01
                4          |            | 2020-01-01
                5          | 2010-01-01 |
            """,
        },
        series=lambda: p.d1.is_before(p.d2),
        expected={1: False, 2: False, 3: True, 4: None, 5: None},
    ),
    SpecCase(
        "is_between_but_not_on excludes both ends",
        tables={p: _BETWEEN},
        series=lambda: p.d1.is_between_but_not_on(date(2010, 1, 2), date(2010, 1, 4)),
        expected={1: False, 2: False, 3: True, 4: False, 5: False, 6: None},
    ),
    SpecCase(
        "is_on_or_between includes both ends",
        tables={p: _BETWEEN},
        series=lambda: p.d1.is_on_or_between(date(2010, 1, 2), date(2010, 1, 4)),
        expected={1: False, 2: True, 3: True, 4: True, 5: False, 6: None},
    ),
    SpecCase(
        "is_on_or_between a backwards range matches nothing",
        tables={p: _BETWEEN},
        series=lambda: p.d1.is_on_or_between(date(2010, 1, 4), date(2010, 1, 2)),
        expected={1: False, 2: False, 3: False, 4: False, 5: False, 6: None},
    ),
    SpecCase(
        "is_during a (start, end) pair of date strings is is_on_or_between",
        tables={p: _BETWEEN},
        series=lambda: p.d1.is_during(("2010-01-02", "2010-01-04")),
        expected={1: False, 2: True, 3: True, 4: True, 5: False, 6: None},
    ),
    SpecCase(
        "is_on_or_between with a series bound: a NULL bound gives NULL unless the other "
        "bound already fails",
        tables={
            p: """
                patient_id | d1         | d2
                1          | 2020-06-01 | 2020-01-01
                2          | 2020-06-01 |
                3          | 2021-06-01 |
                4          | 2019-06-01 | 2020-01-01
            """,
        },
        series=lambda: p.d1.is_on_or_between(p.d2, "2020-12-31"),
        expected={1: True, 2: None, 3: False, 4: False},
    ),
    # --- adding durations -----------------------------------------------------------------
    SpecCase(
        "+ days() of an integer series; NULL date or NULL count gives NULL",
        tables={
            p: """
                patient_id | d1         | i1
                1          | 1990-01-02 | 100
                2          | 2000-03-04 | 200
                3          |            | 1
                4          | 2000-03-04 |
                5          | 2000-03-01 | -1
            """,
        },
        series=lambda: p.d1 + days(p.i1),
        expected={
            1: date(1990, 4, 12),
            2: date(2000, 9, 20),
            3: None,
            4: None,
            5: date(2000, 2, 29),
        },
    ),
    SpecCase(
        "- days() of an integer series",
        tables={p: _PARTS},
        series=lambda: p.d1 - days(p.i1),
        expected={1: date(1989, 9, 24), 2: date(1999, 8, 17), 3: None},
    ),
    SpecCase(
        "days() + a date series (duration on the left)",
        tables={p: _PARTS},
        series=lambda: days(100) + p.d1,
        expected={1: date(1990, 4, 12), 2: date(2000, 6, 12), 3: None},
    ),
    SpecCase(
        "+ weeks() and - weeks() are multiples of 7 days",
        tables={
            p: """
                patient_id | d1
                1          | 2020-02-20
                2          |
            """,
        },
        series=lambda: ((p.d1 + weeks(2)) - (p.d1 - weeks(1))).days,
        expected={1: 21, 2: None},
    ),
    SpecCase(
        "+ weeks() of a constant",
        tables={
            p: """
                patient_id | d1
                1          | 2020-02-20
                2          |
            """,
        },
        series=lambda: p.d1 + weeks(2),
        expected={1: date(2020, 3, 5), 2: None},
    ),
    SpecCase(
        "- weeks() of an integer series",
        tables={
            p: """
                patient_id | d1         | i1
                1          | 2020-03-05 | 2
                2          | 2020-03-05 | -1
                3          | 2020-03-05 |
            """,
        },
        series=lambda: p.d1 - weeks(p.i1),
        expected={1: date(2020, 2, 20), 2: date(2020, 3, 12), 3: None},
    ),
    SpecCase(
        "+ months() of an integer series rolls a missing day up to the 1st of the next month",
        tables={
            p: """
                patient_id | d1         | i1
                1          | 2003-01-29 | 1
                2          | 2004-01-29 | 1
                3          | 2003-01-31 | 1
                4          | 2004-01-31 | 1
                5          | 2004-03-31 | -1
                6          | 2000-10-31 | 11
                7          | 2000-10-31 | -11
                8          |            | 1
                9          | 2000-10-31 |
            """,
        },
        series=lambda: p.d1 + months(p.i1),
        expected={
            1: date(2003, 3, 1),
            2: date(2004, 2, 29),
            3: date(2003, 3, 1),
            4: date(2004, 3, 1),
            5: date(2004, 3, 1),
            6: date(2001, 10, 1),
            7: date(1999, 12, 1),
            8: None,
            9: None,
        },
    ),
    SpecCase(
        "+ months(1) at month ends: 31 Aug, 31 Jan, 30 Jan, 31 May, 15 Dec",
        tables={
            p: """
                patient_id | d1
                1          | 2021-08-31
                2          | 2021-01-31
                3          | 2021-01-30
                4          | 2021-05-31
                5          | 2021-12-15
            """,
        },
        series=lambda: p.d1 + months(1),
        expected={
            1: date(2021, 10, 1),
            2: date(2021, 3, 1),
            3: date(2021, 3, 1),
            4: date(2021, 7, 1),
            5: date(2022, 1, 15),
        },
    ),
    SpecCase(
        "- months(1) at month ends: 31 Mar, 30 Mar, 31 Jan, 15 Jan",
        tables={
            p: """
                patient_id | d1
                1          | 2021-03-31
                2          | 2020-03-30
                3          | 2021-01-31
                4          | 2021-01-15
            """,
        },
        series=lambda: p.d1 - months(1),
        expected={
            1: date(2021, 3, 1),
            2: date(2020, 3, 1),
            3: date(2020, 12, 31),
            4: date(2020, 12, 15),
        },
    ),
    SpecCase(
        "+ months(12) from 29 February lands on 1 March",
        tables={
            p: """
                patient_id | d1
                1          | 2020-02-29
                2          | 2020-02-28
            """,
        },
        series=lambda: p.d1 + months(12),
        expected={1: date(2021, 3, 1), 2: date(2021, 2, 28)},
    ),
    SpecCase(
        "+ years() of an integer series: 29 February rolls up to 1 March in other years",
        tables={
            p: """
                patient_id | d1         | i1
                1          | 2000-06-15 | 5
                2          | 2000-06-15 | -5
                3          | 2004-02-29 | 1
                4          | 2004-02-29 | -1
                5          | 2004-02-29 | 4
                6          | 2004-02-29 | -4
                7          | 2003-03-01 | 1
                8          | 2003-03-01 |
            """,
        },
        series=lambda: p.d1 + years(p.i1),
        expected={
            1: date(2005, 6, 15),
            2: date(1995, 6, 15),
            3: date(2005, 3, 1),
            4: date(2003, 3, 1),
            5: date(2008, 2, 29),
            6: date(2000, 2, 29),
            7: date(2004, 3, 1),
            8: None,
        },
    ),
    SpecCase(
        "- years(1) from 29 February and from an ordinary date",
        tables={
            p: """
                patient_id | d1
                1          | 2020-02-29
                2          | 2000-06-15
                3          |
            """,
        },
        series=lambda: p.d1 - years(1),
        expected={1: date(2019, 3, 1), 2: date(1999, 6, 15), 3: None},
    ),
    SpecCase(
        "a date constant + days() of an integer series",
        tables={
            p: """
                patient_id | i1
                1          | 10
                2          | -10
                3          |
            """,
        },
        series=lambda: date(2000, 1, 1) + days(p.i1),
        expected={1: date(2000, 1, 11), 2: date(1999, 12, 22), 3: None},
    ),
    SpecCase(
        "a date constant + months() of an integer series",
        tables={
            p: """
                patient_id | i1
                1          | 10
                2          | -10
            """,
        },
        series=lambda: date(2000, 1, 1) + months(p.i1),
        expected={1: date(2000, 11, 1), 2: date(1999, 3, 1)},
    ),
    SpecCase(
        "a date constant + years() of an integer series",
        tables={
            p: """
                patient_id | i1
                1          | 10
                2          | -10
            """,
        },
        series=lambda: date(2000, 1, 1) + years(p.i1),
        expected={1: date(2010, 1, 1), 2: date(1990, 1, 1)},
    ),
    SpecCase(
        "durations of the same unit add together before being added to a date",
        tables={
            p: """
                patient_id | d1
                1          | 2020-01-10
                2          |
            """,
        },
        series=lambda: p.d1 + (days(1) + days(2)),
        expected={1: date(2020, 1, 13), 2: None},
    ),
    SpecCase(
        "a duration minus a larger duration of the same unit moves backwards",
        tables={
            p: """
                patient_id | d1
                1          | 2020-01-10
            """,
        },
        series=lambda: p.d1 + (weeks(1) - weeks(2)),
        expected={1: date(2020, 1, 3)},
    ),
    SpecCase(
        "adding a negated months() duration, rolling a missing day up",
        tables={
            p: """
                patient_id | d1
                1          | 2020-01-10
                2          | 2020-03-31
            """,
        },
        series=lambda: p.d1 + -months(1),
        expected={1: date(2019, 12, 10), 2: date(2020, 3, 1)},
    ),
    SpecCase(
        "an integer-series duration plus a constant duration",
        tables={
            p: """
                patient_id | d1         | i1
                1          | 2020-01-10 | 2
                2          | 2020-01-10 |
            """,
        },
        series=lambda: p.d1 + (days(p.i1) + days(1)),
        expected={1: date(2020, 1, 13), 2: None},
    ),
    SpecCase(
        "an ISO date string minus days() of an integer series",
        tables={
            p: """
                patient_id | i1
                1          | 9
                2          | -1
                3          |
            """,
        },
        series=lambda: "2020-01-10" - days(p.i1),
        expected={1: date(2020, 1, 1), 2: date(2020, 1, 11), 3: None},
    ),
    SpecCase(
        "adding days to event dates before aggregating",
        tables={
            e: """
                patient_id | d1
                1          | 2020-12-31
                1          | 2021-01-05
                2          |
            """,
        },
        series=lambda: (e.d1 + days(1)).minimum_for_patient(),
        expected={1: date(2021, 1, 1), 2: None},
    ),
    SpecCase(
        "count_episodes_for_patient(days(3)): dates no more than 3 days apart are one episode",
        tables={e: _EPISODES},
        series=lambda: e.d1.count_episodes_for_patient(days(3)),
        expected={1: 2, 2: 1, 3: 0, 4: 2},
        notes=_EPISODES_NOTE,
    ),
    SpecCase(
        "count_episodes_for_patient(weeks(1)): the gap is measured from the previous event",
        tables={e: _EPISODES},
        series=lambda: e.d1.count_episodes_for_patient(weeks(1)),
        expected={1: 1, 2: 1, 3: 0, 4: 2},
        notes=_EPISODES_NOTE,
    ),
    # --- differences ------------------------------------------------------------------------
    SpecCase(
        "difference in days, positive and negative, across leap years",
        tables={
            p: """
                patient_id | d1         | d2
                1          | 2000-01-01 | 2000-01-01
                2          | 2000-03-01 | 2000-01-01
                3          | 2001-03-01 | 2001-01-01
                4          | 1999-12-31 | 2001-01-01
                5          |            | 2001-01-01
            """,
        },
        series=lambda: (p.d1 - p.d2).days,
        expected={1: 0, 2: 60, 3: 59, 4: -367, 5: None},
    ),
    SpecCase(
        "difference in whole weeks rounds down, so negative part-weeks count as -1",
        tables={
            p: """
                patient_id | d1         | d2
                1          | 2020-01-15 | 2020-01-01
                2          | 2020-01-14 | 2020-01-01
                3          | 2020-01-01 | 2020-01-01
                4          | 2020-01-01 | 2020-01-02
                5          | 2020-01-01 | 2020-01-08
                6          | 2020-01-01 | 2020-01-09
                7          | 2020-01-01 |
            """,
        },
        series=lambda: (p.d1 - p.d2).weeks,
        expected={1: 2, 2: 1, 3: 0, 4: -1, 5: -1, 6: -2, 7: None},
        notes="ehrQL defines DateDifference.weeks as `self.days // 7` (floor division).",
    ),
    SpecCase(
        "difference in months, positive and negative",
        tables={
            p: """
                patient_id | d1         | d2
                1          | 2000-02-28 | 2000-01-30
                2          | 2000-03-01 | 2000-01-30
                3          | 2000-03-28 | 2000-02-28
                4          | 2000-03-30 | 2000-01-30
                5          | 2000-02-27 | 2000-01-30
                6          | 2000-01-27 | 2000-01-30
                7          | 1999-12-26 | 2000-01-27
                8          | 2005-02-28 | 2004-02-29
                9          | 2010-01-01 | 2000-01-01
                10         | 2000-01-01 |
            """,
        },
        series=lambda: (p.d1 - p.d2).months,
        expected={1: 0, 2: 1, 3: 1, 4: 2, 5: 0, 6: -1, 7: -2, 8: 11, 9: 120, 10: None},
        notes=_NEGATIVE_DIFF_NOTE + " (patients 6 and 7)",
    ),
    SpecCase(
        "difference in months from the 31st: a month is complete only once the day is reached",
        tables={
            p: """
                patient_id | d1         | d2
                1          | 2020-02-29 | 2020-01-31
                2          | 2020-03-01 | 2020-01-31
                3          | 2020-04-30 | 2020-01-31
                4          | 2020-05-01 | 2020-01-31
                5          | 2020-02-14 | 2020-01-15
                6          | 2020-02-15 | 2020-01-15
            """,
        },
        series=lambda: (p.d1 - p.d2).months,
        expected={1: 0, 2: 1, 3: 2, 4: 3, 5: 0, 6: 1},
    ),
    SpecCase(
        "difference in years (ages), with a 29 February birthday and negative results",
        tables={
            p: """
                patient_id | d1
                1          | 2020-02-29
                2          | 2020-02-28
                3          | 2019-01-01
                4          | 2021-03-01
                5          | 2023-01-01
                6          |
            """,
        },
        series=lambda: (date(2021, 2, 28) - p.d1).years,
        expected={1: 0, 2: 1, 3: 2, 4: -1, 5: -2, 6: None},
        notes=_NEGATIVE_DIFF_NOTE + " (patients 4 and 5)",
    ),
    SpecCase(
        "difference in years with an ISO date string on the right",
        tables={
            p: """
                patient_id | d1
                1          | 1990-01-30
                2          | 1970-01-15
            """,
        },
        series=lambda: (p.d1 - "1980-01-20").years,
        expected={1: 10, 2: -11},
        notes=_NEGATIVE_DIFF_NOTE + " (patient 2)",
    ),
    SpecCase(
        "difference in years with an ISO date string on the left",
        tables={
            p: """
                patient_id | d1
                1          | 2000-06-15
                2          | 2000-06-16
                3          |
            """,
        },
        series=lambda: ("2020-06-15" - p.d1).years,
        expected={1: 20, 2: 19, 3: None},
    ),
    SpecCase(
        "age of someone born on 29 February: a birthday in a non-leap year is 1 March",
        tables={
            p: """
                patient_id | d1
                1          | 2001-02-28
                2          | 2001-03-01
                3          | 2004-02-28
                4          | 2004-02-29
            """,
        },
        series=lambda: (p.d1 - date(2000, 2, 29)).years,
        expected={1: 0, 2: 1, 3: 3, 4: 4},
    ),
    SpecCase(
        "one day short of a year, and the same day a year later",
        tables={
            p: """
                patient_id | d1         | d2
                1          | 2001-06-14 | 2000-06-15
                2          | 2001-06-15 | 2000-06-15
                3          | 2000-06-15 | 2000-06-15
            """,
        },
        series=lambda: (p.d1 - p.d2).years,
        expected={1: 0, 2: 1, 3: 0},
    ),
    SpecCase(
        "one day short of a year backwards is already -1 year",
        tables={
            p: """
                patient_id | d1         | d2
                1          | 2000-06-14 | 2000-06-15
                2          | 1999-06-16 | 2000-06-15
                3          | 1999-06-15 | 2000-06-15
                4          | 1999-06-14 | 2000-06-15
            """,
        },
        series=lambda: (p.d1 - p.d2).years,
        expected={1: -1, 2: -1, 3: -1, 4: -2},
        notes=_NEGATIVE_DIFF_NOTE + " (patients 1, 2 and 4)",
    ),
    SpecCase(
        "one day short of a month backwards is already -1 month",
        tables={
            p: """
                patient_id | d1         | d2
                1          | 2020-03-14 | 2020-03-15
                2          | 2020-02-15 | 2020-03-15
                3          | 2020-02-14 | 2020-03-15
            """,
        },
        series=lambda: (p.d1 - p.d2).months,
        expected={1: -1, 2: -1, 3: -2},
        notes=_NEGATIVE_DIFF_NOTE + " (patients 1 and 3)",
    ),
    SpecCase(
        "the same day is 0 days, 0 weeks, 0 months and 0 years apart",
        tables={
            p: """
                patient_id | d1         | d2
                1          | 2020-02-29 | 2020-02-29
            """,
        },
        series=lambda: (
            (p.d1 - p.d2).days + (p.d1 - p.d2).weeks + (p.d1 - p.d2).months + (p.d1 - p.d2).years
        ),
        expected={1: 0},
    ),
    SpecCase(
        "difference in days between event dates and a patient date, aggregated",
        tables={
            p: """
                patient_id | d1
                1          | 2020-01-10
                2          |
            """,
            e: """
                patient_id | d1
                1          | 2020-01-01
                1          | 2020-01-25
                2          | 2020-01-01
            """,
        },
        series=lambda: (e.d1 - p.d1).days.maximum_for_patient(),
        expected={1: 15, 2: None},
    ),
    SpecCase(
        "events within 30 days after a patient's index date",
        tables={
            p: """
                patient_id | d1
                1          | 2020-01-31
                2          |
            """,
            e: """
                patient_id | d1
                1          | 2020-01-30
                1          | 2020-01-31
                1          | 2020-03-01
                1          | 2020-03-02
                2          | 2020-01-31
            """,
        },
        series=lambda: e.where(e.d1.is_on_or_between(p.d1, p.d1 + days(30))).count_for_patient(),
        expected={1: 2, 2: 0},
    ),
]


def test_spec(spec_case, engine):
    check_case(spec_case, engine)
