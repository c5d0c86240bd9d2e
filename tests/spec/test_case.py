"""Spec: case() / when().then() / .otherwise().

ehrQL documents that case() evaluates its when(condition).then(value) pairs in order and gives
the value of the first condition that is True (a NULL condition is not True), else the
`otherwise` value, else NULL; when(c).then(v).otherwise(w) is the one-condition shorthand.
Values may be constants or series, and a then(None) gives NULL.
"""

from datetime import date

from fedsafe import case, when
from spec.harness import SpecCase
from spec.runner import check_case
from spec.tables import e, p

_FIVE = """
    patient_id | i1
    1          | 6
    2          | 7
    3          | 8
    4          | 9
    5          |
"""

CASES = [
    SpecCase(
        "case() with expressions; no match and NULL conditions give NULL",
        tables={p: _FIVE},
        series=lambda: case(
            when(p.i1 < 8).then(p.i1),
            when(p.i1 > 8).then(100),
        ),
        expected={1: 6, 2: 7, 3: None, 4: 100, 5: None},
    ),
    SpecCase(
        "case() with otherwise: unmatched and NULL conditions give the otherwise value",
        tables={p: _FIVE},
        series=lambda: case(
            when(p.i1 < 8).then(p.i1),
            when(p.i1 > 8).then(100),
            otherwise=0,
        ),
        expected={1: 6, 2: 7, 3: 0, 4: 100, 5: 0},
    ),
    SpecCase(
        "case() with a boolean column as a condition",
        tables={
            p: """
                patient_id | i1 | b1
                1          | 6  | T
                2          | 7  | F
                3          | 9  | F
                4          |    |
            """,
        },
        series=lambda: case(
            when(p.b1).then(p.i1),
            when(p.i1 > 8).then(100),
        ),
        expected={1: 6, 2: None, 3: 100, 4: None},
    ),
    SpecCase(
        "case() with an explicit then(None)",
        tables={p: _FIVE},
        series=lambda: case(
            when(p.i1 < 8).then(None),
            when(p.i1 > 8).then(100),
            otherwise=200,
        ),
        expected={1: None, 2: None, 3: 200, 4: 100, 5: 200},
    ),
    SpecCase(
        "when().then().otherwise() shorthand with an expression",
        tables={
            p: """
                patient_id | i1
                1          | 6
                2          | 7
                3          | 8
                4          |
            """,
        },
        series=lambda: when(p.i1 < 8).then(p.i1).otherwise(100),
        expected={1: 6, 2: 7, 3: 100, 4: 100},
    ),
    SpecCase(
        "when().then().otherwise() shorthand with a boolean column",
        tables={
            p: """
                patient_id | i1 | b1
                1          | 6  | T
                2          | 7  | F
                3          |    |
            """,
        },
        series=lambda: when(p.b1).then(p.i1).otherwise(100),
        expected={1: 6, 2: 100, 3: 100},
    ),
    SpecCase(
        "the first true condition wins when several are true",
        tables={
            p: """
                patient_id | i1
                1          | 5
                2          | 15
                3          | 25
            """,
        },
        series=lambda: case(
            when(p.i1 < 10).then("small"),
            when(p.i1 < 20).then("medium"),
            when(p.i1 >= 0).then("any"),
        ),
        expected={1: "small", 2: "medium", 3: "any"},
    ),
    SpecCase(
        "a NULL condition is skipped and a later true condition is used",
        tables={
            p: """
                patient_id | i1 | b1
                1          |    | T
                2          | 1  | T
                3          |    |
            """,
        },
        series=lambda: case(
            when(p.i1 > 0).then("first"),
            when(p.b1).then("second"),
            otherwise="neither",
        ),
        expected={1: "second", 2: "first", 3: "neither"},
    ),
    SpecCase(
        "a chosen value that is NULL gives NULL (it does not fall through)",
        tables={
            p: """
                patient_id | b1 | i1 | i2
                1          | T  |    | 2
                2          | F  | 1  | 2
            """,
        },
        series=lambda: case(
            when(p.b1).then(p.i1),
            when(p.i2 > 0).then(p.i2),
        ),
        expected={1: None, 2: 2},
    ),
    SpecCase(
        "case() on is_null()",
        tables={
            p: """
                patient_id | d1
                1          | 2020-01-01
                2          |
            """,
        },
        series=lambda: case(
            when(p.d1.is_null()).then("missing"),
            otherwise="present",
        ),
        expected={1: "present", 2: "missing"},
    ),
    SpecCase(
        "case() giving booleans; unmatched gives NULL",
        tables={
            p: """
                patient_id | i1
                1          | 5
                2          | -5
                3          | 0
                4          |
            """,
        },
        series=lambda: case(
            when(p.i1 > 0).then(True),
            when(p.i1 < 0).then(False),
        ),
        expected={1: True, 2: False, 3: None, 4: None},
    ),
    SpecCase(
        "case() choosing between date series and a date constant",
        tables={
            p: """
                patient_id | b1 | d1         | d2
                1          | T  | 2020-01-01 | 2021-01-01
                2          | F  | 2020-01-01 | 2021-01-01
                3          |    | 2020-01-01 |
            """,
        },
        series=lambda: case(
            when(p.b1).then(p.d1),
            when(~p.b1).then(p.d2),
            otherwise=date(1999, 1, 1),
        ),
        expected={1: date(2020, 1, 1), 2: date(2021, 1, 1), 3: date(1999, 1, 1)},
    ),
    SpecCase(
        "case() choosing between float series and a float constant",
        tables={
            p: """
                patient_id | b1 | f1
                1          | T  | 1.5
                2          | F  | 1.5
            """,
        },
        series=lambda: when(p.b1).then(p.f1).otherwise(-0.5),
        expected={1: 1.5, 2: -0.5},
    ),
    SpecCase(
        "case() with an & condition where one side is NULL",
        tables={
            p: """
                patient_id | b1 | b2
                1          | T  | T
                2          | T  |
                3          | F  |
            """,
        },
        series=lambda: when(p.b1 & p.b2).then("both").otherwise("not both"),
        expected={1: "both", 2: "not both", 3: "not both"},
    ),
    SpecCase(
        "case() on an event series, then aggregated",
        tables={
            e: """
                patient_id | i1
                1          | 5
                1          | 15
                1          | 25
                1          |
                2          |
            """,
            p: """
                patient_id
                3
            """,
        },
        series=lambda: case(when(e.i1 > 10).then(1), otherwise=0).sum_for_patient(),
        expected={1: 2, 2: 0, 3: None},
    ),
    SpecCase(
        "case() mixing an event series with a patient series",
        tables={
            p: """
                patient_id | i1
                1          | 10
                2          |
            """,
            e: """
                patient_id | i1
                1          | 5
                1          | 12
                2          | 7
            """,
        },
        series=lambda: case(when(e.i1 > p.i1).then(e.i1), otherwise=p.i1).minimum_for_patient(),
        expected={1: 10, 2: None},
    ),
    SpecCase(
        "case() used as a where() condition",
        tables={
            e: """
                patient_id | i1 | b1
                1          | 1  | T
                1          | 2  | F
                1          | 3  |
                2          | 4  |
            """,
        },
        series=lambda: e.where(
            case(when(e.b1.is_null()).then(True), otherwise=e.b1)
        ).i1.sum_for_patient(),
        expected={1: 4, 2: 4},
    ),
    SpecCase(
        "case() whose conditions use aggregates",
        tables={
            e: """
                patient_id | i1
                1          | 1
                1          | 2
                1          | 3
                2          | 1
            """,
            p: """
                patient_id
                3
            """,
        },
        series=lambda: case(
            when(e.count_for_patient() >= 3).then("frequent"),
            when(e.count_for_patient() >= 1).then("occasional"),
            otherwise="never",
        ),
        expected={1: "frequent", 2: "occasional", 3: "never"},
    ),
    SpecCase(
        "then(None) with a series otherwise",
        tables={
            p: """
                patient_id | i1 | i2
                1          | 1  | 10
                2          | -1 | 20
                3          |    | 30
            """,
        },
        series=lambda: case(when(p.i1 < 0).then(None), otherwise=p.i2),
        expected={1: 10, 2: None, 3: 30},
    ),
    SpecCase(
        "case() with every condition NULL gives the otherwise value",
        tables={
            p: """
                patient_id | i1
                1          |
                2          |
            """,
        },
        series=lambda: case(
            when(p.i1 > 0).then("positive"),
            when(p.i1 < 0).then("negative"),
            otherwise="unknown",
        ),
        expected={1: "unknown", 2: "unknown"},
    ),
    SpecCase(
        "case() with a single when and no otherwise",
        tables={
            p: """
                patient_id | s1
                1          | a
                2          | b
                3          |
            """,
        },
        series=lambda: case(when(p.s1 == "a").then("matched")),
        expected={1: "matched", 2: None, 3: None},
    ),
]


def test_spec(spec_case, engine):
    check_case(spec_case, engine)
