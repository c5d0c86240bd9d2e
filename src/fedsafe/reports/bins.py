"""Histogram bins whose edges give nothing away.

A bin edge at the smallest or largest value publishes that value, and an extreme value is often
one patient. So edges are never taken from the data's minimum or maximum: they are round numbers
(or calendar years or months) spanning the 5th to the 95th percentile, rounded outwards, and the
two outer bins are open ("below 10", "90 and above") so the extremes fall into them unseen.
Percentiles of fewer than :data:`MIN_VALUES` values are close to single values, so columns with
fewer values get no histogram at all (the same rule as backend profiles).

Values arrive as NumPy arrays (dates as days since 1970-01-01), so a dataset of millions of
rows is binned without a Python loop over its values.
"""

from __future__ import annotations

import datetime
import itertools
import math
from dataclasses import dataclass

import numpy as np

__all__ = ["EPOCH", "MIN_VALUES", "Bins", "date_bins", "number_bins"]

MIN_VALUES = 100
TARGET_BINS = 10
LOW_PERCENTILE = 0.05
HIGH_PERCENTILE = 0.95
EPOCH = datetime.date(1970, 1, 1)


@dataclass(frozen=True)
class Bins:
    """Labels for ``len(edges) + 1`` bins: below the first edge, between edges, above the last.

    ``edges`` are numbers (for dates: days since :data:`EPOCH`); bins include their lower edge.
    """

    edges: tuple[float, ...]
    labels: tuple[str, ...]

    def counts(self, values: np.ndarray) -> list[int]:
        """How many of ``values`` fall in each bin."""
        index = np.searchsorted(np.asarray(self.edges, dtype=float), values, side="right")
        return [int(c) for c in np.bincount(index, minlength=len(self.labels))]


def _percentiles(values: np.ndarray) -> tuple[float, float]:
    """Nearest-rank 5th and 95th percentiles: values well inside the data, never extremes."""
    ordered = np.sort(values)
    n = len(ordered)

    def rank(p: float) -> float:
        return float(ordered[min(n - 1, max(0, math.ceil(p * n) - 1))])

    return rank(LOW_PERCENTILE), rank(HIGH_PERCENTILE)


def _nice_step(span: float, whole: bool) -> float:
    raw = span / TARGET_BINS if span > 0 else 1.0
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    return max(step, 1.0) if whole else step


def _number(value: float, whole: bool) -> str:
    if whole or float(value).is_integer():
        return f"{round(value):,}"
    return f"{value:,.6g}"


def number_bins(values: np.ndarray, *, whole: bool) -> Bins | None:
    """Round-number bins for finite ``values`` (None when too few for a safe histogram)."""
    if len(values) < MIN_VALUES:
        return None
    low, high = _percentiles(values)
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


def _day(days: float) -> datetime.date:
    return EPOCH + datetime.timedelta(days=int(days))


def date_bins(days: np.ndarray) -> Bins | None:
    """Calendar bins (months, years or groups of years) between the inner percentiles.

    ``days`` are dates as days since :data:`EPOCH`.
    """
    if len(days) < MIN_VALUES:
        return None
    low, high = (_day(d) for d in _percentiles(days))
    months = (high.year - low.year) * 12 + high.month - low.month
    if months <= 36:
        edges = [datetime.date(low.year, low.month, 1)]
        while edges[-1] <= high:
            d = edges[-1]
            edges.append(datetime.date(d.year + d.month // 12, d.month % 12 + 1, 1))
        labels = [f"{a:%Y-%m} (month)" for a in edges[:-1]]
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
        tuple(float((e - EPOCH).days) for e in edges),
        (f"before {edges[0]:%Y-%m-%d}", *labels, f"{edges[-1]:%Y-%m-%d} or later"),
    )
