"""Spec: operations on code series.

ehrQL documents is_in()/is_not_in() with a list of code strings or a codelist (NULL stays NULL),
to_category() with a categorised codelist (codelist_from_csv_lines(..., category_column=...))
or a dict, giving NULL for codes without a category, and == / when_null_then / map_values with
codes written as strings.
"""

from fedsafe import codelist_from_csv_lines
from spec.harness import SpecCase
from spec.runner import check_case
from spec.tables import e, p

# Real SNOMED CT concept ids (from the NHS Digital diabetes refset codelist).
A = "111552007"  # Diabetes mellitus without complication
B = "11530004"  # Brittle diabetes mellitus
C = "127012008"  # Lipoatrophic diabetes
D = "127013003"  # Disorder of kidney due to diabetes mellitus
E = "190368000"  # Type I diabetes mellitus with ulcer

_FOUR = f"""
    patient_id | c1
    1          | {A}
    2          | {B}
    3          | {C}
    4          |
"""


def _codelist():
    return codelist_from_csv_lines(["code", A, C], column="code")


def _categorised():
    return codelist_from_csv_lines(
        ["code,my_categorisation", f"{A},cat1", f"{C},cat2"],
        column="code",
        category_column="my_categorisation",
    )


CASES = [
    SpecCase(
        "code is_in a list of code strings; NULL stays NULL",
        tables={p: _FOUR},
        series=lambda: p.c1.is_in([A, C]),
        expected={1: True, 2: False, 3: True, 4: None},
    ),
    SpecCase(
        "code is_not_in a list of code strings; NULL stays NULL",
        tables={p: _FOUR},
        series=lambda: p.c1.is_not_in([A, C]),
        expected={1: False, 2: True, 3: False, 4: None},
    ),
    SpecCase(
        "code is_in a codelist read from CSV lines",
        tables={p: _FOUR},
        series=lambda: p.c1.is_in(_codelist()),
        expected={1: True, 2: False, 3: True, 4: None},
    ),
    SpecCase(
        "code is_not_in a codelist",
        tables={p: _FOUR},
        series=lambda: p.c1.is_not_in(_codelist()),
        expected={1: False, 2: True, 3: False, 4: None},
    ),
    SpecCase(
        "to_category with a categorised codelist: uncategorised codes and NULL give NULL",
        tables={p: _FOUR},
        series=lambda: p.c1.to_category(_categorised()),
        expected={1: "cat1", 2: None, 3: "cat2", 4: None},
    ),
    SpecCase(
        "to_category with a dict of code strings",
        tables={p: _FOUR},
        series=lambda: p.c1.to_category({A: "type x", B: "type y", C: "type x"}),
        expected={1: "type x", 2: "type y", 3: "type x", 4: None},
    ),
    SpecCase(
        "to_category with a default: the default also replaces NULL",
        tables={p: _FOUR},
        series=lambda: p.c1.to_category({A: "known"}, default="other"),
        expected={1: "known", 2: "other", 3: "other", 4: "other"},
        notes="ehrQL defines to_category() as map_values(), i.e. a case() whose conditions "
        "are NULL for a NULL code, so NULL falls through to the default.",
    ),
    SpecCase(
        "to_category on event codes, then distinct categories per patient",
        tables={
            e: f"""
                patient_id | c1
                1          | {A}
                1          | {C}
                1          | {B}
                2          | {A}
                2          | {A}
                3          |
            """,
        },
        series=lambda: e.c1.to_category(_categorised()).count_distinct_for_patient(),
        expected={1: 2, 2: 1, 3: 0},
    ),
    SpecCase(
        "code == a code string; NULL stays NULL",
        tables={p: _FOUR},
        series=lambda: p.c1 == B,
        expected={1: False, 2: True, 3: False, 4: None},
    ),
    SpecCase(
        "code != a code string; NULL stays NULL",
        tables={p: _FOUR},
        series=lambda: p.c1 != B,
        expected={1: True, 2: False, 3: True, 4: None},
    ),
    SpecCase(
        "event code compared with the patient's code",
        tables={
            p: f"""
                patient_id | c1
                1          | {A}
                2          |
            """,
            e: f"""
                patient_id | c1
                1          | {A}
                1          | {B}
                1          | {A}
                2          | {A}
            """,
        },
        series=lambda: e.where(e.c1 == p.c1).count_for_patient(),
        expected={1: 2, 2: 0},
    ),
    SpecCase(
        "does each patient have an event with a code in the codelist",
        tables={
            e: f"""
                patient_id | c1
                1          | {D}
                1          | {C}
                2          | {D}
                3          |
            """,
            p: """
                patient_id
                4
            """,
        },
        series=lambda: e.where(e.c1.is_in(_codelist())).exists_for_patient(),
        expected={1: True, 2: False, 3: False, 4: False},
    ),
    SpecCase(
        "the code of each patient's latest matching event",
        tables={
            e: f"""
                patient_id | d1         | c1
                1          | 2020-01-01 | {A}
                1          | 2021-01-01 | {C}
                1          | 2022-01-01 | {D}
                2          | 2020-01-01 | {D}
            """,
        },
        series=lambda: e.where(e.c1.is_in([A, C])).sort_by(e.d1).last_for_patient().c1,
        expected={1: C, 2: None},
    ),
    SpecCase(
        "code when_null_then a code string",
        tables={p: _FOUR},
        series=lambda: p.c1.when_null_then(E),
        expected={1: A, 2: B, 3: C, 4: E},
    ),
    SpecCase(
        "code map_values with code-string keys",
        tables={p: _FOUR},
        series=lambda: p.c1.map_values({A: 1, B: 2}),
        expected={1: 1, 2: 2, 3: None, 4: None},
    ),
    SpecCase(
        "count_distinct_for_patient on codes ignores NULLs",
        tables={
            e: f"""
                patient_id | c1
                1          | {A}
                1          | {A}
                1          | {E}
                1          |
                2          |
            """,
            p: """
                patient_id
                3
            """,
        },
        series=lambda: e.c1.count_distinct_for_patient(),
        expected={1: 2, 2: 0, 3: 0},
    ),
    SpecCase(
        "code is_in an empty list is False, even for NULL",
        tables={p: _FOUR},
        series=lambda: p.c1.is_in([]),
        expected={1: False, 2: False, 3: False, 4: False},
        notes="ehrQL's spec gives False for NULL in an empty list (shown there for ints).",
    ),
]


def test_spec(spec_case, engine):
    check_case(spec_case, engine)
