"""Spec: aggregating frames and event series to one value per patient.

ehrQL documents that exists_for_patient() is True/False, count_for_patient() and
count_distinct_for_patient() are 0 (never NULL) for a patient with no rows or no values, and
minimum/maximum/sum/mean_for_patient ignore NULLs and are NULL when a patient has no non-NULL
values; sum keeps the type of its input and mean is always a float.
"""

from datetime import date

from spec.harness import SpecCase
from spec.runner import check_case
from spec.tables import e, p

A = "111552007"
B = "11530004"
C = "127012008"

CASES = [
    # --- exists_for_patient -------------------------------------------------------------
    SpecCase(
        "exists_for_patient on an event frame: True with rows, False with none",
        tables={
            p: """
                patient_id | b1
                1          |
                2          |
                3          |
            """,
            e: """
                patient_id | b1
                1          |
                1          |
                2          |
            """,
        },
        series=lambda: e.exists_for_patient(),
        expected={1: True, 2: True, 3: False},
    ),
    SpecCase(
        "exists_for_patient counts a row whose every column is NULL",
        tables={
            e: """
                patient_id | i1 | s1 | d1
                1          |    |    |
                2          | 5  | a  | 2020-01-01
            """,
            p: """
                patient_id
                3
            """,
        },
        series=lambda: e.exists_for_patient(),
        expected={1: True, 2: True, 3: False},
    ),
    SpecCase(
        "exists_for_patient on the patient table: False for a patient only in the event table",
        tables={
            p: """
                patient_id | i1
                1          | 10
                2          |
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
        "exists_for_patient on a filtered frame: False when no row passes (NULL does not pass)",
        tables={
            e: """
                patient_id | i1
                1          | 150
                1          | 50
                2          | 50
                2          |
                3          |
            """,
            p: """
                patient_id
                4
            """,
        },
        series=lambda: e.where(e.i1 > 100).exists_for_patient(),
        expected={1: True, 2: False, 3: False, 4: False},
    ),
    SpecCase(
        "exists_for_patient on a sorted frame is unaffected by the sort",
        tables={
            e: """
                patient_id | i1
                1          | 2
                1          | 1
            """,
            p: """
                patient_id
                2
            """,
        },
        series=lambda: e.sort_by(e.i1).exists_for_patient(),
        expected={1: True, 2: False},
    ),
    SpecCase(
        "exists_for_patient on an empty event table is False for everyone",
        tables={
            e: """
                patient_id | i1
            """,
            p: """
                patient_id
                1
                2
            """,
        },
        series=lambda: e.exists_for_patient(),
        expected={1: False, 2: False},
    ),
    # --- count_for_patient -----------------------------------------------------------------
    SpecCase(
        "count_for_patient counts rows; 0 (not NULL) for a patient with none",
        tables={
            p: """
                patient_id | b1
                1          |
                2          |
                3          |
            """,
            e: """
                patient_id | b1
                1          | T
                1          | F
                2          |
            """,
        },
        series=lambda: e.count_for_patient(),
        expected={1: 2, 2: 1, 3: 0},
    ),
    SpecCase(
        "count_for_patient counts rows whose values are all NULL, and duplicate rows",
        tables={
            e: """
                patient_id | i1 | s1
                1          |    |
                1          |    |
                1          | 7  | x
                1          | 7  | x
            """,
        },
        series=lambda: e.count_for_patient(),
        expected={1: 4},
    ),
    SpecCase(
        "count_for_patient on a where() frame does not count rows whose condition is NULL",
        tables={
            e: """
                patient_id | b1
                1          | T
                1          | T
                1          |
                2          | F
                2          |
            """,
            p: """
                patient_id
                3
            """,
        },
        series=lambda: e.where(e.b1).count_for_patient(),
        expected={1: 2, 2: 0, 3: 0},
    ),
    SpecCase(
        "count_for_patient on an except_where() frame counts rows whose condition is NULL",
        tables={
            e: """
                patient_id | b1
                1          | T
                1          | T
                1          |
                2          | F
                2          |
            """,
            p: """
                patient_id
                3
            """,
        },
        series=lambda: e.except_where(e.b1).count_for_patient(),
        expected={1: 1, 2: 2, 3: 0},
    ),
    SpecCase(
        "count_for_patient on where(False) is 0 for every patient",
        tables={
            e: """
                patient_id | i1
                1          | 101
                1          | 102
                2          | 201
            """,
        },
        series=lambda: e.where(False).count_for_patient(),
        expected={1: 0, 2: 0},
    ),
    SpecCase(
        "count_for_patient on the patient table is 1 for a patient with a row, 0 otherwise",
        tables={
            p: """
                patient_id | b1
                1          |
                2          |
                3          |
            """,
            e: """
                patient_id | b1
                1          |
                4          |
            """,
        },
        series=lambda: p.count_for_patient(),
        expected={1: 1, 2: 1, 3: 1, 4: 0},
        notes="ehrQL documents count_for_patient() on PatientFrame as well as EventFrame.",
    ),
    SpecCase(
        "count_for_patient on an empty event table is 0 for everyone",
        tables={
            e: """
                patient_id | i1
            """,
            p: """
                patient_id
                1
                2
            """,
        },
        series=lambda: e.count_for_patient(),
        expected={1: 0, 2: 0},
    ),
    # --- count_distinct_for_patient --------------------------------------------------------
    SpecCase(
        "count_distinct_for_patient on integers ignores NULLs; 0 when there are none",
        tables={
            e: """
                patient_id | i1
                1          | 101
                1          | 102
                1          | 103
                2          | 201
                2          | 201
                2          | 203
                3          | 301
                3          | 301
                3          |
                3          |
                4          |
            """,
            p: """
                patient_id
                5
            """,
        },
        series=lambda: e.i1.count_distinct_for_patient(),
        expected={1: 3, 2: 2, 3: 1, 4: 0, 5: 0},
    ),
    SpecCase(
        "count_distinct_for_patient on floats",
        tables={
            e: """
                patient_id | f1
                1          | 1.1
                1          | 1.2
                1          | 1.5
                2          | 2.1
                2          | 2.1
                2          | 2.5
                3          | 3.1
                3          |
                4          |
            """,
        },
        series=lambda: e.f1.count_distinct_for_patient(),
        expected={1: 3, 2: 2, 3: 1, 4: 0},
    ),
    SpecCase(
        "count_distinct_for_patient on strings",
        tables={
            e: """
                patient_id | s1
                1          | a
                1          | b
                1          | c
                2          | a
                2          | a
                2          | b
                3          | a
                3          |
                4          |
            """,
        },
        series=lambda: e.s1.count_distinct_for_patient(),
        expected={1: 3, 2: 2, 3: 1, 4: 0},
    ),
    SpecCase(
        "count_distinct_for_patient on dates",
        tables={
            e: """
                patient_id | d1
                1          | 2020-01-01
                1          | 2020-01-02
                1          | 2020-01-03
                2          | 2020-02-01
                2          | 2020-02-01
                2          | 2020-02-02
                3          | 2020-03-01
                3          |
                4          |
            """,
        },
        series=lambda: e.d1.count_distinct_for_patient(),
        expected={1: 3, 2: 2, 3: 1, 4: 0},
    ),
    SpecCase(
        "count_distinct_for_patient on booleans counts True and False once each",
        tables={
            e: """
                patient_id | b1
                1          | T
                1          | F
                1          | T
                1          |
                2          | F
                2          | F
                3          |
            """,
        },
        series=lambda: e.b1.count_distinct_for_patient(),
        expected={1: 2, 2: 1, 3: 0},
    ),
    SpecCase(
        "count_distinct_for_patient on codes",
        tables={
            e: f"""
                patient_id | c1
                1          | {A}
                1          | {B}
                1          | {A}
                2          | {C}
                2          |
                3          |
            """,
        },
        series=lambda: e.c1.count_distinct_for_patient(),
        expected={1: 2, 2: 1, 3: 0},
    ),
    SpecCase(
        "count_distinct_for_patient of an expression counts distinct results",
        tables={
            e: """
                patient_id | i1
                1          | 11
                1          | 19
                1          | 25
                2          |
            """,
        },
        series=lambda: (e.i1 // 10).count_distinct_for_patient(),
        expected={1: 2, 2: 0},
    ),
    # --- minimum / maximum --------------------------------------------------------------------
    SpecCase(
        "minimum_for_patient on integers ignores NULLs; NULL when no values",
        tables={
            e: """
                patient_id | i1
                1          | 101
                1          | 102
                1          | 103
                2          | 201
                2          |
                3          |
            """,
            p: """
                patient_id
                4
            """,
        },
        series=lambda: e.i1.minimum_for_patient(),
        expected={1: 101, 2: 201, 3: None, 4: None},
    ),
    SpecCase(
        "maximum_for_patient on integers ignores NULLs; NULL when no values",
        tables={
            e: """
                patient_id | i1
                1          | 101
                1          | 102
                1          | 103
                2          | 201
                2          |
                3          |
            """,
            p: """
                patient_id
                4
            """,
        },
        series=lambda: e.i1.maximum_for_patient(),
        expected={1: 103, 2: 201, 3: None, 4: None},
    ),
    SpecCase(
        "minimum_for_patient on integers handles negative numbers",
        tables={
            e: """
                patient_id | i1
                1          | -5
                1          | 3
                1          | -12
                2          | 0
            """,
        },
        series=lambda: e.i1.minimum_for_patient(),
        expected={1: -12, 2: 0},
    ),
    SpecCase(
        "minimum_for_patient on floats",
        tables={
            e: """
                patient_id | f1
                1          | 1.5
                1          | -0.25
                1          |
                2          | 2.75
                3          |
            """,
        },
        series=lambda: e.f1.minimum_for_patient(),
        expected={1: -0.25, 2: 2.75, 3: None},
    ),
    SpecCase(
        "maximum_for_patient on floats",
        tables={
            e: """
                patient_id | f1
                1          | 1.5
                1          | -0.25
                1          |
                2          | -2.75
                3          |
            """,
        },
        series=lambda: e.f1.maximum_for_patient(),
        expected={1: 1.5, 2: -2.75, 3: None},
    ),
    SpecCase(
        "minimum_for_patient on strings",
        tables={
            e: """
                patient_id | s1
                1          | pear
                1          | apple
                1          | banana
                2          | ab
                2          | a
                3          |
            """,
        },
        series=lambda: e.s1.minimum_for_patient(),
        expected={1: "apple", 2: "a", 3: None},
    ),
    SpecCase(
        "maximum_for_patient on strings",
        tables={
            e: """
                patient_id | s1
                1          | pear
                1          | apple
                1          | banana
                2          | ab
                2          | a
                2          |
                3          |
            """,
        },
        series=lambda: e.s1.maximum_for_patient(),
        expected={1: "pear", 2: "ab", 3: None},
    ),
    SpecCase(
        "minimum_for_patient on dates gives the earliest",
        tables={
            e: """
                patient_id | d1
                1          | 2020-05-01
                1          | 2019-12-31
                1          |
                2          | 2021-01-01
                3          |
            """,
            p: """
                patient_id
                4
            """,
        },
        series=lambda: e.d1.minimum_for_patient(),
        expected={1: date(2019, 12, 31), 2: date(2021, 1, 1), 3: None, 4: None},
    ),
    SpecCase(
        "maximum_for_patient on dates gives the latest",
        tables={
            e: """
                patient_id | d1
                1          | 2020-05-01
                1          | 2019-12-31
                1          |
                2          | 2021-01-01
                3          |
            """,
            p: """
                patient_id
                4
            """,
        },
        series=lambda: e.d1.maximum_for_patient(),
        expected={1: date(2020, 5, 1), 2: date(2021, 1, 1), 3: None, 4: None},
    ),
    SpecCase(
        "minimum_for_patient on a filtered frame where no row passes is NULL",
        tables={
            e: """
                patient_id | i1 | b1
                1          | 5  | F
                1          | 6  |
                2          | 7  | T
            """,
        },
        series=lambda: e.where(e.b1).i1.minimum_for_patient(),
        expected={1: None, 2: 7},
    ),
    # --- sum_for_patient ------------------------------------------------------------------
    SpecCase(
        "sum_for_patient on integers ignores NULLs; NULL when all values are NULL or no rows",
        tables={
            e: """
                patient_id | i1
                1          | 101
                1          | 102
                1          | 103
                2          | 201
                2          |
                2          | 203
                3          |
            """,
            p: """
                patient_id
                4
            """,
        },
        series=lambda: e.i1.sum_for_patient(),
        expected={1: 306, 2: 404, 3: None, 4: None},
    ),
    SpecCase(
        "sum_for_patient on integers stays an integer, including negative totals",
        tables={
            e: """
                patient_id | i1
                1          | -7
                1          | 2
                2          | 0
            """,
        },
        series=lambda: e.i1.sum_for_patient() // 2,
        expected={1: -3, 2: 0},
        notes="floor division of the sum would not type-check if the sum were a float",
    ),
    SpecCase(
        "sum_for_patient on floats",
        tables={
            e: """
                patient_id | f1
                1          | 1.5
                1          | 2.25
                1          |
                2          | -0.5
                3          |
            """,
        },
        series=lambda: e.f1.sum_for_patient(),
        expected={1: 3.75, 2: -0.5, 3: None},
    ),
    SpecCase(
        "sum_for_patient over a where() frame sums only rows whose condition is True",
        tables={
            e: """
                patient_id | i1  | b1
                1          | 101 | T
                1          | 102 | T
                1          | 103 |
                2          | 201 | T
                2          | 202 |
                2          | 203 | F
                3          | 301 |
                3          | 302 | F
            """,
        },
        series=lambda: e.where(e.b1).i1.sum_for_patient(),
        expected={1: 203, 2: 201, 3: None},
    ),
    SpecCase(
        "sum_for_patient on an empty event table is NULL for everyone",
        tables={
            e: """
                patient_id | i1
            """,
            p: """
                patient_id
                1
            """,
        },
        series=lambda: e.i1.sum_for_patient(),
        expected={1: None},
    ),
    # --- mean_for_patient -----------------------------------------------------------------
    SpecCase(
        "mean_for_patient on integers is a float mean of the non-NULL values",
        tables={
            e: """
                patient_id | i1
                1          | 1
                1          | 2
                1          | 3
                2          |
                2          | 2
                2          | 3
                3          |
            """,
            p: """
                patient_id
                4
            """,
        },
        series=lambda: e.i1.mean_for_patient(),
        expected={1: 2.0, 2: 2.5, 3: None, 4: None},
    ),
    SpecCase(
        "mean_for_patient on integers does not truncate",
        tables={
            e: """
                patient_id | i1
                1          | 1
                1          | 2
                1          | 2
                2          | -1
                2          | -2
            """,
        },
        series=lambda: e.i1.mean_for_patient(),
        expected={1: 5 / 3, 2: -1.5},
    ),
    SpecCase(
        "mean_for_patient on floats",
        tables={
            e: """
                patient_id | f1
                1          | 1.1
                1          | 2.1
                1          | 3.1
                2          |
                2          | 2.1
                2          | 3.1
                3          |
            """,
        },
        series=lambda: e.f1.mean_for_patient(),
        expected={1: (1.1 + 2.1 + 3.1) / 3, 2: (2.1 + 3.1) / 2, 3: None},
    ),
    # --- aggregating expressions --------------------------------------------------------------
    SpecCase(
        "aggregating the sum of two event series row by row",
        tables={
            e: """
                patient_id | i1  | i2
                1          | 101 | 111
                1          | 102 | 112
                2          | 201 | 211
                2          | 202 |
            """,
        },
        series=lambda: (e.i1 + e.i2).sum_for_patient(),
        expected={1: 426, 2: 412},
    ),
    SpecCase(
        "the sort order of an event series does not affect combining it row by row",
        tables={
            e: """
                patient_id | i1  | i2  | s1
                1          | 101 | 111 | b
                1          | 102 | 112 | a
                2          | 201 | 211 | b
                2          | 202 | 212 | a
            """,
        },
        series=lambda: (e.i1 + e.sort_by(e.s1).i2).minimum_for_patient(),
        expected={1: 212, 2: 412},
    ),
    SpecCase(
        "aggregating an event series combined with a patient series",
        tables={
            p: """
                patient_id | i1
                1          | 101
                2          | 201
                3          |
            """,
            e: """
                patient_id | i1
                1          | 111
                1          | 112
                2          | 211
                2          | 212
                3          | 311
            """,
        },
        series=lambda: (e.i1 + p.i1).sum_for_patient(),
        expected={1: 425, 2: 825, 3: None},
    ),
    SpecCase(
        "aggregating a constant added to an event series",
        tables={
            e: """
                patient_id | i1
                1          | 101
                1          | 102
                2          | 201
                2          | 202
            """,
        },
        series=lambda: (1 + e.i1).sum_for_patient(),
        expected={1: 205, 2: 405},
    ),
    SpecCase(
        "an aggregate can be used in further patient-level arithmetic",
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
        series=lambda: e.count_for_patient() * 10 + e.i1.count_distinct_for_patient(),
        expected={1: 22, 2: 0},
    ),
]


def test_spec(spec_case, engine):
    check_case(spec_case, engine)
