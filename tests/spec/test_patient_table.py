"""Spec: the patient table (at most one row per patient) and combining it with events.

ehrQL documents that a patient frame's columns are patient series (NULL for a patient without a
row), that exists_for_patient()/count_for_patient() work on patient frames, and that patient
series combine with event series row by row and with each other patient by patient.
"""

from datetime import date

from spec.harness import SpecCase
from spec.runner import check_case
from spec.tables import e, p

A = "111552007"

CASES = [
    SpecCase(
        "an integer column of the patient table; NULL for a patient only in the event table",
        tables={
            p: """
                patient_id | i1
                1          | 10
                2          |
            """,
            e: """
                patient_id | i1
                3          | 30
            """,
        },
        series=lambda: p.i1,
        expected={1: 10, 2: None, 3: None},
    ),
    SpecCase(
        "a date column of the patient table",
        tables={
            p: """
                patient_id | d1
                1          | 1980-05-17
                2          |
            """,
        },
        series=lambda: p.d1,
        expected={1: date(1980, 5, 17), 2: None},
    ),
    SpecCase(
        "a code column of the patient table",
        tables={
            p: f"""
                patient_id | c1
                1          | {A}
                2          |
            """,
        },
        series=lambda: p.c1,
        expected={1: A, 2: None},
    ),
    SpecCase(
        "a boolean column of the patient table",
        tables={
            p: """
                patient_id | b1
                1          | T
                2          | F
                3          |
            """,
        },
        series=lambda: p.b1,
        expected={1: True, 2: False, 3: None},
    ),
    SpecCase(
        "a float column of the patient table",
        tables={
            p: """
                patient_id | f1
                1          | 72.5
                2          |
            """,
        },
        series=lambda: p.f1,
        expected={1: 72.5, 2: None},
    ),
    SpecCase(
        "exists_for_patient on the patient table, even for an all-NULL row",
        tables={
            p: """
                patient_id | i1 | s1
                1          |    |
                2          | 5  | x
            """,
            e: """
                patient_id | i1
                3          | 1
            """,
        },
        series=lambda: p.exists_for_patient(),
        expected={1: True, 2: True, 3: False},
    ),
    SpecCase(
        "count_for_patient on the patient table",
        tables={
            p: """
                patient_id | i1
                1          | 101
                2          | 201
                3          | 301
            """,
            e: """
                patient_id | b1
                1          | T
                1          | F
                2          |
                4          | T
            """,
        },
        series=lambda: p.count_for_patient(),
        expected={1: 1, 2: 1, 3: 1, 4: 0},
        notes="ehrQL documents count_for_patient() on PatientFrame as well as EventFrame.",
    ),
    SpecCase(
        "two patient series combined patient by patient",
        tables={
            p: """
                patient_id | i1  | i2
                1          | 101 | 102
                2          | 201 | 202
                3          | 301 |
            """,
        },
        series=lambda: p.i1 + p.i2,
        expected={1: 203, 2: 403, 3: None},
    ),
    SpecCase(
        "patient series + event series, aggregated",
        tables={
            p: """
                patient_id | i1
                1          | 101
                2          | 201
            """,
            e: """
                patient_id | i1
                1          | 111
                1          | 112
                2          | 211
                2          | 212
            """,
        },
        series=lambda: (p.i1 + e.i1).sum_for_patient(),
        expected={1: 425, 2: 825},
    ),
    SpecCase(
        "counting events after a date held in the patient table",
        tables={
            p: """
                patient_id | d1
                1          | 2015-01-01
                2          | 2015-01-01
                3          |
                4          | 2015-01-01
            """,
            e: """
                patient_id | d1
                1          | 2020-01-01
                1          | 2015-01-01
                1          |
                2          | 2010-01-01
                3          | 2020-01-01
                5          | 2020-01-01
            """,
        },
        series=lambda: e.where(e.d1 > p.d1).count_for_patient(),
        expected={1: 1, 2: 0, 3: 0, 4: 0, 5: 0},
    ),
    SpecCase(
        "a patient column compared with an aggregate of the event table",
        tables={
            p: """
                patient_id | i1
                1          | 10
                2          | 10
                3          | 10
            """,
            e: """
                patient_id | i1
                1          | 5
                1          | 12
                2          | 3
            """,
        },
        series=lambda: p.i1 > e.i1.maximum_for_patient(),
        expected={1: False, 2: True, 3: None},
    ),
    SpecCase(
        "a patient with a row in the patient table but no events",
        tables={
            p: """
                patient_id | d1
                1          | 2000-01-01
            """,
            e: """
                patient_id | d1
                2          | 2020-01-01
            """,
        },
        series=lambda: e.d1.minimum_for_patient().when_null_then(p.d1),
        expected={1: date(2000, 1, 1), 2: date(2020, 1, 1)},
    ),
]


def test_spec(spec_case, engine):
    check_case(spec_case, engine)
