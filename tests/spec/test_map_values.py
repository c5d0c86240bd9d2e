"""Spec: map_values() maps one set of values to another.

ehrQL documents map_values(mapping, default=None) as applying a dict to each value; ehrQL
defines it as case(when(series == key).then(value), ..., otherwise=default), so values not in
the mapping - and NULL, whose comparisons are NULL - give the default (NULL if none).
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
        "map_values with a default: NULL also gets the default",
        tables={p: _INTS},
        series=lambda: p.i1.map_values({101: "a", 201: "b", 301: "a"}, default="c"),
        expected={1: "a", 2: "b", 3: "a", 4: "c"},
    ),
    SpecCase(
        "map_values without a default: unmapped values and NULL give NULL",
        tables={p: _INTS},
        series=lambda: p.i1.map_values({101: "a"}),
        expected={1: "a", 2: None, 3: None, 4: None},
    ),
    SpecCase(
        "map_values from strings to integers",
        tables={
            p: """
                patient_id | s1
                1          | low
                2          | high
                3          | other
                4          |
            """,
        },
        series=lambda: p.s1.map_values({"low": 1, "high": 3}, default=0),
        expected={1: 1, 2: 3, 3: 0, 4: 0},
    ),
    SpecCase(
        "map_values from booleans",
        tables={
            p: """
                patient_id | b1
                1          | T
                2          | F
                3          |
            """,
        },
        series=lambda: p.b1.map_values({True: "yes", False: "no"}),
        expected={1: "yes", 2: "no", 3: None},
    ),
    SpecCase(
        "map_values from dates",
        tables={
            p: """
                patient_id | d1
                1          | 2020-01-01
                2          | 2020-12-25
                3          | 2020-06-01
            """,
        },
        series=lambda: p.d1.map_values(
            {date(2020, 1, 1): "new year", date(2020, 12, 25): "christmas"}
        ),
        expected={1: "new year", 2: "christmas", 3: None},
    ),
    SpecCase(
        "map_values to None gives NULL for that key",
        tables={p: _INTS},
        series=lambda: p.i1.map_values({101: None, 201: "b"}, default="z"),
        expected={1: None, 2: "b", 3: "z", 4: "z"},
    ),
    SpecCase(
        "map_values to integers, then arithmetic on the result",
        tables={p: _INTS},
        series=lambda: p.i1.map_values({101: 1, 201: 2}) * 10,
        expected={1: 10, 2: 20, 3: None, 4: None},
    ),
    SpecCase(
        "map_values on an event series, then distinct mapped values per patient",
        tables={
            e: """
                patient_id | i1
                1          | 1
                1          | 2
                1          | 3
                1          |
                2          |
            """,
            p: """
                patient_id
                3
            """,
        },
        series=lambda: e.i1.map_values(
            {1: "odd", 2: "even", 3: "odd"}
        ).count_distinct_for_patient(),
        expected={1: 2, 2: 0, 3: 0},
    ),
    SpecCase(
        "map_values on a picked value for a patient with no rows gives the default",
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
        series=lambda: (
            e.sort_by(e.i1).first_for_patient().i1.map_values({1: "one"}, default="none")
        ),
        expected={1: "one", 2: "none"},
    ),
]


def test_spec(spec_case, engine):
    check_case(spec_case, engine)
