"""Spec: boolean logic (&, |, ~), is_null()/is_not_null() on every type, and bool as_int().

ehrQL documents three-valued logic: & is False where either side is False, True where both are
True, NULL otherwise; | is True where either side is True, False where both are False, NULL
otherwise; ~ keeps NULL as NULL. is_null() is never NULL. as_int() gives 1/0 and keeps NULL.
"""

from spec.harness import SpecCase
from spec.runner import check_case
from spec.tables import e, p

A = "111552007"

_NINE = """
    patient_id | b1 | b2
    1          | T  | T
    2          | T  |
    3          | T  | F
    4          |    | T
    5          |    |
    6          |    | F
    7          | F  | T
    8          | F  |
    9          | F  | F
"""

_ONE = """
    patient_id | b1
    1          | T
    2          |
    3          | F
"""

CASES = [
    SpecCase(
        "~ inverts True and False and keeps NULL",
        tables={p: _ONE},
        series=lambda: ~p.b1,
        expected={1: False, 2: None, 3: True},
    ),
    SpecCase(
        "~~ gives back the original, NULL included",
        tables={p: _ONE},
        series=lambda: ~~p.b1,
        expected={1: True, 2: None, 3: False},
    ),
    SpecCase(
        "& truth table with NULL",
        tables={p: _NINE},
        series=lambda: p.b1 & p.b2,
        expected={
            1: True,
            2: None,
            3: False,
            4: None,
            5: None,
            6: False,
            7: False,
            8: False,
            9: False,
        },
    ),
    SpecCase(
        "| truth table with NULL",
        tables={p: _NINE},
        series=lambda: p.b1 | p.b2,
        expected={1: True, 2: True, 3: True, 4: True, 5: None, 6: None, 7: True, 8: None, 9: False},
    ),
    SpecCase(
        "~(a & b) with NULL follows De Morgan",
        tables={p: _NINE},
        series=lambda: ~(p.b1 & p.b2),
        expected={1: False, 2: None, 3: True, 4: None, 5: None, 6: True, 7: True, 8: True, 9: True},
    ),
    SpecCase(
        "~a | ~b with NULL equals ~(a & b)",
        tables={p: _NINE},
        series=lambda: ~p.b1 | ~p.b2,
        expected={1: False, 2: None, 3: True, 4: None, 5: None, 6: True, 7: True, 8: True, 9: True},
    ),
    SpecCase(
        "& True leaves the series unchanged, NULL included",
        tables={p: _ONE},
        series=lambda: p.b1 & True,
        expected={1: True, 2: None, 3: False},
    ),
    SpecCase(
        "& False is False everywhere, even for NULL",
        tables={p: _ONE},
        series=lambda: p.b1 & False,
        expected={1: False, 2: False, 3: False},
    ),
    SpecCase(
        "| True is True everywhere, even for NULL",
        tables={p: _ONE},
        series=lambda: p.b1 | True,
        expected={1: True, 2: True, 3: True},
    ),
    SpecCase(
        "| False leaves the series unchanged, NULL included",
        tables={p: _ONE},
        series=lambda: p.b1 | False,
        expected={1: True, 2: None, 3: False},
    ),
    SpecCase(
        "a constant on the left of & is reflected correctly",
        tables={p: _ONE},
        series=lambda: False & p.b1,
        expected={1: False, 2: False, 3: False},
    ),
    SpecCase(
        "a constant on the left of | is reflected correctly",
        tables={p: _ONE},
        series=lambda: True | p.b1,
        expected={1: True, 2: True, 3: True},
    ),
    SpecCase(
        "& of two comparisons where either comparison may be NULL",
        tables={
            p: """
                patient_id | i1 | i2
                1          | 1  | 1
                2          | 1  | -1
                3          |    | -1
                4          |    | 1
            """,
        },
        series=lambda: (p.i1 > 0) & (p.i2 > 0),
        expected={1: True, 2: False, 3: False, 4: None},
    ),
    SpecCase(
        "& of an aggregate and a patient column",
        tables={
            p: """
                patient_id | b1
                1          | T
                2          | T
                3          |
            """,
            e: """
                patient_id | i1
                1          | 1
                3          | 1
            """,
        },
        series=lambda: e.exists_for_patient() & p.b1,
        expected={1: True, 2: False, 3: None},
    ),
    SpecCase(
        "bool as_int: 1 for True, 0 for False, NULL for NULL",
        tables={p: _ONE},
        series=lambda: p.b1.as_int(),
        expected={1: 1, 2: None, 3: 0},
    ),
    SpecCase(
        "bool as_int summed over events counts the True rows",
        tables={
            e: """
                patient_id | b1
                1          | T
                1          | T
                1          | F
                1          |
                2          | F
                3          |
            """,
        },
        series=lambda: e.b1.as_int().sum_for_patient(),
        expected={1: 2, 2: 0, 3: None},
    ),
    SpecCase(
        "event-level & used in where()",
        tables={
            e: """
                patient_id | b1 | b2
                1          | T  | T
                1          | T  | F
                1          | T  |
                2          | F  |
            """,
        },
        series=lambda: e.where(e.b1 & e.b2).count_for_patient(),
        expected={1: 1, 2: 0},
    ),
    # --- is_null / is_not_null on every type ------------------------------------------------
    SpecCase(
        "is_null on an integer column",
        tables={
            p: """
                patient_id | i1
                1          | 101
                2          | 0
                3          |
            """,
        },
        series=lambda: p.i1.is_null(),
        expected={1: False, 2: False, 3: True},
    ),
    SpecCase(
        "is_not_null on an integer column",
        tables={
            p: """
                patient_id | i1
                1          | 101
                2          | 0
                3          |
            """,
        },
        series=lambda: p.i1.is_not_null(),
        expected={1: True, 2: True, 3: False},
    ),
    SpecCase(
        "is_null on a float column",
        tables={
            p: """
                patient_id | f1
                1          | 0.0
                2          |
            """,
        },
        series=lambda: p.f1.is_null(),
        expected={1: False, 2: True},
    ),
    SpecCase(
        "is_null on a boolean column: False is not NULL",
        tables={p: _ONE},
        series=lambda: p.b1.is_null(),
        expected={1: False, 2: True, 3: False},
    ),
    SpecCase(
        "is_not_null on a boolean column",
        tables={p: _ONE},
        series=lambda: p.b1.is_not_null(),
        expected={1: True, 2: False, 3: True},
    ),
    SpecCase(
        "is_null on a string column",
        tables={
            p: """
                patient_id | s1
                1          | x
                2          |
            """,
        },
        series=lambda: p.s1.is_null(),
        expected={1: False, 2: True},
    ),
    SpecCase(
        "is_null on a date column",
        tables={
            p: """
                patient_id | d1
                1          | 2020-01-01
                2          |
            """,
        },
        series=lambda: p.d1.is_null(),
        expected={1: False, 2: True},
    ),
    SpecCase(
        "is_not_null on a date column",
        tables={
            p: """
                patient_id | d1
                1          | 2020-01-01
                2          |
            """,
        },
        series=lambda: p.d1.is_not_null(),
        expected={1: True, 2: False},
    ),
    SpecCase(
        "is_null on a code column",
        tables={
            p: f"""
                patient_id | c1
                1          | {A}
                2          |
            """,
        },
        series=lambda: p.c1.is_null(),
        expected={1: False, 2: True},
    ),
    SpecCase(
        "is_null on a column of a patient-table row that does not exist is True",
        tables={
            p: """
                patient_id | i1
                1          | 5
            """,
            e: """
                patient_id | i1
                2          | 5
            """,
        },
        series=lambda: p.i1.is_null(),
        expected={1: False, 2: True},
    ),
    SpecCase(
        "is_null on a picked value for a patient with no rows is True",
        tables={
            e: """
                patient_id | i1
                1          | 5
            """,
            p: """
                patient_id
                2
            """,
        },
        series=lambda: e.sort_by(e.i1).first_for_patient().i1.is_null(),
        expected={1: False, 2: True},
    ),
    SpecCase(
        "is_null on an aggregate: sum is NULL without values, count is never NULL",
        tables={
            e: """
                patient_id | i1
                1          | 5
                2          |
            """,
            p: """
                patient_id
                3
            """,
        },
        series=lambda: e.i1.sum_for_patient().is_null() & e.count_for_patient().is_not_null(),
        expected={1: False, 2: True, 3: True},
    ),
]


def test_spec(spec_case, engine):
    check_case(spec_case, engine)
