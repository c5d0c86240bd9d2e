"""The dataset report as one self-contained HTML page: charts first, then the numbers.

Everything shown comes from the protected summary; nothing here touches the data. Text is
escaped, so a category or column name cannot inject markup.
"""

from __future__ import annotations

from html import escape

from fedsafe.disclosure import DisclosurePolicy
from fedsafe.reports.charts import bar_chart_svg
from fedsafe.reports.summaries import TOTAL_LABEL, ColumnSummary, CountTable, DatasetSummary

__all__ = ["SUPPRESSED", "count_cell", "count_grid", "counts_section", "page", "render_report"]

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


def count_cell(value: int | None) -> str:
    """A table cell for a protected count (``None``: suppressed)."""
    if value is None:
        return f'<td class="count suppressed">{SUPPRESSED}</td>'
    return f'<td class="count">{value:,}</td>'


def page(title: str, policy: DisclosurePolicy, body: list[str]) -> str:
    """A whole self-contained page, opening with what the policy did to every count."""
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
        "numbers or calendar periods inside the data, never its smallest or largest value; "
        "values are named only when more rows than the threshold have them.</p>",
        *body,
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"


def count_grid(heads: list[str], rows: list[tuple[str, list[int | None]]]) -> str:
    """A table of a label column then protected counts."""
    return (
        "<table><tr>"
        + "".join(f"<th>{escape(h)}</th>" for h in heads)
        + "</tr>"
        + "".join(
            f"<tr><td>{escape(label)}</td>" + "".join(count_cell(c) for c in cells) + "</tr>"
            for label, cells in rows
        )
        + "</table>"
    )


def counts_section(
    title: str, counts: CountTable, file: str, with_total: bool, kind: str = "", note: str = ""
) -> str:
    """A heading, a bar chart of ``counts`` and the table behind it."""
    head = f"<section><h2>{escape(title)}</h2>" + (f"<p>{escape(kind)}</p>" if kind else "")
    head += f'<p class="note">{escape(note)}</p>' if note else ""
    rows = [(label, [value]) for label, value in zip(counts.labels, counts.counts, strict=True)]
    if with_total:
        rows.append((TOTAL_LABEL, [counts.total]))
    return (
        head
        + f"<figure>{bar_chart_svg(counts, title)}</figure>"
        + f'<p class="note">Table: {escape(file)}</p>'
        + count_grid([counts.label_name, "rows"], rows)
        + "</section>"
    )


def render_report(
    title: str, summary: DatasetSummary, policy: DisclosurePolicy, tables: dict[str, str]
) -> str:
    """The page. ``tables`` names the file behind each table (by column; ``""``: missing)."""
    with_total = policy.secondary_suppression  # as in the tables: see reports.tables
    body = [_missing(summary, policy, tables.get("", ""))]
    body += [_column(c, tables.get(c.name, ""), with_total) for c in summary.columns]
    return page(title, policy, body)


def _missing(summary: DatasetSummary, policy: DisclosurePolicy, file: str) -> str:
    full = policy.secondary_suppression
    heads = ["column", "missing", "present", "rows"] if full else ["column", "missing"]
    rows = [
        (name, [missing, present, total] if full else [missing])
        for name, missing, present, total in summary.missing
    ]
    return f'<h2>Missing values</h2><p class="note">Table: {escape(file)}</p>' + count_grid(
        heads, rows
    )


def _column(column: ColumnSummary, file: str, with_total: bool) -> str:
    if column.distribution is None:
        note = f'<p class="note">{escape(column.note)}</p>' if column.note else ""
        return (
            f"<section><h2>{escape(column.name)}</h2><p>{escape(column.kind)}</p>{note}</section>"
        )
    return counts_section(
        column.name, column.distribution, file, with_total, column.kind, column.note
    )
