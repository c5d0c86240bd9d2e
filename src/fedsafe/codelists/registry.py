"""The two files that say which codelists a project uses and what they held when recorded.

``codelists/codelists.txt`` lists one codelist per line, as OpenSAFELY projects do: either the
CSV's file name in ``codelists/`` or an OpenCodelists ID (``org/slug/version``, whose file is
``codelists/org-slug.csv``). ``#`` starts a comment. ``codelists/codelists.json`` records, for
each listed entry, the file, its coding system, the column holding the codes and the sha256 of
the file's bytes, so that a codelist changed by hand (or by a spreadsheet) is noticed before a
dataset is made with it.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path, PurePosixPath

from fedsafe.errors import FedsafeError

__all__ = [
    "CODELISTS_DIR",
    "CODELISTS_JSON",
    "CODELISTS_TXT",
    "Listed",
    "Recorded",
    "file_for",
    "read_json",
    "read_txt",
    "write_json",
]

CODELISTS_DIR = Path("codelists")
CODELISTS_TXT = CODELISTS_DIR / "codelists.txt"
CODELISTS_JSON = CODELISTS_DIR / "codelists.json"


class CodelistFileError(FedsafeError):
    """codelists.txt or codelists.json cannot be read."""


@dataclass(frozen=True)
class Listed:
    """One entry of codelists.txt, with its line."""

    entry: str
    line: int


@dataclass(frozen=True)
class Recorded:
    """What codelists.json says about one entry."""

    file: str
    system: str
    column: str
    sha256: str
    codes: int


def file_for(entry: str) -> str:
    """The file name in codelists/ for an entry of codelists.txt."""
    if entry.endswith(".csv"):
        return entry
    parts = entry.split("/")
    # org/slug/version: the version names what was downloaded, not the file
    return "-".join(parts[:2]) + ".csv" if len(parts) >= 2 else entry + ".csv"


def entry_problem(entry: str) -> str | None:
    path = PurePosixPath(entry)
    if entry.startswith("/") or ".." in path.parts or "\\" in entry:
        return f"{entry!r} must be a file name in codelists/ or an OpenCodelists ID"
    if entry.endswith(".csv") and len(path.parts) != 1:
        return f"{entry!r} must be a file directly in codelists/, without a folder"
    return None


def read_txt(workspace: Path) -> list[Listed]:
    path = workspace / CODELISTS_TXT
    listed = []
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        text = raw.split("#", 1)[0].strip()
        if text:
            listed.append(Listed(text, number))
    return listed


def read_json(workspace: Path) -> dict[str, Recorded]:
    path = workspace / CODELISTS_JSON
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return {entry: Recorded(**fields) for entry, fields in data.items()}
    except (ValueError, TypeError, AttributeError) as exc:
        raise CodelistFileError(
            f"{CODELISTS_JSON}: cannot be read ({exc}); it is written by 'fedsafe codelists add', "
            "so add the codelists again to rebuild it"
        ) from None


def write_json(workspace: Path, recorded: dict[str, Recorded]) -> None:
    path = workspace / CODELISTS_JSON
    data = {entry: asdict(r) for entry, r in sorted(recorded.items())}
    temporary = path.with_suffix(".json.tmp")
    temporary.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    os.replace(temporary, path)
