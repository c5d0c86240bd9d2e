"""Model outputs: a fitted model is only releasable with enough residual degrees of freedom.

With few residual degrees of freedom a model's coefficients and residuals come close to the
individual records themselves (with zero, a regression reproduces its data exactly). SACRO's
guidance and ACRO use a minimum of 10, our default too.
"""

from __future__ import annotations

from numbers import Integral

from fedsafe.disclosure.errors import TableError
from fedsafe.disclosure.policy import DisclosurePolicy

__all__ = ["residual_df_problem"]


def residual_df_problem(observations: int, parameters: int, policy: DisclosurePolicy) -> str | None:
    """Why a model with these sizes may not be released, or None when it may."""
    for name, value in (("observations", observations), ("parameters", parameters)):
        if isinstance(value, bool) or not isinstance(value, Integral) or value < 0:
            raise TableError(f"model {name}: expected a whole number >= 0, got {value!r}")
    residual = observations - parameters
    if residual < policy.min_residual_df:
        return (
            f"{residual} residual degrees of freedom ({observations} observations, "
            f"{parameters} parameters); the policy needs at least {policy.min_residual_df}"
        )
    return None
