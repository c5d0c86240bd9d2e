"""How a released or combined file is shown in a page: a CSV as a table, an image inline, text
as text, anything else (HTML included) only as a download. Served bytes carry headers that stop
a browser from running anything in them."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from django.http import HttpResponse

__all__ = ["CONTENT_TYPES", "Preview", "preview", "raw_response"]

CONTENT_TYPES = {
    ".csv": "text/csv; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".log": "text/plain; charset=utf-8",
    ".md": "text/plain; charset=utf-8",
    ".json": "application/json",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".svg": "image/svg+xml",
    ".html": "text/plain; charset=utf-8",  # never rendered as a page on the coordinator
}
IMAGES = frozenset({".png", ".jpg", ".svg"})
TEXT = frozenset({".txt", ".log", ".md", ".json"})
MAX_ROWS = 200
MAX_TEXT = 20_000


@dataclass(frozen=True)
class Preview:
    kind: str  # "table", "image", "text" or "download"
    header: tuple[str, ...] = ()
    rows: tuple[tuple[str, ...], ...] = ()
    truncated: bool = False
    text: str = ""


def preview(suffix: str, data: bytes | None) -> Preview:
    if suffix in IMAGES:
        return Preview("image")
    if data is None:
        return Preview("download")
    if suffix == ".csv":
        try:
            reader = csv.reader(io.StringIO(data.decode("utf-8-sig")))
            rows = [tuple(r) for _, r in zip(range(MAX_ROWS + 2), reader, strict=False)]
        except (UnicodeDecodeError, csv.Error):
            return Preview("download")
        if not rows:
            return Preview("text", text="(empty file)")
        return Preview(
            "table",
            header=rows[0],
            rows=tuple(rows[1 : MAX_ROWS + 1]),
            truncated=len(rows) > MAX_ROWS + 1,
        )
    if suffix in TEXT:
        text = data[:MAX_TEXT].decode("utf-8", "replace")
        return Preview("text", text=text, truncated=len(data) > MAX_TEXT)
    return Preview("download")


def raw_response(data: bytes, suffix: str, name: str, *, inline: bool) -> HttpResponse:
    """The bytes, typed by suffix; inline only for images, and in a sandbox either way so that
    a script in an SVG or HTML file never runs with the coordinator's origin."""
    response = HttpResponse(
        data, content_type=CONTENT_TYPES.get(suffix, "application/octet-stream")
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'; sandbox"
    safe_name = "".join(c if c.isalnum() or c in "._-" else "_" for c in name) or "file"
    disposition = "inline" if inline and suffix in IMAGES else "attachment"
    response["Content-Disposition"] = f'{disposition}; filename="{safe_name}"'
    return response
