"""Output patterns: whether two can match one file, decided exactly, checked against examples."""

from __future__ import annotations

import pytest

from fedsafe.pipeline.patterns import matches, pattern_problem, patterns_overlap

# (first, second, a path matching both or None when no path can)
OVERLAPS = [
    ("output/a.csv", "output/a.csv", "output/a.csv"),
    ("output/*.csv", "output/a.csv", "output/a.csv"),
    ("output/a*.csv", "output/*b.csv", "output/ab.csv"),
    ("output/*.csv", "output/*.png", None),
    ("output/a?.csv", "output/ab*", "output/ab.csv"),
    ("output/a?.csv", "output/a.csv", None),
    ("output/*/x.csv", "output/y.csv", None),
    ("output/**/x.csv", "output/x.csv", "output/x.csv"),
    ("output/**/x.csv", "output/a/b/x.csv", "output/a/b/x.csv"),
    ("output/**/*.rds", "output/**/*.csv", None),
    ("out*/t.csv", "output/t*", "output/t.csv"),
    ("output/[ab].csv", "output/c.csv", "UNDECIDED"),  # sets are treated as any character
]


@pytest.mark.parametrize(("first", "second", "witness"), OVERLAPS)
def test_overlap_is_decided_and_shown_by_a_path(
    first: str, second: str, witness: str | None
) -> None:
    assert patterns_overlap(first, second) is (witness is not None)
    assert patterns_overlap(second, first) is (witness is not None)
    if witness is not None and witness != "UNDECIDED":
        assert matches(first, witness)
        assert matches(second, witness)


@pytest.mark.parametrize(
    "pattern",
    [
        "",
        " output/a.csv",
        "/etc/passwd",
        "C:/x.csv",
        "output/../x.csv",
        "output\\a.csv",
        "metadata/x.json",
        "meta*/x.json",
        "**/x.csv",
        "output//x.csv",
        "output/./x.csv",
        "output/a**/x.csv",
        "output/**",
    ],
)
def test_patterns_outside_the_workspace_or_in_metadata_are_refused(pattern: str) -> None:
    assert pattern_problem(pattern) is not None


@pytest.mark.parametrize(
    "pattern",
    ["output/a.csv", "output/**/*.png", "results/t?.txt", "summary.yaml", "codelists.csv"],
)
def test_ordinary_patterns_are_accepted(pattern: str) -> None:
    assert pattern_problem(pattern) is None
