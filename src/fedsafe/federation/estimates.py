"""The estimates file: what a backend releases so that its model results can be meta-analysed.

A CSV file (UTF-8, one header line) in one of two forms, told apart by its header:

* **effects**: ``term,estimate,std_error``: one row per model term, the estimate on the scale
  it is pooled on (log odds ratios, not odds ratios) and its standard error;
* **proportions**: ``term,events,total``: one row per term, counts of events out of a total
  (as released, so usually already rounded), pooled on the log-odds scale.

A row whose value cells are all empty was withheld by the backend (for example a model that
failed the residual degrees of freedom rule, or a suppressed count): that backend is left out
of that term and the combined manifest says so. Anything else that is not a number where a
number belongs is an error naming the file, line and column, because quietly dropping a term
would change the pooled answer without anyone noticing.
"""

from __future__ import annotations

import csv
import io
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from fedsafe.federation.errors import EstimatesFileError

__all__ = [
    "EFFECT_COLUMNS",
    "PROPORTION_COLUMNS",
    "EffectRow",
    "EstimatesFile",
    "ProportionRow",
    "is_estimates_header",
    "read_estimates",
]

EFFECT_COLUMNS = ("term", "estimate", "std_error")
PROPORTION_COLUMNS = ("term", "events", "total")
_WHOLE = re.compile(r"^\d+$")


@dataclass(frozen=True)
class EffectRow:
    """One term's estimate and standard error; both None when the backend withheld them."""

    term: str
    estimate: float | None
    std_error: float | None
    line: int


@dataclass(frozen=True)
class ProportionRow:
    """One term's events out of total; both None when the backend withheld them."""

    term: str
    events: int | None
    total: int | None
    line: int


@dataclass(frozen=True)
class EstimatesFile:
    """A checked estimates file."""

    path: Path
    kind: Literal["effects", "proportions"]
    rows: tuple[EffectRow, ...] | tuple[ProportionRow, ...]


def is_estimates_header(header: list[str]) -> bool:
    """Whether a CSV with this header is meant as an estimates file (it has a ``term`` column).

    Deciding on ``term`` alone, rather than on the full set of columns, means a file that was
    meant as estimates but has a misspelt column gets an error instead of being skipped.
    """
    return "term" in [h.strip() for h in header]


def read_estimates(path: Path) -> EstimatesFile:
    """Read and check an estimates file; any problem raises naming the file, line and column."""
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise EstimatesFileError(f"{path}: cannot read as UTF-8 CSV ({exc})") from None
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = [h.strip() for h in next(reader, [])]
        kind = _kind(path, header)
        rows: list[EffectRow | ProportionRow] = []
        seen: dict[str, int] = {}
        start = reader.line_num
        for record in reader:
            line = start + 1
            start = reader.line_num
            if not record:
                continue
            if len(record) != len(header):
                raise EstimatesFileError(
                    f"{path}, line {line}: {len(record)} fields, but the header has {len(header)}"
                )
            cells = {name: value.strip() for name, value in zip(header, record, strict=True)}
            term = cells["term"]
            if not term:
                raise EstimatesFileError(f"{path}, line {line}, column 'term': the term is empty")
            if term in seen:
                raise EstimatesFileError(
                    f"{path}, line {line}, column 'term': {term!r} is already on line "
                    f"{seen[term]}; each term may appear once"
                )
            seen[term] = line
            parse = _effect_row if kind == "effects" else _proportion_row
            rows.append(parse(path, line, cells))
    except csv.Error as exc:
        raise EstimatesFileError(f"{path}, line {reader.line_num}: malformed CSV ({exc})") from None
    if not rows:
        raise EstimatesFileError(f"{path}: no rows; expected one row per term")
    return EstimatesFile(path, kind, tuple(rows))  # type: ignore[arg-type]


def _kind(path: Path, header: list[str]) -> Literal["effects", "proportions"]:
    if not header or header == [""]:
        raise EstimatesFileError(f"{path}: empty file; expected a header line")
    for kind, columns in (("effects", EFFECT_COLUMNS), ("proportions", PROPORTION_COLUMNS)):
        if sorted(header) == sorted(columns):
            return kind  # type: ignore[return-value]
    raise EstimatesFileError(
        f"{path}, line 1: the columns are {', '.join(header)}; an estimates file has exactly "
        f"{', '.join(EFFECT_COLUMNS)} (effects) or {', '.join(PROPORTION_COLUMNS)} (proportions)"
    )


def _withheld(path: Path, line: int, cells: dict[str, str], names: tuple[str, str]) -> bool:
    empty = [not cells[name] for name in names]
    if all(empty):
        return True
    if any(empty):
        missing = names[empty.index(True)]
        raise EstimatesFileError(
            f"{path}, line {line}, column {missing!r}: empty while {names[empty.index(False)]!r} "
            "is given; leave both empty to withhold the term, or give both"
        )
    return False


def _effect_row(path: Path, line: int, cells: dict[str, str]) -> EffectRow:
    if _withheld(path, line, cells, ("estimate", "std_error")):
        return EffectRow(cells["term"], None, None, line)
    estimate = _finite(path, line, "estimate", cells["estimate"])
    std_error = _finite(path, line, "std_error", cells["std_error"])
    if std_error <= 0:
        raise EstimatesFileError(
            f"{path}, line {line}, column 'std_error': a standard error must be greater than "
            f"0, got {cells['std_error']!r}"
        )
    return EffectRow(cells["term"], estimate, std_error, line)


def _proportion_row(path: Path, line: int, cells: dict[str, str]) -> ProportionRow:
    if _withheld(path, line, cells, ("events", "total")):
        return ProportionRow(cells["term"], None, None, line)
    events = _whole(path, line, "events", cells["events"])
    total = _whole(path, line, "total", cells["total"])
    if total == 0:
        raise EstimatesFileError(
            f"{path}, line {line}, column 'total': the total must be greater than 0"
        )
    if events > total:
        raise EstimatesFileError(
            f"{path}, line {line}, column 'events': {events} events is more than the total {total}"
        )
    return ProportionRow(cells["term"], events, total, line)


def _finite(path: Path, line: int, column: str, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise EstimatesFileError(
            f"{path}, line {line}, column {column!r}: expected a finite number, got {text!r}"
        )
    return value


def _whole(path: Path, line: int, column: str, text: str) -> int:
    if not _WHOLE.match(text):
        raise EstimatesFileError(
            f"{path}, line {line}, column {column!r}: expected a whole number >= 0, got {text!r}"
        )
    return int(text)
