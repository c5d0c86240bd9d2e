"""Histogram bins whose edges give nothing away.

A bin edge at the smallest or largest value publishes that value, and an extreme value is often
one patient. So edges are never taken from the data's minimum or maximum: they are round numbers
(or calendar years or months) spanning the 5th to the 95th percentile, rounded outwards, and the
two outer bins are open ("below 10", "90 and above") so the extremes fall into them unseen.
Percentiles of fewer than :data:`MIN_VALUES` values are close to single values, so columns with
fewer values get no histogram at all (the same rule as backend profiles).
"""

from __future__ import annotations

import datetime
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["MIN_VALUES", "Bins", "date_bins", "number_bins"]

MIN_VALUES = 100
TARGET_BINS = 10
LOW_PERCENTILE = 0.05
HIGH_PERCENTILE = 0.95


@dataclass(frozen=True)
class Bins:
    """Labels for ``len(edges) + 1`` bins: below the first edge, between edges, above the last."""

    edges: tuple[float | datetime.date, ...]
    labels: tuple[str, ...]

    def index(self, value: float | datetime.date) -> int:
        """Which bin ``value`` falls in (bins include their lower edge)."""
        low, high = 0, len(self.edges)
        while low < high:  # the number of edges <= value
            middle = (low + high) // 2
            if self.edges[middle] <= value:  # type: ignore[operator]
                low = middle + 1
            else:
                high = middle
        return low


def _percentile(ordered: Sequence[float], p: float) -> float:
    """The nearest-rank percentile: a value well inside the data, never an extreme."""
    return ordered[min(len(ordered) - 1, max(0, math.ceil(p * len(ordered)) - 1))]


def _nice_step(span: float, whole: bool) -> float:
    raw = span / TARGET_BINS if span > 0 else 1.0
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    return max(step, 1.0) if whole else step


def _number(value: float, whole: bool) -> str:
    if whole or float(value).is_integer():
        return f"{round(value):,}"
    return f"{value:,.6g}"


def number_bins(values: Sequence[float], *, whole: bool) -> Bins | None:
    """Round-number bins for ``values`` (None when there are too few for a safe histogram)."""
    if len(values) < MIN_VALUES:
        return None
    ordered = sorted(values)
    low, high = _percentile(ordered, LOW_PERCENTILE), _percentile(ordered, HIGH_PERCENTILE)
    step = _nice_step(high - low, whole)
    first = math.floor(low / step) * step
    last = math.ceil(high / step) * step
    if last <= first:
        last = first + step
    count = round((last - first) / step)
    edges = tuple(first + i * step for i in range(count + 1))
    labels = [f"below {_number(edges[0], whole)}"]
    labels += [
        f"{_number(a, whole)} to under {_number(b, whole)}" for a, b in itertools.pairwise(edges)
    ]
    labels.append(f"{_number(edges[-1], whole)} and above")
    return Bins(edges, tuple(labels))


def date_bins(values: Sequence[datetime.date]) -> Bins | None:
    """Calendar bins (months, years or groups of years) between the inner percentiles."""
    if len(values) < MIN_VALUES:
        return None
    ordered = sorted(values)
    low, high = _percentile(ordered, LOW_PERCENTILE), _percentile(ordered, HIGH_PERCENTILE)
    months = (high.year - low.year) * 12 + high.month - low.month
    if months <= 36:
        start = datetime.date(low.year, low.month, 1)
        edges = [start]
        while edges[-1] <= high:
            d = edges[-1]
            edges.append(datetime.date(d.year + d.month // 12, d.month % 12 + 1, 1))
        labels = [f"{a:%Y-%m}" + " (month)" for a in edges[:-1]]
    else:
        years = high.year - low.year + 1
        width = next(w for w in (1, 2, 5, 10, 20, 50) if years / w <= 2 * TARGET_BINS)
        first = low.year // width * width
        edges = [datetime.date(y, 1, 1) for y in range(first, high.year + width + 1, width)]
        labels = [
            f"{a:%Y}" + (" (year)" if width == 1 else f" to {b.year - 1}")
            for a, b in itertools.pairwise(edges)
        ]
    return Bins(
        tuple(edges),
        (f"before {edges[0]:%Y-%m-%d}", *labels, f"{edges[-1]:%Y-%m-%d} or later"),
    )
