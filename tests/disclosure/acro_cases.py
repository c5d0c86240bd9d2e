"""The cases of the side-by-side comparison with SACRO's ``acro`` (issue #16 point 7).

Standard library only: ``acro_side_by_side.py`` imports this module inside acro's own virtual
environment (acro pins pandas <= 2.3.3, which fedsafe's environment cannot have), and
``test_acro_side_by_side.py`` imports it in fedsafe's. Each case is microdata, one dict per
patient, and what is released from it; both tools get the same rows.
"""

from __future__ import annotations

from typing import Any

__all__ = ["ACRO_LIKE_POLICY", "CASES"]

ACRO_LIKE_POLICY: dict[str, Any] = {
    # fedsafe run with acro 1.0.2's default parameters (default.yaml: safe_threshold 10,
    # safe_dof_threshold 10, (n, k) = (2, 0.9), p = 0.1, zeros disclosive, no rounding), so
    # that every difference in verdict comes from a rule, not from a parameter.
    "suppress_at_or_below": 9,
    "rounding": "none",
    "dominance_n": 2,
    "dominance_k": 90.0,
    "p_percent": 10.0,
    "min_residual_df": 10,
    "allow_zero_cells": False,
}


def _ages() -> list[dict[str, Any]]:
    """Two groups of 20 patients with distinct ages; the oldest in group a is 103."""
    rows = [{"group": "a", "age": 40 + i} for i in range(19)] + [{"group": "a", "age": 103}]
    rows += [{"group": "b", "age": 30 + i} for i in range(20)]
    return rows


def _same_value() -> list[dict[str, Any]]:
    """Group a: 20 different values; group b: 20 patients who all scored 5."""
    return [{"group": "a", "score": i % 7} for i in range(20)] + [
        {"group": "b", "score": 5} for _ in range(20)
    ]


def _population() -> list[dict[str, Any]]:
    """Everyone, by age band: 11 aged 21-30 of whom 10 men, 30 aged 31+ of whom 15 men. A
    table of everyone and one of men each have no cell below 10; their difference is one woman
    aged 21-30."""
    rows = [{"sex": "M", "age_band": "21-30"} for _ in range(10)]
    rows += [{"sex": "F", "age_band": "21-30"}]
    rows += [{"sex": sex, "age_band": "31+"} for sex in ("M", "F") for _ in range(15)]
    return rows


def _small_cells() -> list[dict[str, Any]]:
    """Sex by region with 3 women in the north."""
    rows = [{"sex": "F", "region": "north"} for _ in range(3)]
    rows += [{"sex": "M", "region": "north"} for _ in range(25)]
    rows += [{"sex": sex, "region": "south"} for sex in ("M", "F") for _ in range(30)]
    return rows


def _dominated() -> list[dict[str, Any]]:
    """Total cost by practice: in practice A one patient's 50,000 is 98% of the total."""
    rows = [{"practice": "A", "cost": 50_000.0}]
    rows += [{"practice": "A", "cost": 50.0 + i} for i in range(19)]
    rows += [{"practice": "B", "cost": 100.0 + 7 * i} for i in range(20)]
    return rows


def _regression() -> list[dict[str, Any]]:
    """200 patients, outcome on age and ethnicity; one patient is of ethnicity C, so the
    coefficient of C is that patient's residual. Residual degrees of freedom: 196."""
    rows = []
    for i in range(200):
        ethnicity = "C" if i == 0 else ("A" if i % 2 else "B")
        age = 30 + (i * 7) % 50
        outcome = 1.5 + 0.04 * age + (0.8 if ethnicity == "B" else 0.0) + ((i * 13) % 11) / 10
        rows.append({"outcome": outcome, "age": age, "ethnicity": ethnicity})
    return rows


# name -> (what, microdata, release): release says what each tool is asked to publish
CASES: dict[str, dict[str, Any]] = {
    "table_of_maxima": {
        "what": "the maximum age by group",
        "rows": _ages(),
        "release": {"kind": "statistic", "by": "group", "value": "age", "statistic": "max"},
    },
    "median": {
        "what": "the median age by group",
        "rows": _ages(),
        "release": {"kind": "statistic", "by": "group", "value": "age", "statistic": "median"},
    },
    "mode_all_same": {
        "what": "the mode of a score by group; every patient of group b scored 5",
        "rows": _same_value(),
        "release": {"kind": "statistic", "by": "group", "value": "score", "statistic": "mode"},
    },
    "two_tables_difference_one_person": {
        "what": "patients by age band, everyone then men only; the difference is one woman",
        "rows": _population(),
        "release": {"kind": "two_tables", "by": "age_band", "subgroup": {"sex": "M"}},
    },
    "small_cells": {
        "what": "patients by sex and region, 3 women in the north",
        "rows": _small_cells(),
        "release": {"kind": "crosstab", "rows": "region", "columns": "sex"},
    },
    "dominance": {
        "what": "total cost by practice, one patient 98% of practice A's total",
        "rows": _dominated(),
        "release": {"kind": "statistic", "by": "practice", "value": "cost", "statistic": "sum"},
    },
    "regression_small_category": {
        "what": "OLS of outcome on age and ethnicity dummies; one patient of ethnicity C",
        "rows": _regression(),
        "release": {
            "kind": "ols",
            "outcome": "outcome",
            "numeric": ["age"],
            "categorical": "ethnicity",
            "reference": "A",
        },
    },
}
