"""Spec: operations on string series.

ehrQL documents contains() as a case-sensitive sub-string test whose argument may be a constant
or another string series (NULL if either side is NULL), with characters that are special to SQL
LIKE patterns (% _ /) matched literally; strings compare with == and the ordering operators,
and support is_in() and when_null_then().
"""

from spec.harness import SpecCase
from spec.runner import check_case
from spec.tables import e, p

CASES = [
    SpecCase(
        "contains() a constant is a case-sensitive sub-string test; NULL stays NULL",
        tables={
            p: """
                patient_id | s1
                1          | ab
                2          | ab12
                3          | 12ab
                4          | 12ab45
                5          | a b
                6          | AB
                7          |
            """,
        },
        series=lambda: p.s1.contains("ab"),
        expected={1: True, 2: True, 3: True, 4: True, 5: False, 6: False, 7: None},
    ),
    SpecCase(
        "contains() matches %, _ and / literally",
        tables={
            p: """
                patient_id | s1
                1          | /a%b_
                2          | /ab_
                3          | /a%bc
                4          | a%b_
            """,
        },
        series=lambda: p.s1.contains("/a%b_"),
        expected={1: True, 2: False, 3: False, 4: False},
    ),
    SpecCase(
        "contains() another string column; NULL on either side gives NULL",
        tables={
            p: """
                patient_id | s1     | s2
                1          | ab     | ab
                2          | cd12   | cd
                3          | 12ef   | ef
                4          | 12gh45 | gh
                5          | i j    | ij
                6          | KL     | kl
                7          |        | mn
                8          | ab     |
            """,
        },
        series=lambda: p.s1.contains(p.s2),
        expected={1: True, 2: True, 3: True, 4: True, 5: False, 6: False, 7: None, 8: None},
    ),
    SpecCase(
        "contains() another column holding %, _ and / matches them literally",
        tables={
            p: """
                patient_id | s1    | s2
                1          | /a%b_ | /a%b_
                2          | /ab_  | /a%b_
                3          | /a%bc | /a%b_
                4          | a%b_  | /a%b_
            """,
        },
        series=lambda: p.s1.contains(p.s2),
        expected={1: True, 2: False, 3: False, 4: False},
    ),
    SpecCase(
        "contains() matches a backslash and square brackets literally",
        tables={
            p: """
                patient_id | s1
                1          | x\\[1]y
                2          | x[1]y
                3          | x\\1y
            """,
        },
        series=lambda: p.s1.contains("\\[1]"),
        expected={1: True, 2: False, 3: False},
    ),
    SpecCase(
        "contains() on an event series, used to filter rows",
        tables={
            e: """
                patient_id | s1
                1          | chest pain
                1          | pain in leg
                1          | headache
                1          |
                2          | Pain
            """,
        },
        series=lambda: e.where(e.s1.contains("pain")).count_for_patient(),
        expected={1: 2, 2: 0},
    ),
    SpecCase(
        "string equality is exact: case and surrounding characters matter",
        tables={
            p: """
                patient_id | s1
                1          | abc
                2          | ABC
                3          | abcd
                4          |
            """,
        },
        series=lambda: p.s1 == "abc",
        expected={1: True, 2: False, 3: False, 4: None},
    ),
    SpecCase(
        "string > string column",
        tables={
            p: """
                patient_id | s1 | s2
                1          | b  | a
                2          | a  | b
                3          | a  | a
                4          | a  |
            """,
        },
        series=lambda: p.s1 > p.s2,
        expected={1: True, 2: False, 3: False, 4: None},
    ),
    SpecCase(
        "string is_in a list; NULL stays NULL",
        tables={
            p: """
                patient_id | s1
                1          | red
                2          | green
                3          | blue
                4          |
            """,
        },
        series=lambda: p.s1.is_in(["red", "blue"]),
        expected={1: True, 2: False, 3: True, 4: None},
    ),
    SpecCase(
        "string is_not_in a list; NULL stays NULL",
        tables={
            p: """
                patient_id | s1
                1          | red
                2          | green
                3          |
            """,
        },
        series=lambda: p.s1.is_not_in(["red", "blue"]),
        expected={1: False, 2: True, 3: None},
    ),
    SpecCase(
        "string when_null_then replaces only NULL",
        tables={
            p: """
                patient_id | s1
                1          | known
                2          |
            """,
        },
        series=lambda: p.s1.when_null_then("unknown"),
        expected={1: "known", 2: "unknown"},
    ),
    SpecCase(
        "a string picked from the latest event",
        tables={
            e: """
                patient_id | d1         | s1
                1          | 2020-01-01 | old
                1          | 2021-01-01 | new
            """,
            p: """
                patient_id
                2
            """,
        },
        series=lambda: e.sort_by(e.d1).last_for_patient().s1,
        expected={1: "new", 2: None},
    ),
    SpecCase(
        "contains() on a picked string for a patient with no rows is NULL",
        tables={
            e: """
                patient_id | d1         | s1
                1          | 2020-01-01 | abc
            """,
            p: """
                patient_id
                2
            """,
        },
        series=lambda: e.sort_by(e.d1).first_for_patient().s1.contains("b"),
        expected={1: True, 2: None},
    ),
]


def test_spec(spec_case, engine):
    check_case(spec_case, engine)
