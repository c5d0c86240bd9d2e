"""Meta-analysis checked against formulas evaluated directly with numpy and a published example."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fedsafe.federation import CombineError
from fedsafe.federation.meta import expit, meta_analyse, proportion_effects


def _by_hand(y: np.ndarray, se: np.ndarray) -> dict[str, float]:
    """Fixed-effect inverse variance and DerSimonian-Laird, written out from the textbook
    definitions (Borenstein et al. 2009, chapters 11-12 and 16; DerSimonian and Laird 1986)."""
    v = se**2
    w = 1 / v
    fe = np.sum(w * y) / np.sum(w)
    q = np.sum(w * (y - fe) ** 2)
    df = len(y) - 1
    c = np.sum(w) - np.sum(w**2) / np.sum(w)
    tau2 = max(0.0, (q - df) / c)
    w_star = 1 / (v + tau2)
    re = np.sum(w_star * y) / np.sum(w_star)
    return {
        "fe": fe,
        "fe_se": math.sqrt(1 / np.sum(w)),
        "q": q,
        "tau2": tau2,
        "i2": max(0.0, (q - df) / q) if q > 0 else 0.0,
        "re": re,
        "re_se": math.sqrt(1 / np.sum(w_star)),
    }


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.floats(-5, 5, allow_nan=False),
            st.floats(0.01, 3, allow_nan=False),
        ),
        min_size=2,
        max_size=8,
    )
)
def test_matches_formulas_evaluated_with_numpy(pairs: list[tuple[float, float]]) -> None:
    y = np.array([p[0] for p in pairs])
    se = np.array([p[1] for p in pairs])
    result = meta_analyse("x", [f"b{i}" for i in range(len(y))], y, se)
    expected = _by_hand(y, se)
    assert result.fixed.estimate == pytest.approx(expected["fe"], abs=1e-9, rel=1e-9)
    assert result.fixed.std_error == pytest.approx(expected["fe_se"], abs=1e-9, rel=1e-9)
    assert result.q == pytest.approx(expected["q"], abs=1e-9, rel=1e-9)
    assert result.tau2 == pytest.approx(expected["tau2"], abs=1e-9, rel=1e-9)
    assert result.i2 == pytest.approx(expected["i2"], abs=1e-9)
    assert result.random.estimate == pytest.approx(expected["re"], abs=1e-9, rel=1e-9)
    assert result.random.std_error == pytest.approx(expected["re_se"], abs=1e-9, rel=1e-9)
    assert result.df == len(y) - 1
    z = 1.959963984540054
    assert result.random.ci_low == pytest.approx(expected["re"] - z * expected["re_se"], abs=1e-9)


def test_bcg_vaccine_trials_published_example() -> None:
    """The BCG vaccine trials (Colditz et al. 1994, JAMA 271:698-702; 13 trials of log risk
    ratios), as analysed in Viechtbauer (2010), "Conducting meta-analyses in R with the metafor
    package", J. Stat. Softw. 36(3), and metafor's documentation of ``dat.bcg``: fixed effect
    -0.4303 (SE 0.0405); DerSimonian-Laird tau² 0.3088, I² 92.12%, Q(df=12) 152.2330, random
    effects -0.7141 (SE 0.1787). The published figures have 4 decimals, hence the tolerance."""
    trials = [  # vaccinated TB+, TB-, control TB+, TB-
        (4, 119, 11, 128), (6, 300, 29, 274), (3, 228, 11, 209), (62, 13536, 248, 12619),
        (33, 5036, 47, 5761), (180, 1361, 372, 1079), (8, 2537, 10, 619),
        (505, 87886, 499, 87892), (29, 7470, 45, 7232), (17, 1699, 65, 1600),
        (186, 50448, 141, 27197), (5, 2493, 3, 2338), (27, 16886, 29, 17825),
    ]  # fmt: skip
    a, b, c, d = np.array(trials, dtype=float).T
    log_rr = np.log((a / (a + b)) / (c / (c + d)))
    variance = 1 / a - 1 / (a + b) + 1 / c - 1 / (c + d)
    result = meta_analyse("bcg", [f"t{i}" for i in range(13)], log_rr, np.sqrt(variance))
    assert result.fixed.estimate == pytest.approx(-0.4303, abs=5e-5)
    assert result.fixed.std_error == pytest.approx(0.0405, abs=5e-5)
    assert result.q == pytest.approx(152.2330, abs=5e-5)
    assert result.df == 12
    assert result.tau2 == pytest.approx(0.3088, abs=5e-5)
    assert result.i2 == pytest.approx(0.9212, abs=5e-5)
    assert result.random.estimate == pytest.approx(-0.7141, abs=5e-5)
    assert result.random.std_error == pytest.approx(0.1787, abs=5e-5)


def test_tau2_is_truncated_at_zero_where_statsmodels_is_not() -> None:
    """statsmodels' method_re="dl" gives tau² = -0.015 here; DerSimonian-Laird's is 0, so the
    random-effects estimate equals the fixed-effect one (both backends estimate 0.1)."""
    result = meta_analyse("x", ["a", "b"], [0.1, 0.1], [0.1, math.sqrt(0.02)])
    assert result.tau2 == 0.0
    assert result.i2 == 0.0
    assert result.random.estimate == pytest.approx(0.1, abs=1e-12)
    assert result.random.std_error == pytest.approx(result.fixed.std_error, abs=1e-12)


def test_one_backend_is_its_own_pooled_estimate() -> None:
    result = meta_analyse("x", ["a"], [0.7], [0.2])
    assert (result.fixed.estimate, result.random.estimate) == (0.7, 0.7)
    assert (result.q, result.df, result.tau2, result.i2, result.q_p_value) == (0, 0, 0, 0, None)


def test_proportions_use_log_odds_with_a_correction_at_zero() -> None:
    assert proportion_effects(20, 100) == pytest.approx(
        (math.log(20 / 80), math.sqrt(1 / 20 + 1 / 80)), abs=1e-12
    )
    assert proportion_effects(0, 50) == pytest.approx(
        (math.log(0.5 / 50.5), math.sqrt(1 / 0.5 + 1 / 50.5)), abs=1e-12
    )
    assert expit(math.log(20 / 80)) == pytest.approx(0.2, abs=1e-12)


@pytest.mark.parametrize(
    ("backends", "estimates", "errors"),
    [([], [], []), (["a"], [1.0, 2.0], [0.1]), (["a", "b"], [1.0, 2.0], [0.1, 0.0])],
)
def test_bad_input_is_a_clear_error(backends, estimates, errors) -> None:
    with pytest.raises(CombineError, match="term 'x'"):
        meta_analyse("x", backends, estimates, errors)
