"""Spec: arithmetic on integer and float series, and converting between them.

ehrQL documents + - * and unary - (NULL if either side is NULL), / always giving a float and //
rounding down (towards minus infinity) and always giving an integer, division by zero giving
NULL, Python constants on either side (an int constant is taken as a float beside a float
series), int as_float(), and float as_int() rounding towards zero.
"""

from spec.harness import SpecCase
from spec.runner import check_case
from spec.tables import e, p

_INTS = """
    patient_id | i1  | i2
    1          | 101 | 111
    2          | 201 |
"""

_INT_DIV = """
    patient_id | i1  | i2
    1          | 101 | 111
    2          | -1  | 2
    3          | -4  | 3
    4          |     | 201
    5          | 5   | 0
"""

_FLOATS = """
    patient_id | f1    | f2
    1          | 101.3 | 111.5
    2          | 201.4 |
"""

_FLOAT_DIV = """
    patient_id | f1    | f2
    1          | 101.3 | 111.5
    2          | -1.3  | 111.5
    3          | -10.3 | 1.5
    4          | -10.3 | -1.5
    5          |       | -1.5
    6          | -10.3 | 0.0
"""

CASES = [
    # --- integers ----------------------------------------------------------------------------
    SpecCase(
        "unary minus on integers; NULL stays NULL",
        tables={p: _INTS},
        series=lambda: -p.i2,
        expected={1: -111, 2: None},
    ),
    SpecCase(
        "int + int; NULL if either is NULL",
        tables={p: _INTS},
        series=lambda: p.i1 + p.i2,
        expected={1: 212, 2: None},
    ),
    SpecCase(
        "int - int with a negative result",
        tables={p: _INTS},
        series=lambda: p.i1 - p.i2,
        expected={1: -10, 2: None},
    ),
    SpecCase(
        "int * int",
        tables={p: _INTS},
        series=lambda: p.i1 * p.i2,
        expected={1: 11211, 2: None},
    ),
    SpecCase(
        "constant * int series",
        tables={p: _INTS},
        series=lambda: 10 * p.i2,
        expected={1: 1110, 2: None},
    ),
    SpecCase(
        "int series + constant",
        tables={p: _INTS},
        series=lambda: p.i1 + 1,
        expected={1: 102, 2: 202},
    ),
    SpecCase(
        "constant + int series",
        tables={p: _INTS},
        series=lambda: 1 + p.i1,
        expected={1: 102, 2: 202},
    ),
    SpecCase(
        "constant - int series subtracts the series from the constant",
        tables={p: _INTS},
        series=lambda: 1 - p.i1,
        expected={1: -100, 2: -200},
    ),
    SpecCase(
        "int series - constant",
        tables={p: _INTS},
        series=lambda: p.i2 - 11,
        expected={1: 100, 2: None},
    ),
    SpecCase(
        "* binds tighter than +",
        tables={p: _INTS},
        series=lambda: p.i1 + p.i2 * 2,
        expected={1: 323, 2: None},
    ),
    SpecCase(
        "int / int gives a float; dividing by zero gives NULL",
        tables={p: _INT_DIV},
        series=lambda: p.i1 / p.i2,
        expected={1: 101 / 111, 2: -0.5, 3: -4 / 3, 4: None, 5: None},
    ),
    SpecCase(
        "int / int gives a float even when it divides exactly",
        tables={
            p: """
                patient_id | i1 | i2
                1          | 7  | 2
                2          | 6  | 3
            """,
        },
        series=lambda: (p.i1 / p.i2) * 2.0,
        expected={1: 7.0, 2: 4.0},
        notes="multiplying by a float constant only type-checks if the quotient is a float",
    ),
    SpecCase(
        "int series / int constant",
        tables={p: _INT_DIV},
        series=lambda: p.i1 / 10,
        expected={1: 10.1, 2: -0.1, 3: -0.4, 4: None, 5: 0.5},
    ),
    SpecCase(
        "int constant / int series divides the constant by the series",
        tables={p: _INT_DIV},
        series=lambda: 10 / p.i1,
        expected={1: 10 / 101, 2: -10.0, 3: -2.5, 4: None, 5: 2.0},
        notes="ehrQL's older spec pages render `10 / p.i1` as `p.i1 / 10` (its reflected "
        "operator was swapped); its later spec divides the constant by the series.",
    ),
    SpecCase(
        "int // int rounds down (towards minus infinity); dividing by zero gives NULL",
        tables={p: _INT_DIV},
        series=lambda: p.i1 // p.i2,
        expected={1: 0, 2: -1, 3: -2, 4: None, 5: None},
    ),
    SpecCase(
        "int series // int constant rounds negative results down",
        tables={p: _INT_DIV},
        series=lambda: p.i1 // 10,
        expected={1: 10, 2: -1, 3: -1, 4: None, 5: 0},
    ),
    SpecCase(
        "int constant // int series; dividing by a zero value gives NULL",
        tables={
            p: """
                patient_id | i1
                1          | 3
                2          | -3
                3          | 0
                4          |
            """,
        },
        series=lambda: 10 // p.i1,
        expected={1: 3, 2: -4, 3: None, 4: None},
    ),
    SpecCase(
        "zero divided by a number is zero; a number divided by zero is NULL",
        tables={
            p: """
                patient_id | i1 | i2
                1          | 0  | 5
                2          | 5  | 0
                3          | 0  | 0
            """,
        },
        series=lambda: p.i1 // p.i2,
        expected={1: 0, 2: None, 3: None},
    ),
    # --- floats --------------------------------------------------------------------------------
    SpecCase(
        "unary minus on floats",
        tables={p: _FLOATS},
        series=lambda: -p.f2,
        expected={1: -111.5, 2: None},
    ),
    SpecCase(
        "float + float",
        tables={p: _FLOATS},
        series=lambda: p.f1 + p.f2,
        expected={1: 101.3 + 111.5, 2: None},
    ),
    SpecCase(
        "float - float with a positive result",
        tables={p: _FLOATS},
        series=lambda: p.f2 - p.f1,
        expected={1: 111.5 - 101.3, 2: None},
    ),
    SpecCase(
        "float - float with a negative result",
        tables={p: _FLOATS},
        series=lambda: p.f1 - p.f2,
        expected={1: 101.3 - 111.5, 2: None},
    ),
    SpecCase(
        "float * float",
        tables={p: _FLOATS},
        series=lambda: p.f1 * p.f2,
        expected={1: 101.3 * 111.5, 2: None},
    ),
    SpecCase(
        "float series + int constant (the constant is taken as a float)",
        tables={p: _FLOATS},
        series=lambda: p.f1 + 1,
        expected={1: 102.3, 2: 202.4},
    ),
    SpecCase(
        "int constant - float series",
        tables={p: _FLOATS},
        series=lambda: 1 - p.f2,
        expected={1: 1 - 111.5, 2: None},
    ),
    SpecCase(
        "float / float; dividing by 0.0 gives NULL",
        tables={p: _FLOAT_DIV},
        series=lambda: p.f1 / p.f2,
        expected={
            1: 101.3 / 111.5,
            2: -1.3 / 111.5,
            3: -10.3 / 1.5,
            4: -10.3 / -1.5,
            5: None,
            6: None,
        },
    ),
    SpecCase(
        "float series / float constant",
        tables={p: _FLOAT_DIV},
        series=lambda: p.f1 / 10.0,
        expected={1: 10.13, 2: -0.13, 3: -1.03, 4: -1.03, 5: None, 6: -1.03},
    ),
    SpecCase(
        "float constant / float series divides the constant by the series",
        tables={p: _FLOAT_DIV},
        series=lambda: 10.0 / p.f1,
        expected={
            1: 10.0 / 101.3,
            2: 10.0 / -1.3,
            3: 10.0 / -10.3,
            4: 10.0 / -10.3,
            5: None,
            6: 10.0 / -10.3,
        },
    ),
    SpecCase(
        "float // float rounds down to an integer; dividing by 0.0 gives NULL",
        tables={p: _FLOAT_DIV},
        series=lambda: p.f1 // p.f2,
        expected={1: 0, 2: -1, 3: -7, 4: 6, 5: None, 6: None},
    ),
    SpecCase(
        "float series // float constant",
        tables={p: _FLOAT_DIV},
        series=lambda: p.f1 // 10.0,
        expected={1: 10, 2: -1, 3: -2, 4: -2, 5: None, 6: -2},
    ),
    SpecCase(
        "float // gives an integer series",
        tables={
            p: """
                patient_id | f1
                1          | 7.5
                2          | -7.5
            """,
        },
        series=lambda: (p.f1 // 2.0) + 1,
        expected={1: 4, 2: -3},
        notes="adding an int constant keeps an int series an int; the values are whole",
    ),
    # --- conversions ----------------------------------------------------------------------
    SpecCase(
        "float as_int rounds towards zero",
        tables={
            p: """
                patient_id | f1
                1          | 1.0
                2          | 32.3
                3          | 5.8
                4          | -6.7
                5          | -6.2
                6          |
            """,
        },
        series=lambda: p.f1.as_int(),
        expected={1: 1, 2: 32, 3: 5, 4: -6, 5: -6, 6: None},
    ),
    SpecCase(
        "float as_float leaves values unchanged",
        tables={
            p: """
                patient_id | f1
                1          | 32.3
                2          | -6.7
                3          |
            """,
        },
        series=lambda: p.f1.as_float(),
        expected={1: 32.3, 2: -6.7, 3: None},
    ),
    SpecCase(
        "int as_float",
        tables={
            p: """
                patient_id | i1
                1          | 1
                2          | -32
                3          |
            """,
        },
        series=lambda: p.i1.as_float() / 4.0,
        expected={1: 0.25, 2: -8.0, 3: None},
    ),
    SpecCase(
        "int as_int leaves values unchanged",
        tables={
            p: """
                patient_id | i1
                1          | 1
                2          | 32
                3          |
            """,
        },
        series=lambda: p.i1.as_int(),
        expected={1: 1, 2: 32, 3: None},
    ),
    SpecCase(
        "float + int converted with as_float",
        tables={
            p: """
                patient_id | i1 | f1
                1          | 1  | 1.0
                2          | 42 | 32.3
                3          | 3  | 5.8
                4          | -4 | -6.7
                5          |    | -6.2
                6          |    |
            """,
        },
        series=lambda: p.f1 + p.i1.as_float(),
        expected={1: 2.0, 2: 74.3, 3: 8.8, 4: -10.7, 5: None, 6: None},
    ),
    # --- event level ------------------------------------------------------------------------
    SpecCase(
        "event arithmetic then aggregation; NULL rows are ignored by the aggregate",
        tables={
            e: """
                patient_id | i1 | i2
                1          | 1  | 10
                1          | 2  |
                1          | 3  | 30
                2          |    | 1
            """,
            p: """
                patient_id
                3
            """,
        },
        series=lambda: (e.i1 * e.i2).sum_for_patient(),
        expected={1: 100, 2: None, 3: None},
    ),
    SpecCase(
        "event float division by zero is NULL and so ignored by minimum_for_patient",
        tables={
            e: """
                patient_id | f1  | f2
                1          | 1.0 | 0.0
                1          | 3.0 | 2.0
                1          | 5.0 | 2.0
                2          | 1.0 | 0.0
            """,
        },
        series=lambda: (e.f1 / e.f2).minimum_for_patient(),
        expected={1: 1.5, 2: None},
    ),
    SpecCase(
        "arithmetic on counts: a patient with no rows counts 0, not NULL",
        tables={
            e: """
                patient_id | i1
                1          | 1
                1          | 2
            """,
            p: """
                patient_id
                2
            """,
        },
        series=lambda: e.count_for_patient() * 2 + 1,
        expected={1: 5, 2: 1},
    ),
    SpecCase(
        "absolute() makes negative values positive",
        tables={
            p: """
                patient_id | i1
                1          | 101
                2          | 201
                3          |
            """,
        },
        series=lambda: (p.i1 - 200).absolute(),
        expected={1: 99, 2: 1, 3: None},
        notes="ehrQL's spec documents absolute() on numeric series.",
    ),
    SpecCase(
        "float ** float; a negative base with a fractional power, or 0 to a negative power, "
        "gives NULL",
        tables={
            p: """
                patient_id | f1   | f2
                1          | 2.0  | 3.0
                2          | 4.0  | 0.5
                3          | -8.0 | 0.5
                4          | 0.0  | -1.0
                5          | -2.0 | 0.0
                6          |      | 2.0
            """,
        },
        series=lambda: p.f1**p.f2,
        expected={1: 8.0, 2: 2.0, 3: None, 4: None, 5: 1.0, 6: None},
        notes="ehrQL's spec documents ** on float series, NULL where the result is not a "
        "real number.",
    ),
]


def test_spec(spec_case, engine):
    check_case(spec_case, engine)
