"""Rules for magnitude tables, where each cell is a sum of a quantity over contributors (total
cost per practice, days in hospital per region) rather than a count of them.

A count of 500 reveals little about anyone; a total cost of 500 000 to which one patient
contributed 480 000 reveals that patient's cost to within a few percent. Three rules, as in
the SDC Handbook (Hundepool et al., *Statistical Disclosure Control*, Wiley 2012, section 4.2
"Sensitivity rules"), each with parameters from the policy:

* threshold rule: a cell needs more than ``suppress_at_or_below`` contributors;
* (n, k) dominance: the ``n`` largest contributions must not exceed ``k`` percent of the total;
* p% rule: the total minus the two largest contributions must be at least ``p`` percent of
  the largest, or the second-largest contributor (who knows their own value) can estimate the
  largest to within ``p`` percent.

Dominance is only defined for non-negative contributions; a negative one is refused.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from numbers import Real

from fedsafe.disclosure.errors import TableError
from fedsafe.disclosure.policy import DisclosurePolicy

__all__ = ["MagnitudeVerdict", "check_magnitude_cell", "nk_dominated", "p_percent_unsafe"]


@dataclass(frozen=True)
class MagnitudeVerdict:
    """Whether a magnitude cell may be published, and if not, every rule it breaks."""

    safe: bool
    reasons: tuple[str, ...]


def _checked(contributions: Sequence[object], where: str) -> list[float]:
    values: list[float] = []
    for i, value in enumerate(contributions):
        if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(value):
            raise TableError(f"{where}, contribution {i}: expected a finite number, got {value!r}")
        if value < 0:
            raise TableError(
                f"{where}, contribution {i}: dominance rules need non-negative contributions, "
                f"got {value!r}"
            )
        values.append(float(value))
    return sorted(values, reverse=True)


def nk_dominated(contributions: Sequence[float], n: int, k: float) -> bool:
    """Whether the ``n`` largest contributions are more than ``k`` percent of the total."""
    ordered = sorted(contributions, reverse=True)
    total = sum(ordered)
    return total > 0 and sum(ordered[:n]) > k / 100 * total


def p_percent_unsafe(contributions: Sequence[float], p: float) -> bool:
    """Whether the total less the two largest contributions is under ``p``% of the largest."""
    ordered = sorted(contributions, reverse=True)
    if not ordered or ordered[0] == 0:
        return False
    remainder = sum(ordered) - sum(ordered[:2])
    return remainder < p / 100 * ordered[0]


def check_magnitude_cell(
    contributions: Sequence[object], policy: DisclosurePolicy, *, where: str = "cell"
) -> MagnitudeVerdict:
    """Apply the threshold, (n, k) and p% rules to one cell's contributions."""
    values = _checked(contributions, where)
    reasons = []
    if len(values) <= policy.suppress_at_or_below:
        reasons.append(
            f"only {len(values)} contributors (need more than {policy.suppress_at_or_below})"
        )
    if nk_dominated(values, policy.dominance_n, policy.dominance_k):
        reasons.append(
            f"the {policy.dominance_n} largest contributions exceed "
            f"{policy.dominance_k:g}% of the total ((n, k) rule)"
        )
    if p_percent_unsafe(values, policy.p_percent):
        reasons.append(
            f"the total less its two largest contributions is under {policy.p_percent:g}% "
            "of the largest (p% rule)"
        )
    return MagnitudeVerdict(safe=not reasons, reasons=tuple(reasons))
