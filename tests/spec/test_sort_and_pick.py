"""Spec: sort_by() then first_for_patient() / last_for_patient().

ehrQL documents that sort_by() orders each patient's rows by its arguments (the left-most has
the highest priority, later ones break ties; a later sort_by() call takes priority over an
earlier one), that NULL sorts before every other value, that where() may be mixed with sorting,
and that picking gives a one-row-per-patient frame whose columns are NULL for a patient with no
rows.
"""

from datetime import date

from fedsafe import when
from spec.harness import SpecCase
from spec.runner import check_case
from spec.tables import e, p

_SIX_ROWS = """
    patient_id | i1
    1          | 101
    1          | 102
    1          | 103
    2          | 203
    2          | 202
    2          | 201
"""

_TWO_KEYS = """
    patient_id | i1  | i2
    1          | 101 | 3
    1          | 102 | 2
    1          | 102 | 1
    2          | 203 | 1
    2          | 202 | 2
    2          | 202 | 3
"""

_WITH_NULLS = """
    patient_id | i1
    1          |
    1          | 102
    1          | 103
    2          | 203
    2          | 202
    2          |
"""

_SORT_WHERE = """
    patient_id | i1  | i2
    1          | 101 | 1
    1          | 102 | 2
    1          | 103 | 2
    2          | 203 | 1
    2          | 202 | 2
    2          | 201 | 2
"""

