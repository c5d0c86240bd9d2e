"""A backend's data-quality metrics as one HTML page: sizes, completeness, months, codes.

Drawn only from the protected metrics, with the same pieces as dataset reports, so it shows
nothing the released tables do not.
"""

from __future__ import annotations

from html import escape

from fedsafe.quality.metrics import BackendMetrics
from fedsafe.reports.html import count_grid, counts_section, page

__all__ = ["render_backend_report"]


def render_backend_report(title: str, metrics: BackendMetrics, files: dict[str, str]) -> str:
    """The page; ``files`` names the table file behind each section, by its index key."""
    policy = metrics.policy
    full = policy.secondary_suppression
    body = [
        "<h2>Table sizes</h2>",
        f'<p class="note">Table: {escape(files.get("table_sizes", ""))}</p>',
        count_grid(
            ["table", "rows", "patients"],
            [(t.name, [t.rows, t.patients]) for t in metrics.tables],
        ),
    ]
    for table in metrics.tables:
        body.append(f"<section><h2>{escape(table.name)}</h2>")
        if table.completeness:
            heads = ["column", "missing", "present", "rows"] if full else ["column", "missing"]
            rows = [(r[0], list(r[1:]) if full else [r[1]]) for r in table.completeness]
            body += [
                "<h3>Completeness</h3>",
                f'<p class="note">Table: {escape(files.get(f"completeness:{table.name}", ""))}</p>',
                count_grid(heads, rows),
            ]
        for column, counts in table.months.items():
            key = f"rows_by_month:{table.name}.{column}"
            body.append(
                counts_section(
                    f"{table.name}.{column}: rows by month", counts, files.get(key, ""), full
                )
            )
        for column, counts in table.codes.items():
            key = f"top_codes:{table.name}.{column}"
            body.append(
                counts_section(
                    f"{table.name}.{column}: most used codes", counts, files.get(key, ""), full
                )
            )
        body.append("</section>")
    return page(title, policy, body)
