"""Meta-analysis of one term across backends: fixed effect and DerSimonian-Laird random effects.

The fixed-effect (inverse-variance) estimate, Cochran's Q and the DerSimonian-Laird constant
come from ``statsmodels.stats.meta_analysis.combine_effects``. Its ``method_re="dl"`` does not
truncate tau² at zero (for two equal estimates with variances 0.01 and 0.02 it returns
tau² = -0.015 and a random-effects mean of 0.0977 instead of 0.1; statsmodels 0.15), whereas
DerSimonian and Laird (1986) define tau² = max(0, (Q - df) / C). So the random-effects part is
finished here from statsmodels' Q and weights, with the truncation, and I² is
max(0, (Q - df) / Q) (Higgins and Thompson 2002), 0 when Q is 0.

Proportions (events out of total) are pooled on the log-odds scale, with 0.5 added to events
and non-events when either is 0 (the usual continuity correction), and the pooled log odds are
turned back into a proportion for reading.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats
from statsmodels.stats.meta_analysis import combine_effects

from fedsafe.federation.errors import CombineError

__all__ = ["MetaResult", "Pooled", "meta_analyse", "proportion_effects"]

CONFIDENCE = 0.95


@dataclass(frozen=True)
class Pooled:
    """One pooled estimate with its standard error and 95% confidence interval."""

    estimate: float
    std_error: float
    ci_low: float
    ci_high: float


@dataclass(frozen=True)
class MetaResult:
    """A term meta-analysed across the backends that reported it.

    ``scale`` is ``"identity"`` for effects files and ``"logit"`` for proportions (estimates
    are log odds; :func:`expit` turns them back into proportions).
    """

    term: str
    scale: str
    backends: tuple[str, ...]
    estimates: tuple[float, ...]
    std_errors: tuple[float, ...]
    fixed: Pooled
    random: Pooled
    q: float
    df: int
    q_p_value: float | None
    i2: float
    tau2: float

    @property
    def k(self) -> int:
        return len(self.backends)


def meta_analyse(
    term: str,
    backends: Sequence[str],
    estimates: Sequence[float],
    std_errors: Sequence[float],
    *,
    scale: str = "identity",
) -> MetaResult:
    """Pool ``estimates`` (one per backend) with fixed and DerSimonian-Laird random effects."""
    if not (len(backends) == len(estimates) == len(std_errors)) or not backends:
        raise CombineError(
            f"term {term!r}: need one estimate and one standard error per backend, and at "
            "least one backend"
        )
    effect = np.asarray(estimates, dtype=float)
    variance = np.asarray(std_errors, dtype=float) ** 2
    if not (np.all(np.isfinite(effect)) and np.all(variance > 0) and np.all(np.isfinite(variance))):
        raise CombineError(
            f"term {term!r}: estimates must be finite and standard errors finite and above 0"
        )
    k = len(effect)
    if k == 1:
        only = _pooled(float(effect[0]), float(variance[0]))
        return MetaResult(
            term,
            scale,
            tuple(backends),
            tuple(map(float, effect)),
            tuple(map(float, np.sqrt(variance))),
            only,
            only,
            0.0,
            0,
            None,
            0.0,
            0.0,
        )
    with warnings.catch_warnings():
        # Its untruncated tau² makes the random-effects extras it computes (and we do not use)
        # take square roots of negative numbers; only the fixed-effect part is read below.
        warnings.simplefilter("ignore", RuntimeWarning)
        result = combine_effects(effect, variance, method_re="dl", use_t=False)
    weights = np.asarray(result.weights_fe, dtype=float)
    q = float(result.q)
    df = k - 1
    c = float(weights.sum() - (weights**2).sum() / weights.sum())
    tau2 = max(0.0, (q - df) / c)
    weights_re = 1.0 / (variance + tau2)
    mean_re = float((weights_re * effect).sum() / weights_re.sum())
    return MetaResult(
        term=term,
        scale=scale,
        backends=tuple(backends),
        estimates=tuple(map(float, effect)),
        std_errors=tuple(map(float, np.sqrt(variance))),
        fixed=_pooled(float(result.mean_effect_fe), float(result.var_eff_w_fe)),
        random=_pooled(mean_re, float(1.0 / weights_re.sum())),
        q=q,
        df=df,
        q_p_value=float(stats.chi2.sf(q, df)),
        i2=max(0.0, (q - df) / q) if q > 0 else 0.0,
        tau2=tau2,
    )


def _pooled(estimate: float, variance: float) -> Pooled:
    z = float(stats.norm.ppf(0.5 + CONFIDENCE / 2))
    se = math.sqrt(variance)
    return Pooled(estimate, se, estimate - z * se, estimate + z * se)


def proportion_effects(events: int, total: int) -> tuple[float, float]:
    """Log odds of ``events`` out of ``total`` and its standard error, corrected at 0 and total.

    Rounded released counts make 0 events (or none without the event) common in small strata;
    without the 0.5 correction the log odds would be infinite and the backend would have to be
    dropped, which biases the pooled proportion.
    """
    if total <= 0 or not 0 <= events <= total:
        raise CombineError(f"{events} events out of {total}: need 0 <= events <= total, total > 0")
    a, b = float(events), float(total - events)
    if a == 0 or b == 0:
        a, b = a + 0.5, b + 0.5
    return math.log(a / b), math.sqrt(1 / a + 1 / b)


def expit(value: float) -> float:
    """The proportion whose log odds is ``value``."""
    return 1.0 / (1.0 + math.exp(-value))