CASES = [
    SpecCase(
        "sort by an integer column and pick the first row",
        tables={e: _SIX_ROWS},
        series=lambda: e.sort_by(e.i1).first_for_patient().i1,
        expected={1: 101, 2: 201},
    ),
    SpecCase(
        "sort by an integer column and pick the last row",
        tables={e: _SIX_ROWS},
        series=lambda: e.sort_by(e.i1).last_for_patient().i1,
        expected={1: 103, 2: 203},
    ),
    SpecCase(
        "sort by two columns: the second breaks ties in the first (first row)",
        tables={e: _TWO_KEYS},
        series=lambda: e.sort_by(e.i1, e.i2).first_for_patient().i2,
        expected={1: 3, 2: 2},
    ),
    SpecCase(
        "sort by two columns: the second breaks ties in the first (last row)",
        tables={e: _TWO_KEYS},
        series=lambda: e.sort_by(e.i1, e.i2).last_for_patient().i2,
        expected={1: 2, 2: 1},
    ),
    SpecCase(
        "a later sort_by() call has priority over an earlier one",
        tables={e: _TWO_KEYS},
        series=lambda: e.sort_by(e.i2).sort_by(e.i1).first_for_patient().i2,
        expected={1: 3, 2: 2},
    ),
    SpecCase(
        "NULL sorts first: first_for_patient picks the row with a NULL key",
        tables={e: _WITH_NULLS},
        series=lambda: e.sort_by(e.i1).first_for_patient().i1,
        expected={1: None, 2: None},
    ),
    SpecCase(
        "NULL sorts first: last_for_patient picks the largest non-NULL key",
        tables={e: _WITH_NULLS},
        series=lambda: e.sort_by(e.i1).last_for_patient().i1,
        expected={1: 103, 2: 203},
    ),
    SpecCase(
        "sort_by() then where() then pick: the sort survives the filter",
        tables={e: _SORT_WHERE},
        series=lambda: e.sort_by(e.i1).where(e.i1 > 102).first_for_patient().i1,
        expected={1: 103, 2: 201},
    ),
    SpecCase(
        "sort_by(), where(), sort_by(): the newest sort is primary, the older breaks ties",
        tables={e: _SORT_WHERE},
        series=lambda: e.sort_by(e.i1).where(e.i2 > 1).sort_by(e.i2).first_for_patient().i1,
        expected={1: 102, 2: 201},
    ),
    SpecCase(
        "where() then sort_by() then last; a patient whose rows are all filtered out gets NULL",
        tables={
            e: """
                patient_id | i1 | b1
                1          | 5  | T
                1          | 9  | F
                1          | 7  | T
                2          | 3  | F
            """,
        },
        series=lambda: e.where(e.b1).sort_by(e.i1).last_for_patient().i1,
        expected={1: 7, 2: None},
    ),
    SpecCase(
        "sort then except_where() then pick the last row",
        tables={
            e: """
                patient_id | i1 | b1
                1          | 5  | F
                1          | 9  | T
                1          | 7  |
                2          | 3  | T
            """,
        },
        series=lambda: e.sort_by(e.i1).except_where(e.b1).last_for_patient().i1,
        expected={1: 7, 2: None},
    ),
    SpecCase(
        "sort by a float column",
        tables={
            e: """
                patient_id | f1    | i1
                1          | 2.5   | 1
                1          | -0.5  | 2
                1          | 10.25 | 3
                2          | 1.0   | 4
            """,
        },
        series=lambda: e.sort_by(e.f1).first_for_patient().i1,
        expected={1: 2, 2: 4},
    ),
    SpecCase(
        "sort by a string column, pick the last",
        tables={
            e: """
                patient_id | s1     | i1
                1          | banana | 1
                1          | cherry | 2
                1          | apple  | 3
                2          |        | 4
                2          | kiwi   | 5
            """,
        },
        series=lambda: e.sort_by(e.s1).last_for_patient().i1,
        expected={1: 2, 2: 5},
    ),
    SpecCase(
        "sort by a date column and pick the earliest row's other column",
        tables={
            e: """
                patient_id | d1         | s1
                1          | 2020-03-01 | march
                1          | 2020-01-01 | january
                1          | 2020-02-01 | february
                2          | 2019-01-01 | only
            """,
            p: """
                patient_id
                3
            """,
        },
        series=lambda: e.sort_by(e.d1).first_for_patient().s1,
        expected={1: "january", 2: "only", 3: None},
    ),
    SpecCase(
        "sort by a date column and pick the latest date",
        tables={
            e: """
                patient_id | d1
                1          | 2020-03-01
                1          | 2020-01-01
                1          |
                2          |
            """,
            p: """
                patient_id
                3
            """,
        },
        series=lambda: e.sort_by(e.d1).last_for_patient().d1,
        expected={1: date(2020, 3, 1), 2: None, 3: None},
    ),
    SpecCase(
        "sort by a boolean column: NULL, then False, then True",
        tables={
            e: """
                patient_id | b1 | i1
                1          | T  | 1
                1          | F  | 2
                2          | T  | 3
                2          |    | 4
                3          | T  | 5
                3          | F  | 6
            """,
        },
        series=lambda: e.sort_by(e.b1).first_for_patient().i1,
        expected={1: 2, 2: 4, 3: 6},
    ),
    SpecCase(
        "a patient with no rows gets NULL from a picked row",
        tables={
            e: """
                patient_id | i1 | d1
                1          | 1  | 2020-01-01
            """,
            p: """
                patient_id
                2
                3
            """,
        },
        series=lambda: e.sort_by(e.d1).first_for_patient().i1,
        expected={1: 1, 2: None, 3: None},
    ),
    SpecCase(
        "the picked row's own value is returned even when it is NULL",
        tables={
            e: """
                patient_id | d1         | i1
                1          | 2020-01-01 |
                1          | 2020-02-01 | 5
            """,
        },
        series=lambda: e.sort_by(e.d1).first_for_patient().i1,
        expected={1: None},
    ),
    SpecCase(
        "two columns of the picked row come from the same row",
        tables={
            e: """
                patient_id | d1         | i1 | i2
                1          | 2020-01-01 | 1  | 10
                1          | 2020-02-01 | 2  | 20
                2          | 2020-05-01 | 3  | 30
                2          | 2020-04-01 | 4  |
            """,
        },
        series=lambda: (
            e.sort_by(e.d1).last_for_patient().i1 + e.sort_by(e.d1).last_for_patient().i2
        ),
        expected={1: 22, 2: 33},
    ),
    SpecCase(
        "ties on the sort key where the tied rows agree on the picked column",
        tables={
            e: """
                patient_id | d1         | s1
                1          | 2020-01-01 | same
                1          | 2020-01-01 | same
                1          | 2020-06-01 | later
            """,
        },
        series=lambda: e.sort_by(e.d1).first_for_patient().s1,
        expected={1: "same"},
    ),
    SpecCase(
        "ties on the first key broken by a second key of another type",
        tables={
            e: """
                patient_id | d1         | i1 | s1
                1          | 2020-01-01 | 2  | b
                1          | 2020-01-01 | 1  | a
                1          | 2020-02-01 | 0  | c
                2          | 2020-01-01 | 9  | z
                2          | 2020-01-01 | 8  | y
            """,
        },
        series=lambda: e.sort_by(e.d1, e.i1).first_for_patient().s1,
        expected={1: "a", 2: "y"},
    ),
    SpecCase(
        "ties on the first key broken by a second key, picking the last",
        tables={
            e: """
                patient_id | d1         | i1 | s1
                1          | 2020-02-01 | 2  | b
                1          | 2020-02-01 | 1  | a
                1          | 2020-01-01 | 9  | c
            """,
        },
        series=lambda: e.sort_by(e.d1, e.i1).last_for_patient().s1,
        expected={1: "b"},
    ),
    SpecCase(
        "a second key with NULLs: NULL sorts first among the tied rows",
        tables={
            e: """
                patient_id | i1 | i2 | s1
                1          | 1  | 5  | five
                1          | 1  |    | null
                1          | 2  | 0  | later
            """,
        },
        series=lambda: e.sort_by(e.i1, e.i2).first_for_patient().s1,
        expected={1: "null"},
    ),
    SpecCase(
        "sort by a negated column to pick the largest first",
        tables={
            e: """
                patient_id | i1
                1          | 4
                1          | 9
                1          | -2
            """,
        },
        series=lambda: e.sort_by(-e.i1).first_for_patient().i1,
        expected={1: 9},
    ),
    SpecCase(
        "sort by an expression (a date difference in days)",
        tables={
            e: """
                patient_id | d1         | d2         | i1
                1          | 2020-01-10 | 2020-01-01 | 1
                1          | 2020-01-03 | 2020-01-01 | 2
                1          | 2020-02-01 | 2020-01-30 | 3
            """,
        },
        series=lambda: e.sort_by((e.d1 - e.d2).days).last_for_patient().i1,
        expected={1: 1},
    ),
    SpecCase(
        "picking from an all-NULL sort key returns the agreed value of the tied rows",
        tables={
            e: """
                patient_id | i1 | s1
                1          |    | x
                1          |    | x
            """,
        },
        series=lambda: e.sort_by(e.i1).last_for_patient().s1,
        expected={1: "x"},
    ),
    SpecCase(
        "exists_for_patient on a picked frame: True with rows, False without",
        tables={
            e: """
                patient_id | i1
                1          | 1
            """,
            p: """
                patient_id
                2
            """,
        },
        series=lambda: e.sort_by(e.i1).first_for_patient().exists_for_patient(),
        expected={1: True, 2: False},
    ),
    SpecCase(
        "a picked date compared with a patient-level date",
        tables={
            e: """
                patient_id | d1
                1          | 2020-01-01
                1          | 2021-01-01
                2          | 2019-01-01
                3          | 2020-01-01
            """,
            p: """
                patient_id | d1
                1          | 2020-06-01
                2          | 2020-06-01
                3          |
                4          | 2020-06-01
            """,
        },
        series=lambda: e.sort_by(e.d1).last_for_patient().d1.is_after(p.d1),
        expected={1: True, 2: False, 3: None, 4: None},
    ),
    SpecCase(
        "picking from a frame filtered by a patient-level condition",
        tables={
            p: """
                patient_id | d1
                1          | 2020-01-15
                2          |
            """,
            e: """
                patient_id | d1         | i1
                1          | 2020-01-01 | 1
                1          | 2020-02-01 | 2
                1          | 2020-03-01 | 3
                2          | 2020-02-01 | 4
            """,
        },
        series=lambda: e.where(e.d1 > p.d1).sort_by(e.d1).first_for_patient().i1,
        expected={1: 2, 2: None},
    ),
    SpecCase(
        "sorting by a patient series and constants is allowed and changes nothing",
        tables={
            e: """
                patient_id | i1
                1          | 101
                2          | 201
            """,
            p: """
                patient_id | i1
                1          | 10
                2          | 20
            """,
        },
        series=lambda: (
            e.sort_by(p.i1, 0, when(e.i1.is_in([])).then(1).otherwise(0)).first_for_patient().i1
        ),
        expected={1: 101, 2: 201},
        notes="ehrQL's spec: 'pointless sort operations that we should nevertheless handle "
        "without error' - a patient series, a literal and a constant expression as keys.",
    ),
    SpecCase(
        "when sort keys tie, the row picked is decided by the selected column",
        tables={
            e: """
                patient_id | i1  | i2 | f1
                1          | 100 | 2  | 101.0
                1          | 100 | 1  | 102.0
                1          | 100 | 1  | 103.0
                2          | 100 | 0  | 500.0
                2          | 100 | 1  | 1.0
                2          | 101 | 0  | 1.0
            """,
        },
        series=lambda: e.sort_by(e.i1, e.i2).first_for_patient().f1,
        expected={1: 102.0, 2: 500.0},
        notes="ehrQL's spec suite 'sort extends to all columns when underspecified' fixes "
        "the tie (patient 1 gets 102, not 103); its reference docs call ties 'arbitrary but "
        "consistent'. fedsafe's semantics do not say how ties are broken.",
    ),
]


def test_spec(spec_case, engine):
    check_case(spec_case, engine)
