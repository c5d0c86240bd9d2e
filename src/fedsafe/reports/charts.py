"""Bar charts of protected counts, as inline SVG for a self-contained HTML report.

Charts are drawn from a :class:`~fedsafe.reports.summaries.CountTable` only, never from the
data, so a chart cannot show more than its table. Suppressed bars are drawn as a hatched stub
labelled in the legend, so a gap is not mistaken for zero. Text stays text in the SVG (not
paths), so what a chart says can be read, searched and checked.
"""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")  # no display inside a backend

import matplotlib.pyplot as plt

from fedsafe.reports.summaries import MISSING_LABEL, CountTable

__all__ = ["bar_chart_svg"]

_STYLE = {
    "svg.fonttype": "none",  # text as <text>, not glyph paths
    "svg.hashsalt": "fedsafe",  # stable element ids, so the same data gives the same file
    "font.size": 9,
}


def bar_chart_svg(counts: CountTable, title: str) -> str:
    """A bar chart of ``counts`` (the Missing bar included) as an SVG document string."""
    labels = list(counts.labels)
    heights = [c or 0 for c in counts.counts]
    known = [c for c in counts.counts if c is not None]
    stub = max(max(known, default=1) * 0.02, 0.5)
    with plt.rc_context(_STYLE):
        figure, axes = plt.subplots(figsize=(7, 3.2), layout="constrained")
        try:
            positions = range(len(labels))
            # Missing values are not a value: a grey bar, so the eye reads the rest as the data.
            colours = ["#9a9a9a" if label == MISSING_LABEL else "#3b6ea5" for label in labels]
            axes.bar(positions, heights, color=colours)
            hidden = [i for i, c in enumerate(counts.counts) if c is None]
            if hidden:
                axes.bar(
                    hidden,
                    [stub] * len(hidden),
                    color="white",
                    edgecolor="#b04040",
                    hatch="///",
                    label="suppressed (small, or hidden to protect another cell)",
                )
                axes.legend(loc="upper right", frameon=False)
            axes.set_xticks(list(positions), labels, rotation=45, ha="right")
            axes.set_ylabel("rows (rounded)")
            axes.set_title(title)
            axes.spines[["top", "right"]].set_visible(False)
            out = io.StringIO()
            figure.savefig(out, format="svg", metadata={"Date": None})
        finally:
            plt.close(figure)
    text = out.getvalue()
    return text[text.index("<svg") :]  # drop the XML prolog and doctype: it goes inline
