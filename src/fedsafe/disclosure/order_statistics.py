"""Order statistics and identical values: the summaries that give away one patient's value.

A minimum or maximum *is* one patient's value, and a percentile is a value with only so many
patients beyond it: the 99th percentile of 50 patients is pinned by one of them. The SDC
Handbook (section 4.3, "extreme values") and the SACRO/ACRO manual both list maxima and minima
as disclosive, yet ACRO passes a table of maxima. fedsafe's rule: an order statistic over
patients is safe only when more than the threshold number of patients lie strictly on each
side of it, so a minimum or maximum (no one beyond it) never passes.

Identical values: a mean, median or mode over a group whose values are all the same tells every
member's value (the SDC Handbook's "group disclosure"). A spread of 0 (SD, IQR, range) says so.

This module names these statistics (from a column's name, when no sidecar says) and measures a
group's values for the safe helpers; the checker applies the rules to files.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "SPREAD_NAMES",
    "SideCounts",
    "order_statistic_named",
    "percentile",
    "side_counts",
    "spread_named",
    "statistic_of",
]

_EXTREMES = {"min": "min", "minimum": "min", "max": "max", "maximum": "max"}
_MEDIANS = {"median": "median", "q2": "median", "p50": "median"}
_QUARTILES = {"q1": "p25", "lq": "p25", "q3": "p75", "uq": "p75"}
_MODES = {"mode": "mode", "modal": "mode"}
_PERCENTILE = re.compile(r"^(?:p|pct|q|perc|percentile)(\d{1,2})$")
SPREAD_NAMES = frozenset({"sd", "std", "stdev", "stddev", "iqr", "range", "var", "variance"})


def _tokens(column: str) -> list[str]:
    return [t for t in re.split(r"[^0-9a-z]+", column.lower()) if t]


def statistic_of(column: str) -> str | None:
    """Which order statistic a column's name says it holds: ``min``, ``max``, ``median``,
    ``pNN`` or ``mode``; None when its name says none. ``age_max``, ``max_bmi``, ``p90_cost``,
    ``median``, ``mode_x``."""
    for token in _tokens(column):
        for table in (_EXTREMES, _MEDIANS, _QUARTILES, _MODES):
            if token in table:
                return table[token]
        match = _PERCENTILE.match(token)
        if match and 0 < int(match.group(1)) < 100:
            return "median" if int(match.group(1)) == 50 else f"p{int(match.group(1))}"
    return None


def order_statistic_named(column: str) -> bool:
    return statistic_of(column) is not None


def spread_named(column: str) -> bool:
    """Whether a column's name says it holds a spread (SD, IQR, range, variance)."""
    return any(token in SPREAD_NAMES for token in _tokens(column))


@dataclass(frozen=True)
class SideCounts:
    """How many values lie strictly below and strictly above an order statistic."""

    below: int
    above: int

    @property
    def fewest(self) -> int:
        return min(self.below, self.above)


def side_counts(values: Sequence[float], statistic: float) -> SideCounts:
    return SideCounts(
        below=sum(1 for v in values if v < statistic),
        above=sum(1 for v in values if v > statistic),
    )


def percentile(values: Sequence[float], name: str) -> float:
    """The order statistic ``name`` (``min``, ``max``, ``median``, ``pNN``) of ``values``,
    interpolating linearly between order statistics like numpy's default."""
    ordered = sorted(values)
    if name == "min":
        return ordered[0]
    if name == "max":
        return ordered[-1]
    share = 0.5 if name == "median" else int(name[1:]) / 100
    position = share * (len(ordered) - 1)
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)
