"""Spec: filtering event frames with where() and except_where().

ehrQL documents that where() keeps the rows whose condition is True (a NULL condition drops
the row) and except_where() keeps exactly the rows where() would drop (False or NULL); the
condition may be a Python bool, an expression over the frame's columns, or involve
patient-level series; filters chain.
"""

from datetime import date

from spec.harness import SpecCase
from spec.runner import check_case
from spec.tables import e, p

_B1_ROWS = """
    patient_id | i1  | b1
    1          | 101 | T
    1          | 102 | T
    1          | 103 |
    2          | 201 | T
    2          | 202 |
    2          | 203 | F
    3          | 301 |
    3          | 302 | F
"""

_EXPR_ROWS = """
    patient_id | i1  | i2
    1          | 101 | 111
    1          | 102 | 112
    1          | 103 | 113
    2          | 201 | 211
    2          | 202 | 212
    2          | 203 | 213
    3          | 301 |
"""

_THREE_ROWS = """
    patient_id | i1
    1          | 101
    1          | 102
    2          | 201
"""

CASES = [
    SpecCase(
        "where() with a boolean column drops rows where it is False or NULL",
        tables={e: _B1_ROWS},
        series=lambda: e.where(e.b1).i1.sum_for_patient(),
        expected={1: 203, 2: 201, 3: None},
    ),
    SpecCase(
        "where() with an expression; a row whose expression is NULL is dropped",
        tables={e: _EXPR_ROWS},
        series=lambda: e.where((e.i1 + e.i2) < 413).i1.sum_for_patient(),
        expected={1: 306, 2: 201, 3: None},
    ),
    SpecCase(
        "where(True) keeps every row",
        tables={e: _THREE_ROWS},
        series=lambda: e.where(True).count_for_patient(),
        expected={1: 2, 2: 1},
    ),
    SpecCase(
        "where(False) drops every row",
        tables={e: _THREE_ROWS},
        series=lambda: e.where(False).count_for_patient(),
        expected={1: 0, 2: 0},
    ),
    SpecCase(
        "chained where() calls keep rows passing both conditions",
        tables={
            e: """
                patient_id | i1 | b1
                1          | 1  | T
                1          | 2  | T
                1          | 3  | F
                2          | 4  |
            """,
        },
        series=lambda: e.where(e.i1 >= 2).where(e.b1).i1.sum_for_patient(),
        expected={1: 2, 2: None},
    ),
    SpecCase(
        "except_where() with a boolean column keeps rows where it is False or NULL",
        tables={
            e: """
                patient_id | i1  | b1
                1          | 101 | T
                1          | 102 | T
                1          | 103 |
                2          | 201 | T
                2          | 202 |
                2          | 203 | F
                3          | 301 | T
                3          | 302 | T
            """,
        },
        series=lambda: e.except_where(e.b1).i1.sum_for_patient(),
        expected={1: 103, 2: 405, 3: None},
    ),
    SpecCase(
        "except_where() with an expression keeps the row whose expression is NULL",
        tables={e: _EXPR_ROWS},
        series=lambda: e.except_where((e.i1 + e.i2) < 413).i1.sum_for_patient(),
        expected={1: None, 2: 405, 3: 301},
    ),
    SpecCase(
        "except_where(True) drops every row",
        tables={e: _THREE_ROWS},
        series=lambda: e.except_where(True).count_for_patient(),
        expected={1: 0, 2: 0},
    ),
    SpecCase(
        "except_where(False) keeps every row",
        tables={e: _THREE_ROWS},
        series=lambda: e.except_where(False).count_for_patient(),
        expected={1: 2, 2: 1},
    ),
    SpecCase(
        "where(~condition) is not except_where(condition): it also drops NULL rows",
        tables={e: _B1_ROWS},
        series=lambda: e.where(~e.b1).count_for_patient(),
        expected={1: 0, 2: 1, 3: 1},
    ),
    SpecCase(
        "except_where() on a comparison keeps rows with a NULL value",
        tables={
            e: """
                patient_id | i1
                1          | 3
                1          | 8
                1          |
                2          | 9
            """,
        },
        series=lambda: e.except_where(e.i1 > 5).count_for_patient(),
        expected={1: 2, 2: 0},
    ),
    SpecCase(
        "where() then except_where() chain",
        tables={
            e: """
                patient_id | i1 | b1
                1          | 1  | T
                1          | 2  |
                1          | 3  | F
                1          |    | T
                2          | 5  | T
            """,
        },
        series=lambda: e.where(e.i1 > 1).except_where(e.b1).i1.sum_for_patient(),
        expected={1: 5, 2: None},
    ),
    SpecCase(
        "a second where() can use a column of the unfiltered frame",
        tables={
            e: """
                patient_id | i1 | d1
                1          | 2  | 2019-06-01
                1          | 2  | 2020-06-01
                1          | 1  | 2019-06-01
                1          | 3  |
                2          | 1  | 2019-01-01
            """,
            p: """
                patient_id
                3
            """,
        },
        series=lambda: e.where(e.i1 > 1).where(e.d1 < "2020-01-01").count_for_patient(),
        expected={1: 1, 2: 0, 3: 0},
    ),
    SpecCase(
        "where() comparing an event column with a patient-level column",
        tables={
            p: """
                patient_id | d1
                1          | 2015-01-01
                2          | 2015-01-01
                3          |
            """,
            e: """
                patient_id | d1
                1          | 2020-01-01
                1          | 2010-01-01
                1          | 2016-01-01
                2          | 2010-01-01
                3          | 2020-01-01
                4          | 2020-01-01
            """,
        },
        series=lambda: e.where(e.d1 > p.d1).count_for_patient(),
        expected={1: 2, 2: 0, 3: 0, 4: 0},
    ),
    SpecCase(
        "where() with a patient-level condition keeps all or none of a patient's rows",
        tables={
            p: """
                patient_id | b1
                1          | T
                2          | F
                3          |
            """,
            e: """
                patient_id | i1
                1          | 1
                1          | 2
                2          | 1
                3          | 1
            """,
        },
        series=lambda: e.where(p.b1).count_for_patient(),
        expected={1: 2, 2: 0, 3: 0},
    ),
    SpecCase(
        "where() comparing each row with the patient's own aggregate",
        tables={
            e: """
                patient_id | i1
                1          | 5
                1          | 9
                1          | 9
                1          |
                2          |
            """,
        },
        series=lambda: e.where(e.i1 == e.i1.maximum_for_patient()).count_for_patient(),
        expected={1: 2, 2: 0},
    ),
    SpecCase(
        "where() on is_null() selects the rows with a missing value",
        tables={
            e: """
                patient_id | i1
                1          |
                1          |
                1          | 3
                2          | 4
            """,
        },
        series=lambda: e.where(e.i1.is_null()).count_for_patient(),
        expected={1: 2, 2: 0},
    ),
    SpecCase(
        "except_where() on is_null() drops the rows with a missing value",
        tables={
            e: """
                patient_id | i1
                1          |
                1          |
                1          | 3
                2          | 4
            """,
        },
        series=lambda: e.except_where(e.i1.is_null()).count_for_patient(),
        expected={1: 1, 2: 1},
    ),
    SpecCase(
        "where() with is_in() keeps matching rows only (NULL values are dropped)",
        tables={
            e: """
                patient_id | s1
                1          | a
                1          | b
                1          | c
                1          |
                2          | z
            """,
        },
        series=lambda: e.where(e.s1.is_in(["a", "c"])).count_for_patient(),
        expected={1: 2, 2: 0},
    ),
    SpecCase(
        "where() with an OR condition keeps a row where one side is NULL and the other True",
        tables={
            e: """
                patient_id | i1 | b1 | b2
                1          | 1  |    | T
                1          | 2  |    | F
                1          | 4  |    |
                1          | 8  | F  | F
                1          | 16 | T  |
            """,
        },
        series=lambda: e.where(e.b1 | e.b2).i1.sum_for_patient(),
        expected={1: 17},
    ),
    SpecCase(
        "where() with an AND condition drops a row where one side is NULL and the other True",
        tables={
            e: """
                patient_id | i1 | b1 | b2
                1          | 1  |    | T
                1          | 2  | T  | T
                1          | 4  | T  |
            """,
        },
        series=lambda: e.where(e.b1 & e.b2).i1.sum_for_patient(),
        expected={1: 2},
    ),
    SpecCase(
        "except_where() with an AND condition keeps a row where it is NULL",
        tables={
            e: """
                patient_id | i1 | b1 | b2
                1          | 1  |    | T
                1          | 2  | T  | T
                1          | 4  | T  |
                1          | 8  | F  |
            """,
        },
        series=lambda: e.except_where(e.b1 & e.b2).i1.sum_for_patient(),
        expected={1: 13},
    ),
    SpecCase(
        "where() on a date range, then the earliest date kept",
        tables={
            e: """
                patient_id | d1
                1          | 2019-12-31
                1          | 2020-01-01
                1          | 2020-06-01
                2          | 2019-01-01
                2          |
            """,
        },
        series=lambda: e.where(e.d1.is_on_or_after("2020-01-01")).d1.minimum_for_patient(),
        expected={1: date(2020, 1, 1), 2: None},
    ),
    SpecCase(
        "where() does not invent rows for patients with none",
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
        series=lambda: e.where(e.i1.is_null()).exists_for_patient(),
        expected={1: False, 2: False},
    ),
    SpecCase(
        "where() with a string comparison against a constant",
        tables={
            e: """
                patient_id | s1
                1          | yes
                1          | no
                1          | YES
                2          |
            """,
        },
        series=lambda: e.where(e.s1 == "yes").count_for_patient(),
        expected={1: 1, 2: 0},
    ),
    SpecCase(
        "where() with a condition from a picked row of the same table",
        tables={
            e: """
                patient_id | i1 | d1
                1          | 1  | 2020-01-01
                1          | 2  | 2020-02-01
                1          | 3  | 2020-03-01
                2          | 4  | 2020-01-01
            """,
        },
        series=lambda: e.where(e.d1 > e.sort_by(e.d1).first_for_patient().d1).i1.sum_for_patient(),
        expected={1: 5, 2: None},
    ),
]


def test_spec(spec_case, engine):
    check_case(spec_case, engine)
