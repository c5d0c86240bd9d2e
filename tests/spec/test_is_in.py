"""Spec: is_in() / is_not_in() on every type.

ehrQL documents that is_in() accepts a list, tuple, set, frozenset or dict (its keys) - or
another event series - and gives NULL for a NULL value, except that against an empty
collection the result is False (is_not_in: True) even for NULL; is_not_in() is the inverse.
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

_DATES = """
    patient_id | d1
    1          | 1990-01-01
    2          | 2000-01-01
    3          | 2010-01-01
    4          |
"""

_IN_SERIES = {
    p: """
        patient_id | i1
        1          | 101
        2          | 201
        3          | 301
        4          |
        5          | 501
        6          |
    """,
    e: """
        patient_id | i1
        1          | 101
        2          | 201
        2          | 203
        2          | 301
        3          | 333
        3          | 334
        4          |
        4          | 401
        5          |
        5          | 101
    """,
}

_IN_SERIES_NOTE = (
    "ehrQL documents is_in()/is_not_in() with another event series as the collection: "
    "False when the patient has no non-NULL values there (even for a NULL value), NULL for a "
    "NULL value otherwise, and a NULL among the event values does not make a miss NULL."
)

# Codelists longer than the compiler writes inline (engines.compiler.INLINE_VALUES_LIMIT): the
# engine answers them from one table of codes with a flag per codelist, joined to the events.
# A and B overlap on a060-a079.
_LONG_A = [f"a{i:03d}" for i in range(80)]
_LONG_B = [f"a{i:03d}" for i in range(60, 140)]
_LONG_CODES = {
    p: """
        patient_id
        1
        2
        3
        4
        5
    """,
    e: """
        patient_id | s1
        1          | a005
        1          | zzz
        2          | a070
        2          | a100
        3          |
        3          | a200
        5          | a139
    """,
}

CASES = [
    SpecCase(
        "two long codelists on one column, each in its own filter",
        tables=_LONG_CODES,
        series=lambda: (
            e.where(e.s1.is_in(_LONG_A)).count_for_patient()
            + e.where(e.s1.is_in(_LONG_B)).count_for_patient() * 100
        ),
        expected={1: 1, 2: 201, 3: 0, 4: 0, 5: 100},
    ),
    SpecCase(
        "a long codelist beside an aggregate that keeps every row",
        tables=_LONG_CODES,
        series=lambda: (
            e.where(e.s1.is_in(_LONG_A)).count_for_patient() * 10 + e.count_for_patient()
        ),
        expected={1: 12, 2: 12, 3: 2, 4: 0, 5: 1},
    ),
    SpecCase(
        "except_where a long codelist keeps rows whose code is NULL",
        tables=_LONG_CODES,
        series=lambda: e.except_where(e.s1.is_in(_LONG_A)).count_for_patient(),
        expected={1: 1, 2: 1, 3: 2, 4: 0, 5: 1},
    ),
    SpecCase(
        "is_in a long codelist is NULL for a NULL code",
        tables=_LONG_CODES,
        series=lambda: e.where(e.s1.is_in(_LONG_A).is_null()).count_for_patient(),
        expected={1: 0, 2: 0, 3: 1, 4: 0, 5: 0},
    ),
    SpecCase(
        "is_not_in a long codelist drops NULL codes",
        tables=_LONG_CODES,
        series=lambda: e.where(e.s1.is_not_in(_LONG_A)).count_for_patient(),
        expected={1: 1, 2: 1, 3: 1, 4: 0, 5: 1},
    ),
    SpecCase(
        "int is_in a list; NULL stays NULL",
        tables={p: _INTS},
        series=lambda: p.i1.is_in([101, 301]),
        expected={1: True, 2: False, 3: True, 4: None},
    ),
    SpecCase(
        "int is_not_in a list; NULL stays NULL",
        tables={p: _INTS},
        series=lambda: p.i1.is_not_in([101, 301]),
        expected={1: False, 2: True, 3: False, 4: None},
    ),
    SpecCase(
        "is_in an empty list is False for every value, NULL included",
        tables={p: _INTS},
        series=lambda: p.i1.is_in([]),
        expected={1: False, 2: False, 3: False, 4: False},
        notes="ehrQL's spec gives False for NULL against an empty collection.",
    ),
    SpecCase(
        "is_not_in an empty list is True for every value, NULL included",
        tables={p: _INTS},
        series=lambda: p.i1.is_not_in([]),
        expected={1: True, 2: True, 3: True, 4: True},
        notes="ehrQL's spec gives True for NULL against an empty collection.",
    ),
    SpecCase(
        "is_in accepts a tuple, a set and a dict's keys alike",
        tables={p: _INTS},
        series=lambda: p.i1.is_in((101,)) | p.i1.is_in({201}) | p.i1.is_in({999: "unused"}),
        expected={1: True, 2: True, 3: False, 4: None},
    ),
    SpecCase(
        "float is_in a list",
        tables={
            p: """
                patient_id | f1
                1          | 1.5
                2          | 2.5
                3          |
            """,
        },
        series=lambda: p.f1.is_in([1.5, 3.5]),
        expected={1: True, 2: False, 3: None},
    ),
    SpecCase(
        "bool is_in a list",
        tables={
            p: """
                patient_id | b1
                1          | T
                2          | F
                3          |
            """,
        },
        series=lambda: p.b1.is_in([True]),
        expected={1: True, 2: False, 3: None},
    ),
    SpecCase(
        "date is_in a list of dates",
        tables={p: _DATES},
        series=lambda: p.d1.is_in([date(2010, 1, 1), date(1900, 1, 1)]),
        expected={1: False, 2: False, 3: True, 4: None},
    ),
    SpecCase(
        "date is_not_in a list of dates",
        tables={p: _DATES},
        series=lambda: p.d1.is_not_in([date(2010, 1, 1), date(1900, 1, 1)]),
        expected={1: True, 2: True, 3: False, 4: None},
    ),
    SpecCase(
        "date is_in a list of ISO date strings",
        tables={p: _DATES},
        series=lambda: p.d1.is_in(["2000-01-01", "1990-01-01"]),
        expected={1: True, 2: True, 3: False, 4: None},
    ),
    SpecCase(
        "event is_in used to count matching rows",
        tables={
            e: """
                patient_id | i1
                1          | 1
                1          | 2
                1          | 3
                1          |
                2          | 4
            """,
            p: """
                patient_id
                3
            """,
        },
        series=lambda: e.where(e.i1.is_in([1, 3, 5])).count_for_patient(),
        expected={1: 2, 2: 0, 3: 0},
    ),
    SpecCase(
        "event is_not_in keeps non-matching rows but not NULL ones",
        tables={
            e: """
                patient_id | i1
                1          | 1
                1          | 2
                1          | 3
                1          |
                2          | 4
            """,
        },
        series=lambda: e.where(e.i1.is_not_in([1, 3, 5])).count_for_patient(),
        expected={1: 1, 2: 1},
    ),
    SpecCase(
        "is_in another event series: is the value among the patient's event values",
        tables=_IN_SERIES,
        series=lambda: p.i1.is_in(e.i1),
        expected={1: True, 2: True, 3: False, 4: None, 5: False, 6: False},
        notes=_IN_SERIES_NOTE,
    ),
    SpecCase(
        "is_not_in another event series",
        tables=_IN_SERIES,
        series=lambda: p.i1.is_not_in(e.i1),
        expected={1: False, 2: False, 3: True, 4: None, 5: True, 6: True},
        notes=_IN_SERIES_NOTE,
    ),
]


def test_spec(spec_case, engine):
    check_case(spec_case, engine)
