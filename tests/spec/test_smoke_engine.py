"""A first handful of cases, proving the harness end to end (the topic modules hold the rest)."""

from fedsafe import days, months, years
from spec.harness import SpecCase
from spec.runner import check_case
from spec.tables import e, p

CASES = [
    SpecCase(
        "count_for_patient counts rows; 0 for a patient with none",
        tables={
            e: """
                patient_id | i1
                1          | 101
                1          | 102
                2          |
            """,
            p: """
                patient_id
                3
            """,
        },
        series=lambda: e.count_for_patient(),
        expected={1: 2, 2: 1, 3: 0},
    ),
    SpecCase(
        "first_for_patient picks the earliest, NULLs sort first",
        tables={
            e: """
                patient_id | d1         | i1
                1          | 2020-01-02 | 1
                1          | 2020-01-01 | 2
                2          |            | 3
                2          | 2019-01-01 | 4
            """,
        },
        series=lambda: e.sort_by(e.d1).first_for_patient().i1,
        expected={1: 2, 2: 3},
    ),
    SpecCase(
        "months roll up to the next month when the day is missing",
        tables={
            p: """
                patient_id | d1
                1          | 2020-08-31
                2          | 2020-02-29
                3          | 2020-01-31
                4          |
            """,
        },
        series=lambda: p.d1 + months(1),
        expected={
            1: __import__("datetime").date(2020, 10, 1),
            2: __import__("datetime").date(2020, 3, 29),
            3: __import__("datetime").date(2020, 3, 1),
            4: None,
        },
    ),
    SpecCase(
        "age in whole years across a leap day birthday",
        tables={
            p: """
                patient_id | d1
                1          | 2000-02-29
                2          | 2000-03-01
            """,
        },
        series=lambda: (p.d1 + years(1) + days(0) - p.d1).years,
        expected={1: 1, 2: 1},
    ),
    SpecCase(
        "where with a patient-level condition, then exists",
        tables={
            e: """
                patient_id | d1
                1          | 2020-01-01
                2          | 2010-01-01
            """,
            p: """
                patient_id | d1
                1          | 2015-01-01
                2          | 2015-01-01
            """,
        },
        series=lambda: e.where(e.d1 > p.d1).exists_for_patient(),
        expected={1: True, 2: False},
    ),
]


def test_spec(spec_case, engine):
    check_case(spec_case, engine)
