"""Reading an output table (CSV or Arrow) into plain columns the checker can reason about.

CSV is read with Python's csv module rather than a fast reader, because outputs are small
aggregates and the checker must name the exact line of a problem; every row must have as many
fields as the header. Values stay text here; :func:`parse_number` turns a cell into a number or
a redaction marker when the checker needs one.
"""

from __future__ import annotations

import csv
import gzip
import io
import math
import re
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.ipc
import pyarrow.parquet as pq

from fedsafe.disclosure.errors import OutputFileError

__all__ = [
    "REDACTION_MARKERS",
    "TABLE_SUFFIXES",
    "Redacted",
    "Table",
    "is_table_file",
    "parse_number",
    "read_table",
]

TABLE_SUFFIXES: tuple[str, ...] = (".csv", ".csv.gz", ".arrow", ".feather", ".parquet")

# How people write a redacted value in a CSV. Compared case-insensitively, spaces stripped.
REDACTION_MARKERS = frozenset(
    {"", "na", "nan", "null", "none", "redacted", "[redacted]", "<redacted>", "*", "-", "."}
)
_SMALL_MARKER = re.compile(r"^(<|<=|≤)\s*\d+$")  # "<8", "<=7": says the value is small
_INTEGER = re.compile(r"^[+-]?\d+$")


class Redacted:
    """A cell that was redacted (or is missing): it publishes no number."""

    def __repr__(self) -> str:
        return "Redacted"


REDACTED = Redacted()


@dataclass(frozen=True)
class Table:
    """An output's columns as Python values, with the CSV line of each data row if known."""

    path: Path
    columns: dict[str, list[object]]
    lines: list[int] | None

    def line_of(self, row_index: int) -> int | None:
        return self.lines[row_index] if self.lines is not None else None


def is_table_file(path: Path) -> bool:
    """Whether ``path`` is named like a table the checker can read."""
    return path.name.lower().endswith(TABLE_SUFFIXES)


def read_table(path: Path) -> Table:
    """Read ``path`` (.csv, .csv.gz, .arrow, .feather, .parquet); malformed files raise."""
    name = path.name.lower()
    if not path.is_file():
        raise OutputFileError(f"{path}: no such file")
    if name.endswith(".csv") or name.endswith(".csv.gz"):
        return _read_csv(path, gzipped=name.endswith(".gz"))
    try:
        if name.endswith((".arrow", ".feather")):
            with pa.memory_map(str(path)) as source:
                table = pyarrow.ipc.open_file(source).read_all()
        elif name.endswith(".parquet"):
            table = pq.read_table(path)
        else:
            raise OutputFileError(
                f"{path}: cannot check this kind of file; expected .csv, .csv.gz, .arrow, "
                ".feather or .parquet"
            )
    except (pa.ArrowInvalid, OSError) as exc:
        raise OutputFileError(f"{path}: not a readable table ({exc})") from None
    return Table(path, {n: table.column(n).to_pylist() for n in table.column_names}, None)


def _read_csv(path: Path, *, gzipped: bool) -> Table:
    try:
        raw = gzip.decompress(path.read_bytes()) if gzipped else path.read_bytes()
        text = raw.decode("utf-8-sig")
    except (OSError, EOFError, gzip.BadGzipFile, UnicodeDecodeError) as exc:
        raise OutputFileError(f"{path}: cannot read as UTF-8 CSV ({exc})") from None
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
        if header is None:
            raise OutputFileError(f"{path}: empty file; expected a header line")
        if len(set(header)) != len(header) or any(not h.strip() for h in header):
            raise OutputFileError(f"{path}, line 1: column names must be unique and not empty")
        columns: dict[str, list[object]] = {name: [] for name in header}
        lines: list[int] = []
        start = reader.line_num
        for row in reader:
            if not row:
                start = reader.line_num
                continue
            if len(row) != len(header):
                raise OutputFileError(
                    f"{path}, line {start + 1}: {len(row)} fields, but the header has {len(header)}"
                )
            lines.append(start + 1)
            for name, value in zip(header, row, strict=True):
                columns[name].append(value)
            start = reader.line_num
    except csv.Error as exc:
        raise OutputFileError(f"{path}, line {reader.line_num}: malformed CSV ({exc})") from None
    return Table(path, columns, lines)


def parse_number(value: object) -> int | float | Redacted | str | None:
    """A cell as an int, a float, ``REDACTED``, or (when it is neither) its text.

    ``None`` (a null in an Arrow file) is redacted; so are the usual text markers. A small-value
    marker such as ``<8`` is returned as text: it is not a redaction, it discloses a range.
    """
    if value is None:
        return REDACTED
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return REDACTED if math.isnan(value) else value
    text = str(value).strip()
    if text.lower() in REDACTION_MARKERS:
        return REDACTED
    if _INTEGER.match(text):
        return int(text)
    try:
        number = float(text)
    except ValueError:
        return text
    return number if math.isfinite(number) else text


def is_small_marker(value: object) -> bool:
    """Whether a cell is written like ``<8``: a disclosure of a small range, not a redaction."""
    return isinstance(value, str) and bool(_SMALL_MARKER.match(value.strip()))
