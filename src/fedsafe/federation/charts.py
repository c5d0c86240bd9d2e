"""Charts of combined results: forest plots of meta-analyses and time series of measures.

Each chart is written as SVG (for pages and documents) and PNG (for quick viewing), with fixed
metadata and element ids so the same results always give the same files: a re-run that changes
nothing then changes no output, and the combined manifest's hashes stay meaningful.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # the combine step runs on servers with no display

import matplotlib.pyplot as plt
import pyarrow as pa

from fedsafe.federation.meta import MetaResult

__all__ = ["forest_plot", "time_series"]

_STYLE = {"svg.hashsalt": "fedsafe", "font.size": 9}


def _save(figure: plt.Figure, stem: Path) -> list[Path]:
    stem.parent.mkdir(parents=True, exist_ok=True)
    written = []
    for suffix, metadata in ((".svg", {"Date": None}), (".png", {"Software": None})):
        path = stem.with_name(stem.name + suffix)
        figure.savefig(path, format=suffix[1:], metadata=metadata, dpi=100, bbox_inches="tight")
        written.append(path)
    plt.close(figure)
    return written


def forest_plot(results: Sequence[MetaResult], stem: Path, *, title: str) -> list[Path]:
    """One forest plot for the terms of an estimates file: each backend's estimate with its
    95% interval, then the fixed and random-effects pooled estimates as diamonds."""
    rows: list[tuple[str, float, float, float, str]] = []
    for result in results:
        for backend, estimate, se in zip(
            result.backends, result.estimates, result.std_errors, strict=True
        ):
            rows.append(
                (
                    f"{result.term}: {backend}",
                    estimate,
                    estimate - 1.96 * se,
                    estimate + 1.96 * se,
                    "backend",
                )
            )
        for label, pooled in (("fixed effect", result.fixed), ("random effects", result.random)):
            rows.append(
                (
                    f"{result.term}: {label}",
                    pooled.estimate,
                    pooled.ci_low,
                    pooled.ci_high,
                    "pooled",
                )
            )
    with plt.rc_context(_STYLE):
        figure, axes = plt.subplots(figsize=(7, 0.35 * len(rows) + 1.2))
        for y, (_, estimate, low, high, kind) in enumerate(reversed(rows)):
            if kind == "pooled":
                axes.fill([low, estimate, high, estimate], [y, y + 0.3, y, y - 0.3], color="black")
            else:
                axes.plot([low, high], [y, y], color="tab:blue")
                axes.plot([estimate], [y], "s", color="tab:blue")
        axes.set_yticks(range(len(rows)), [r[0] for r in reversed(rows)])
        scale = results[0].scale if results else "identity"
        axes.axvline(0.0, color="grey", linewidth=0.8, linestyle="--")
        axes.set_xlabel("log odds" if scale == "logit" else "estimate (95% CI)")
        axes.set_title(title)
        return _save(figure, stem)


def time_series(table: pa.Table, stem: Path, *, title: str) -> list[Path]:
    """The ratio over interval start, one line per measure and group; redacted ratios are gaps."""
    labels = [
        c
        for c in table.column_names
        if c not in ("interval_start", "interval_end", "ratio", "numerator", "denominator")
    ]
    series: dict[str, list[tuple[str, float]]] = {}
    starts = table.column("interval_start").to_pylist()
    ratios = table.column("ratio").to_pylist()
    keys = [table.column(c).to_pylist() for c in labels]
    for index, start in enumerate(starts):
        name = ", ".join(f"{value}" for value in (k[index] for k in keys) if value) or "all"
        ratio = ratios[index]
        series.setdefault(name, []).append((str(start), math.nan if ratio is None else ratio))
    with plt.rc_context(_STYLE):
        figure, axes = plt.subplots(figsize=(8, 4))
        dates = sorted({str(s) for s in starts})
        for name, points in series.items():
            by_date = dict(points)
            axes.plot(
                range(len(dates)), [by_date.get(d, math.nan) for d in dates], marker="o", label=name
            )
        axes.set_xticks(range(len(dates)), dates, rotation=45, ha="right")
        axes.set_ylabel("ratio (combined)")
        axes.set_title(title)
        if len(series) <= 12:
            axes.legend(fontsize=7)
        return _save(figure, stem)
