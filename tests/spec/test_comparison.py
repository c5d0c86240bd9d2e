"""Spec: comparison operators ==, !=, <, <=, >, >= on every comparable type.

ehrQL documents that comparisons give a boolean series that is NULL when either side is NULL
(including NULL == NULL), that Python constants may appear on either side (dates as ISO
strings, ints where a float is expected), and that event series may be compared with patient
series.
"""

from datetime import date

from spec.harness import SpecCase
from spec.runner import check_case
from spec.tables import e, p

_INTS = """
    patient_id | i1  | i2
    1          | 101 | 201
    2          | 201 | 201
    3          | 301 | 201
    4          |     | 201
"""

_EQ = """
    patient_id | i1  | i2
    1          | 101 | 101
    2          | 201 | 202
    3          | 301 |
    4          |     |
"""

_FLOATS = """
    patient_id | f1    | f2
    1          | 101.1 | 201.2
    2          | 201.2 | 201.2
    3          | 301.3 | 201.2
    4          |       | 201.2
"""

CASES = [
    SpecCase(
        "int < int; NULL on either side gives NULL",
        tables={p: _INTS},
        series=lambda: p.i1 < p.i2,
        expected={1: True, 2: False, 3: False, 4: None},
    ),
    SpecCase(
        "int <= int",
        tables={p: _INTS},
        series=lambda: p.i1 <= p.i2,
        expected={1: True, 2: True, 3: False, 4: None},
    ),
    SpecCase(
        "int > int",
        tables={p: _INTS},
        series=lambda: p.i1 > p.i2,
        expected={1: False, 2: False, 3: True, 4: None},
    ),
    SpecCase(
        "int >= int",
        tables={p: _INTS},
        series=lambda: p.i1 >= p.i2,
        expected={1: False, 2: True, 3: True, 4: None},
    ),
    SpecCase(
        "int == int; NULL == NULL is NULL, not True",
        tables={p: _EQ},
        series=lambda: p.i1 == p.i2,
        expected={1: True, 2: False, 3: None, 4: None},
    ),
    SpecCase(
        "int != int; NULL on either side gives NULL",
        tables={p: _EQ},
        series=lambda: p.i1 != p.i2,
        expected={1: False, 2: True, 3: None, 4: None},
    ),
    SpecCase(
        "int compared with a negative constant",
        tables={
            p: """
                patient_id | i1
                1          | -3
                2          | -1
                3          | 0
                4          |
            """,
        },
        series=lambda: p.i1 > -2,
        expected={1: False, 2: True, 3: True, 4: None},
    ),
    SpecCase(
        "a constant on the left of < is reflected correctly",
        tables={
            p: """
                patient_id | i1
                1          | 99
                2          | 100
                3          | 101
                4          |
            """,
        },
        series=lambda: 100 < p.i1,  # noqa: SIM300 - testing the reflected operator
        expected={1: False, 2: False, 3: True, 4: None},
    ),
    SpecCase(
        "a constant on the left of == is reflected correctly",
        tables={
            p: """
                patient_id | i1
                1          | 101
                2          | 102
                3          |
            """,
        },
        series=lambda: 101 == p.i1,  # noqa: SIM300 - testing the reflected operator
        expected={1: True, 2: False, 3: None},
    ),
    SpecCase(
        "float < float",
        tables={p: _FLOATS},
        series=lambda: p.f1 < p.f2,
        expected={1: True, 2: False, 3: False, 4: None},
    ),
    SpecCase(
        "float <= float",
        tables={p: _FLOATS},
        series=lambda: p.f1 <= p.f2,
        expected={1: True, 2: True, 3: False, 4: None},
    ),
    SpecCase(
        "float > float",
        tables={p: _FLOATS},
        series=lambda: p.f1 > p.f2,
        expected={1: False, 2: False, 3: True, 4: None},
    ),
    SpecCase(
        "float >= float",
        tables={p: _FLOATS},
        series=lambda: p.f1 >= p.f2,
        expected={1: False, 2: True, 3: True, 4: None},
    ),
    SpecCase(
        "float compared with an int constant (the int is taken as a float)",
        tables={
            p: """
                patient_id | f1
                1          | 1.5
                2          | 2.0
                3          | 2.5
                4          |
            """,
        },
        series=lambda: p.f1 >= 2,
        expected={1: False, 2: True, 3: True, 4: None},
    ),
    SpecCase(
        "float == float constant",
        tables={
            p: """
                patient_id | f1
                1          | 0.5
                2          | 0.25
                3          |
            """,
        },
        series=lambda: p.f1 == 0.5,
        expected={1: True, 2: False, 3: None},
    ),
    SpecCase(
        "string == constant is case-sensitive",
        tables={
            p: """
                patient_id | s1
                1          | female
                2          | Female
                3          | male
                4          |
            """,
        },
        series=lambda: p.s1 == "female",
        expected={1: True, 2: False, 3: False, 4: None},
    ),
    SpecCase(
        "string != string column; NULL on either side gives NULL",
        tables={
            p: """
                patient_id | s1 | s2
                1          | a  | a
                2          | a  | b
                3          | a  |
                4          |    | b
            """,
        },
        series=lambda: p.s1 != p.s2,
        expected={1: False, 2: True, 3: None, 4: None},
    ),
    SpecCase(
        "string < string orders lexicographically (a prefix comes first)",
        tables={
            p: """
                patient_id | s1    | s2
                1          | apple | banana
                2          | pear  | banana
                3          | ab    | abc
                4          | abc   | abc
                5          |       | abc
            """,
        },
        series=lambda: p.s1 < p.s2,
        expected={1: True, 2: False, 3: True, 4: False, 5: None},
    ),
    SpecCase(
        "string >= constant",
        tables={
            p: """
                patient_id | s1
                1          | m
                2          | mm
                3          | l
                4          |
            """,
        },
        series=lambda: p.s1 >= "m",
        expected={1: True, 2: True, 3: False, 4: None},
    ),
    SpecCase(
        "date == an ISO date string",
        tables={
            p: """
                patient_id | d1
                1          | 2020-01-01
                2          | 2020-01-02
                3          |
            """,
        },
        series=lambda: p.d1 == "2020-01-01",
        expected={1: True, 2: False, 3: None},
    ),
    SpecCase(
        "date < date column",
        tables={
            p: """
                patient_id | d1         | d2
                1          | 1990-01-01 | 1980-01-01
                2          | 2000-01-01 | 2000-01-01
                3          | 2010-01-01 | 2020-01-01
                4          |            | 2020-01-01
                5          | 2010-01-01 |
            """,
        },
        series=lambda: p.d1 < p.d2,
        expected={1: False, 2: False, 3: True, 4: None, 5: None},
    ),
    SpecCase(
        "date >= a datetime.date constant",
        tables={
            p: """
                patient_id | d1
                1          | 1999-12-31
                2          | 2000-01-01
                3          | 2000-01-02
                4          |
            """,
        },
        series=lambda: p.d1 >= date(2000, 1, 1),
        expected={1: False, 2: True, 3: True, 4: None},
    ),
    SpecCase(
        "bool == bool; NULL on either side gives NULL",
        tables={
            p: """
                patient_id | b1 | b2
                1          | T  | T
                2          | T  | F
                3          | F  | F
                4          |    | F
                5          |    |
            """,
        },
        series=lambda: p.b1 == p.b2,
        expected={1: True, 2: False, 3: True, 4: None, 5: None},
    ),
    SpecCase(
        "bool == False constant",
        tables={
            p: """
                patient_id | b1
                1          | T
                2          | F
                3          |
            """,
        },
        series=lambda: p.b1 == False,  # noqa: E712 - a series comparison, not a Python test
        expected={1: False, 2: True, 3: None},
    ),
    SpecCase(
        "event series compared row by row with a patient series",
        tables={
            p: """
                patient_id | i1
                1          | 10
                2          |
            """,
            e: """
                patient_id | i1
                1          | 5
                1          | 15
                1          | 20
                1          |
                2          | 100
                3          | 100
            """,
        },
        series=lambda: e.where(e.i1 > p.i1).count_for_patient(),
        expected={1: 2, 2: 0, 3: 0},
    ),
    SpecCase(
        "two event series compared row by row",
        tables={
            e: """
                patient_id | i1 | i2
                1          | 1  | 2
                1          | 3  | 2
                1          | 2  | 2
                1          |    | 2
                2          | 0  | 1
            """,
        },
        series=lambda: e.where(e.i1 <= e.i2).count_for_patient(),
        expected={1: 2, 2: 1},
    ),
    SpecCase(
        "comparing two aggregates; a patient with no rows gets NULL",
        tables={
            e: """
                patient_id | i1 | i2
                1          | 5  | 1
                1          | 2  | 9
                2          | 3  | 3
            """,
            p: """
                patient_id
                3
            """,
        },
        series=lambda: e.i1.maximum_for_patient() > e.i2.maximum_for_patient(),
        expected={1: False, 2: False, 3: None},
    ),
]


def test_spec(spec_case, engine):
    check_case(spec_case, engine)
