"""``fedsafe codelists add FILE``: record a local codelist CSV so that it can be checked.

The coding system and the code column are taken from the options, or worked out from the
file's name and header where that is unambiguous; the codes are validated before anything is
written, so a bad codelist is never recorded.
"""

from __future__ import annotations

import csv
import hashlib
import re
import shutil
from pathlib import Path

from fedsafe.codelists.check import validate_codelist_file
from fedsafe.codelists.registry import (
    CODELISTS_DIR,
    CODELISTS_TXT,
    Recorded,
    read_json,
    read_txt,
    write_json,
)
from fedsafe.codes import CODE_TYPES, UnknownCodeSystemError, code_type_for
from fedsafe.pipeline.errors import CodelistCheckError

__all__ = ["add_codelist"]

# Words in a file name that say its coding system, as OpenCodelists names its downloads.
_SYSTEM_WORDS = {
    "dmd": "dmd",
    "snomed": "snomedct",
    "snomedct": "snomedct",
    "ctv3": "ctv3",
    "icd10": "icd10",
    "opcs4": "opcs4",
    "bnf": "bnf",
}
_COLUMNS = {
    "dmd": ("dmd_id", "code", "id"),
    "snomedct": ("code", "snomedcode", "snomed_code", "id", "conceptId"),
    "ctv3": ("code", "ctv3_id", "CTV3ID", "id"),
    "icd10": ("code", "icd10_code", "id"),
    "opcs4": ("code", "opcs4_code", "id"),
    "bnf": ("code", "bnf_code", "id"),
}


def add_codelist(
    workspace: Path, file: Path, *, system: str | None = None, column: str | None = None
) -> Recorded:
    """Copy ``file`` into codelists/ if it is elsewhere, list it and record its hash."""
    workspace = Path(workspace).resolve()
    source = Path(file)
    if not source.is_file():
        raise CodelistCheckError([f"{file}: there is no such file"])
    if source.suffix != ".csv":
        raise CodelistCheckError([f"{file}: a codelist must be a .csv file"])
    system = system or _guess_system(source)
    try:
        code_type_for(system)
    except UnknownCodeSystemError as exc:
        raise CodelistCheckError([f"{file}: {exc}"]) from None
    header = _header(source)
    column = column or _guess_column(source, header, system)
    folder = workspace / CODELISTS_DIR
    target = folder / source.name
    shown = f"{CODELISTS_DIR}/{source.name}"
    count = validate_codelist_file(source, shown, system, column)
    folder.mkdir(exist_ok=True)
    if source.resolve() != target.resolve():
        shutil.copyfile(source, target)
    record = Recorded(
        file=source.name,
        system=system,
        column=column,
        sha256=hashlib.sha256(target.read_bytes()).hexdigest(),
        codes=count,
    )
    txt = workspace / CODELISTS_TXT
    if not txt.exists():
        txt.write_text(
            "# One codelist per line: a CSV file in this folder, or an OpenCodelists ID\n"
        )
    if source.name not in {listed.entry for listed in read_txt(workspace)}:
        text = txt.read_text(encoding="utf-8")
        txt.write_text(
            text + ("" if text.endswith("\n") or not text else "\n") + source.name + "\n"
        )
    recorded = read_json(workspace)
    recorded[source.name] = record
    write_json(workspace, recorded)
    return record


def _guess_system(path: Path) -> str:
    words = re.split(r"[^a-z0-9]+", path.stem.lower())
    found = {_SYSTEM_WORDS[w] for w in words if w in _SYSTEM_WORDS}
    if len(found) == 1:
        return found.pop()
    known = ", ".join(CODE_TYPES)
    raise CodelistCheckError(
        [
            f"{path}: cannot tell the coding system from the file name; give it with "
            f"--system (one of {known})"
        ]
    )


def _header(path: Path) -> list[str]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        for row in csv.reader(handle):
            if any(cell.strip() for cell in row):
                return [cell.strip() for cell in row]
    raise CodelistCheckError([f"{path}: the file is empty"])


def _guess_column(path: Path, header: list[str], system: str) -> str:
    for name in _COLUMNS.get(system, ("code",)):
        if name in header:
            return name
    raise CodelistCheckError(
        [
            f"{path}: cannot tell which column holds the codes (the columns are "
            f"{', '.join(header)}); give it with --column"
        ]
    )
