"""Histograms are tables: the counts behind a chart, protected and recorded beside it.

A histogram's bars are counts per bin, so a bar of 3 patients discloses as much as a cell of 3,
and its outer edges, if they are the data's minimum and maximum, publish two patients' values
(the SDC Handbook treats graphs as tables of their underlying data; OpenSAFELY's output
checking guidance asks for the counts behind every figure). ``safe_histogram`` draws the chart
from protected counts, on edges that are never a data value's minimum or maximum, and writes
the bins and counts to the image's sidecar (``"histogram": {...}``) so the checker can check
the chart as the table it is. An image without that sidecar needs a person.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise
from numbers import Real
from pathlib import Path
from typing import Any

from fedsafe.disclosure.counts import protect_count
from fedsafe.disclosure.errors import OutputFileError, TableError
from fedsafe.disclosure.policy import DisclosurePolicy
from fedsafe.disclosure.reading import Table

__all__ = ["IMAGE_SUFFIXES", "Histogram", "histogram_table", "parse_histogram", "safe_histogram"]

IMAGE_SUFFIXES = (".png", ".svg")


@dataclass(frozen=True)
class Histogram:
    """A histogram's record: bin edges, the published count per bin (None: suppressed), and
    whether any edge is the raw minimum or maximum of the data."""

    edges: tuple[float, ...]
    counts: tuple[int | None, ...]
    extremes_on_edges: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "edges": list(self.edges),
            "counts": list(self.counts),
            "extremes_on_edges": self.extremes_on_edges,
        }

    def labels(self) -> list[str]:
        return [f"[{a:g}, {b:g})" for a, b in pairwise(self.edges)]


def parse_histogram(record: Mapping[str, Any], path: Path) -> Histogram:
    """Validate a sidecar's ``histogram`` record, naming the key and what was expected."""
    edges, counts = record.get("edges"), record.get("counts")
    if (
        not isinstance(edges, list)
        or len(edges) < 2
        or not all(_finite(e) for e in edges)
        or any(b <= a for a, b in pairwise(edges))
    ):
        raise OutputFileError(
            f"{path}: histogram 'edges' must be at least two finite numbers in increasing "
            f"order, got {edges!r}"
        )
    if not isinstance(counts, list) or len(counts) != len(edges) - 1:
        raise OutputFileError(
            f"{path}: histogram 'counts' must be a list of one count per bin "
            f"({len(edges) - 1}), got {counts!r}"
        )
    for index, count in enumerate(counts):
        if count is not None and (
            isinstance(count, bool) or not isinstance(count, int) or count < 0
        ):
            raise OutputFileError(
                f"{path}: histogram counts[{index}]: expected a whole number >= 0 or null, "
                f"got {count!r}"
            )
    flag = record.get("extremes_on_edges")
    if not isinstance(flag, bool):
        raise OutputFileError(
            f"{path}: histogram 'extremes_on_edges' must be true or false, got {flag!r}"
        )
    return Histogram(tuple(float(e) for e in edges), tuple(counts), flag)


def histogram_table(path: Path, histogram: Histogram) -> Table:
    """The histogram as a two-column table (bin label, count) for the checker's count rules."""
    return Table(path, {"bin": histogram.labels(), "count": list(histogram.counts)}, None)


def safe_histogram(
    values: Sequence[float],
    output: Path | str,
    *,
    bins: int | Sequence[float] = 10,
    label: str = "value",
    policy: DisclosurePolicy | None = None,
    filters: Mapping[str, Any] | None = None,
) -> Histogram:
    """Draw a histogram of ``values`` (one per patient) to ``output`` (.png or .svg) from
    protected counts, and write its bins and counts to the sidecar.

    ``bins`` is a number of bins (edges are then round numbers outside the data's range) or the
    edges themselves; given edges must cover every value and must not equal any value's
    minimum or maximum. Counts are suppressed and rounded like any count; suppressed bins are
    drawn empty. Missing values (None) are left out. ``filters`` records the population, for
    the release ledger.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from fedsafe.disclosure.record import make_record
    from fedsafe.disclosure.sidecar import write_sidecar

    policy = policy or DisclosurePolicy.from_environment()
    record = make_record({}, [], policy, filters)  # checked before anything is drawn
    output = Path(output)
    if output.suffix.lower() not in IMAGE_SUFFIXES:
        raise TableError(f"{output}: a histogram is written as {' or '.join(IMAGE_SUFFIXES)}")
    if not output.parent.is_dir():
        raise TableError(f"{output}: folder {output.parent} does not exist")
    data = []
    for index, value in enumerate(values):
        if value is None:
            continue
        if not _finite(value):
            raise TableError(f"values, item {index}: expected a finite number, got {value!r}")
        data.append(float(value))
    if not data:
        raise TableError("values: no values to draw; a histogram of nothing says nothing")
    low, high = min(data), max(data)
    edges = _edges(bins, low, high)
    counts = [0] * (len(edges) - 1)
    for value in data:
        index = next(i for i in range(len(counts)) if value < edges[i + 1] or i == len(counts) - 1)
        counts[index] += 1
    histogram = Histogram(
        tuple(edges),
        tuple(protect_count(c, policy) for c in counts),
        extremes_on_edges=False,  # _edges guarantees it
    )
    figure, axes = plt.subplots()
    try:
        axes.stairs([c or 0 for c in histogram.counts], edges, fill=True)
        axes.set_xlabel(label)
        axes.set_ylabel(
            f"patients (rounded; bins of {policy.suppress_at_or_below} or fewer hidden)"
        )
        temporary = output.with_name(f".{output.name}.tmp{output.suffix}")
        figure.savefig(temporary, format=output.suffix[1:].lower())
        temporary.replace(output)
    finally:
        plt.close(figure)
    write_sidecar(output, {**record, "histogram": histogram.to_json()})
    return histogram


def _edges(bins: int | Sequence[float], low: float, high: float) -> list[float]:
    if isinstance(bins, int) and not isinstance(bins, bool):
        if bins < 1:
            raise TableError(f"bins: expected at least 1 bin, got {bins}")
        step = _nice((high - low) / bins if high > low else 1.0)
        for offset in (0.0, 0.5, 0.25, 0.75, 0.125, 0.375, 0.625, 0.875):
            start = (math.floor(low / step - offset) + offset) * step
            count = math.floor((high - start) / step) + 1
            edges = [round(start + i * step, 12) for i in range(count + 1)]
            if low not in edges and high not in edges:
                return edges
        raise TableError(
            "bins: could not place round edges apart from the data's extremes; give edges"
        )
    edges = list(bins)
    if (
        len(edges) < 2
        or not all(_finite(e) for e in edges)
        or any(b <= a for a, b in pairwise(edges))
    ):
        raise TableError(f"bins: expected at least two increasing finite edges, got {edges!r}")
    if low < edges[0] or high > edges[-1]:
        raise TableError(
            f"bins: edges {edges[0]:g}..{edges[-1]:g} leave out values outside them; widen them"
        )
    if any(e in (low, high) for e in edges):
        raise TableError(
            "bins: an edge equals the data's minimum or maximum, which would publish a "
            "patient's value; choose round edges outside the data"
        )
    return [float(e) for e in edges]


def _nice(width: float) -> float:
    """The smallest of 1, 2, 5 x 10^k at least ``width``."""
    magnitude = 10 ** math.floor(math.log10(width))
    for factor in (1, 2, 5, 10):
        if factor * magnitude >= width:
            return factor * magnitude
    return 10 * magnitude


def _finite(value: object) -> bool:
    return isinstance(value, Real) and not isinstance(value, bool) and math.isfinite(value)
