"""Spec: maximum_of() / minimum_of() across series and values.

ehrQL documents that these return the largest / smallest of their arguments for each patient
(or row), disregarding NULLs (NULL only when every argument is NULL); arguments may be series
(patient or event level), constants (dates as date objects or ISO strings, an int beside float
series) or aggregates, and all-constant arguments are allowed.
"""

from datetime import date

from fedsafe import maximum_of, minimum_of
from spec.harness import SpecCase
from spec.runner import check_case
from spec.tables import e, p

_P = """
    patient_id | i1  | i2  | d1         | d2         | s1 | s2 | f1   | f2
    1          | 101 | 112 | 2001-01-01 | 2012-12-12 | a  | d  | 1.01 | 1.12
    2          |     | 211 |            | 2021-01-01 |    | f  |      | 2.11
    3          |     |     |            |            |    |    |      |
"""

_E = """
    patient_id | i1  | i2  | d1         | d2         | s1 | s2 | f1   | f2
    1          | 101 | 111 | 2001-01-01 | 2002-02-02 | a  | b  | 1.01 | 1.11
    1          | 102 | 112 | 2011-11-11 | 2012-12-12 | c  | d  | 1.02 | 1.12
    2          |     | 211 |            | 2021-01-01 |    | f  |      | 2.11
    3          |     |     |            |            |    |    |      |
"""

CASES = [
    SpecCase(
        "maximum_of two integer patient series ignores NULLs",
        tables={p: _P},
        series=lambda: maximum_of(p.i1, p.i2),
        expected={1: 112, 2: 211, 3: None},
    ),
    SpecCase(
        "minimum_of two integer patient series ignores NULLs",
        tables={p: _P},
        series=lambda: minimum_of(p.i1, p.i2),
        expected={1: 101, 2: 211, 3: None},
    ),
    SpecCase(
        "minimum_of two integer series and a constant",
        tables={p: _P},
        series=lambda: minimum_of(p.i1, p.i2, 150),
        expected={1: 101, 2: 150, 3: 150},
    ),
    SpecCase(
        "maximum_of two integer series and a constant",
        tables={p: _P},
        series=lambda: maximum_of(p.i1, p.i2, 150),
        expected={1: 150, 2: 211, 3: 150},
    ),
    SpecCase(
        "minimum_of two date series",
        tables={p: _P},
        series=lambda: minimum_of(p.d1, p.d2),
        expected={1: date(2001, 1, 1), 2: date(2021, 1, 1), 3: None},
    ),
    SpecCase(
        "maximum_of two date series and a date constant",
        tables={p: _P},
        series=lambda: maximum_of(p.d1, p.d2, date(2015, 5, 5)),
        expected={1: date(2015, 5, 5), 2: date(2021, 1, 1), 3: date(2015, 5, 5)},
    ),
    SpecCase(
        "minimum_of two date series and an ISO date string",
        tables={p: _P},
        series=lambda: minimum_of(p.d1, p.d2, "2015-05-05"),
        expected={1: date(2001, 1, 1), 2: date(2015, 5, 5), 3: date(2015, 5, 5)},
    ),
    SpecCase(
        "maximum_of two float series and a float constant",
        tables={p: _P},
        series=lambda: maximum_of(p.f1, p.f2, 1.5),
        expected={1: 1.5, 2: 2.11, 3: 1.5},
    ),
    SpecCase(
        "maximum_of two string series",
        tables={p: _P},
        series=lambda: maximum_of(p.s1, p.s2),
        expected={1: "d", 2: "f", 3: None},
    ),
    SpecCase(
        "minimum_of two string series and a constant",
        tables={p: _P},
        series=lambda: minimum_of(p.s1, p.s2, "e"),
        expected={1: "a", 2: "e", 3: "e"},
    ),
    SpecCase(
        "maximum_of integer constants only",
        tables={p: _P},
        series=lambda: maximum_of(1, 2, 3),
        expected={1: 3, 2: 3, 3: 3},
        notes="ehrQL's spec allows all-constant arguments.",
    ),
    SpecCase(
        "maximum_of two integer event series, then maximum_for_patient",
        tables={e: _E},
        series=lambda: maximum_of(e.i1, e.i2).maximum_for_patient(),
        expected={1: 112, 2: 211, 3: None},
    ),
    SpecCase(
        "minimum_of two integer event series and a constant, then minimum_for_patient",
        tables={e: _E},
        series=lambda: minimum_of(e.i1, e.i2, 150).minimum_for_patient(),
        expected={1: 101, 2: 150, 3: 150},
    ),
    SpecCase(
        "maximum_of two date event series and an ISO date string",
        tables={e: _E},
        series=lambda: maximum_of(e.d1, e.d2, "2015-05-05").maximum_for_patient(),
        expected={1: date(2015, 5, 5), 2: date(2021, 1, 1), 3: date(2015, 5, 5)},
    ),
    SpecCase(
        "minimum_of two float event series and an int constant",
        tables={e: _E},
        series=lambda: minimum_of(e.f1, e.f2, 2).minimum_for_patient(),
        expected={1: 1.01, 2: 2.0, 3: 2.0},
    ),
    SpecCase(
        "maximum_of two nested aggregates",
        tables={e: _E},
        series=lambda: maximum_of(
            e.s1.count_distinct_for_patient(),
            e.s2.count_distinct_for_patient(),
        ),
        expected={1: 2, 2: 1, 3: 0},
    ),
    SpecCase(
        "maximum_of a nested aggregate, an event column and a constant",
        tables={e: _E},
        series=lambda: maximum_of(e.s1.count_distinct_for_patient(), e.i1, 1).maximum_for_patient(),
        expected={1: 102, 2: 1, 3: 1},
    ),
    SpecCase(
        "minimum_of three columns with a NULL in the middle",
        tables={
            p: """
                patient_id | i1 | i2 | f1
                1          | 5  |    | 1.0
                2          |    | 7  | 1.0
            """,
        },
        series=lambda: minimum_of(p.i1, p.i2, p.f1.as_int() + 2),
        expected={1: 3, 2: 3},
    ),
    SpecCase(
        "maximum_of a patient with no event rows: only the constant remains",
        tables={
            e: """
                patient_id | i1
                1          | 7
            """,
            p: """
                patient_id
                2
            """,
        },
        series=lambda: maximum_of(e.i1.maximum_for_patient(), 0),
        expected={1: 7, 2: 0},
    ),
]


def test_spec(spec_case, engine):
    check_case(spec_case, engine)
