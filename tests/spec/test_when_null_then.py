"""Spec: when_null_then() replaces NULL values.

ehrQL documents that when_null_then(other) replaces each NULL value with the corresponding
value of `other` (a constant or a series of the same type) and leaves other values alone.
"""

from datetime import date

from spec.harness import SpecCase
from spec.runner import check_case
from spec.tables import e, p

_INTS = """
    patient_id | i1
    1          | 101
    2          | 201
    3          | 301
    4          |
"""

CASES = [
    SpecCase(
        "when_null_then on an integer column",
        tables={p: _INTS},
        series=lambda: p.i1.when_null_then(0),
        expected={1: 101, 2: 201, 3: 301, 4: 0},
    ),
    SpecCase(
        "when_null_then on a boolean result turns NULL into False",
        tables={p: _INTS},
        series=lambda: p.i1.is_in([101, 201]).when_null_then(False),
        expected={1: True, 2: True, 3: False, 4: False},
    ),
    SpecCase(
        "when_null_then with another column; NULL if both are NULL",
        tables={
            p: """
                patient_id | i1 | i2
                1          | 1  | 10
                2          |    | 20
                3          |    |
                4          | 4  |
            """,
        },
        series=lambda: p.i1.when_null_then(p.i2),
        expected={1: 1, 2: 20, 3: None, 4: 4},
    ),
    SpecCase(
        "chained when_null_then falls back in order",
        tables={
            p: """
                patient_id | i1 | i2
                1          | 1  | 10
                2          |    | 20
                3          |    |
            """,
        },
        series=lambda: p.i1.when_null_then(p.i2).when_null_then(-1),
        expected={1: 1, 2: 20, 3: -1},
    ),
    SpecCase(
        "when_null_then on a float column with an int constant",
        tables={
            p: """
                patient_id | f1
                1          | 1.5
                2          |
            """,
        },
        series=lambda: p.f1.when_null_then(0),
        expected={1: 1.5, 2: 0.0},
    ),
    SpecCase(
        "when_null_then on a date column with an ISO date string",
        tables={
            p: """
                patient_id | d1
                1          | 2020-05-05
                2          |
            """,
        },
        series=lambda: p.d1.when_null_then("1900-01-01"),
        expected={1: date(2020, 5, 5), 2: date(1900, 1, 1)},
    ),
    SpecCase(
        "when_null_then on a boolean column leaves False alone",
        tables={
            p: """
                patient_id | b1
                1          | F
                2          |
                3          | T
            """,
        },
        series=lambda: p.b1.when_null_then(True),
        expected={1: False, 2: True, 3: True},
    ),
    SpecCase(
        "when_null_then on an event series before aggregating",
        tables={
            e: """
                patient_id | i1
                1          | 5
                1          |
                2          |
            """,
            p: """
                patient_id
                3
            """,
        },
        series=lambda: e.i1.when_null_then(100).sum_for_patient(),
        expected={1: 105, 2: 100, 3: None},
    ),
    SpecCase(
        "when_null_then after aggregating fills in patients without values",
        tables={
            e: """
                patient_id | i1
                1          | 5
                1          | 6
                2          |
            """,
            p: """
                patient_id
                3
            """,
        },
        series=lambda: e.i1.sum_for_patient().when_null_then(0),
        expected={1: 11, 2: 0, 3: 0},
    ),
    SpecCase(
        "when_null_then on a picked date for a patient with no rows",
        tables={
            e: """
                patient_id | d1
                1          | 2020-01-01
                1          | 2020-02-01
            """,
            p: """
                patient_id
                2
            """,
        },
        series=lambda: e.sort_by(e.d1).first_for_patient().d1.when_null_then("2099-12-31"),
        expected={1: date(2020, 1, 1), 2: date(2099, 12, 31)},
    ),
    SpecCase(
        "when_null_then leaves a value equal to the replacement alone",
        tables={
            p: """
                patient_id | s1
                1          | x
                2          |
                3          | y
            """,
        },
        series=lambda: p.s1.when_null_then("x") == "x",
        expected={1: True, 2: True, 3: False},
    ),
]


def test_spec(spec_case, engine):
    check_case(spec_case, engine)
