"""The dataset report as one self-contained HTML page: charts first, then the numbers.

Everything shown comes from the protected summary; nothing here touches the data. Text is
escaped, so a category or column name cannot inject markup.
"""

from __future__ import annotations

from html import escape

from fedsafe.disclosure import DisclosurePolicy
from fedsafe.reports.charts import bar_chart_svg
from fedsafe.reports.summaries import TOTAL_LABEL, ColumnSummary, DatasetSummary

__all__ = ["SUPPRESSED", "render_report"]

SUPPRESSED = "[suppressed]"

_CSS = """
body { font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; color: #222; }
table { border-collapse: collapse; margin: 0.5rem 0 1.5rem; }
th, td { border-bottom: 1px solid #ddd; padding: 0.2rem 0.8rem; text-align: left; }
td.count { text-align: right; font-variant-numeric: tabular-nums; }
td.suppressed { color: #b04040; }
section { border-top: 2px solid #3b6ea5; margin-top: 2rem; }
.note { color: #555; font-size: 0.9rem; }
"""


def _count_cell(value: int | None) -> str:
    if value is None:
        return f'<td class="count suppressed">{SUPPRESSED}</td>'
    return f'<td class="count">{value:,}</td>'


def render_report(
    title: str, summary: DatasetSummary, policy: DisclosurePolicy, tables: dict[str, str]
) -> str:
    """The page. ``tables`` names the file behind each table (by column; ``""``: missing)."""
    rounding = (
        "not rounded"
        if policy.rounding == "none"
        else f"rounded ({policy.rounding}, base {policy.base})"
    )
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{escape(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{escape(title)}</h1>",
        '<p class="note">Every count is protected by the disclosure policy: counts of '
        f"{policy.suppress_at_or_below} or fewer are suppressed, totals are published only "
        f"with secondary suppression, and counts are {rounding}. Histogram edges are round "
        "numbers or calendar periods inside the data, never its smallest or largest value.</p>",
        _missing(summary, policy, tables.get("", "")),
    ]
    with_total = policy.secondary_suppression  # as in the tables: see reports.tables
    parts += [_column(c, tables.get(c.name, ""), with_total) for c in summary.columns]
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _missing(summary: DatasetSummary, policy: DisclosurePolicy, file: str) -> str:
    full = policy.secondary_suppression
    heads = ["column", "missing", "present", "rows"] if full else ["column", "missing"]
    rows = []
    for name, missing, present, total in summary.missing:
        cells = [missing, present, total] if full else [missing]
        rows.append(
            f"<tr><td>{escape(name)}</td>" + "".join(_count_cell(c) for c in cells) + "</tr>"
        )
    return (
        "<h2>Missing values</h2>"
        f'<p class="note">Table: {escape(file)}</p><table><tr>'
        + "".join(f"<th>{h}</th>" for h in heads)
        + "</tr>"
        + "".join(rows)
        + "</table>"
    )


def _column(column: ColumnSummary, file: str, with_total: bool) -> str:
    head = f"<section><h2>{escape(column.name)}</h2><p>{escape(column.kind)}</p>"
    note = f'<p class="note">{escape(column.note)}</p>' if column.note else ""
    counts = column.distribution
    if counts is None:
        return head + note + "</section>"
    chart = bar_chart_svg(counts, column.name)
    rows = [
        f"<tr><td>{escape(label)}</td>{_count_cell(value)}</tr>"
        for label, value in zip(counts.labels, counts.counts, strict=True)
    ]
    if with_total:
        rows.append(f"<tr><td>{TOTAL_LABEL}</td>{_count_cell(counts.total)}</tr>")
    return (
        head
        + note
        + f'<figure>{chart}</figure><p class="note">Table: {escape(file)}</p>'
        + f"<table><tr><th>{escape(counts.label_name)}</th><th>rows</th></tr>"
        + "".join(rows)
        + "</table></section>"
    )
