"""``fedsafe codelists check``: every listed codelist is there, readable, valid and unchanged.

Dataset actions run this first and refuse to run when it fails, because a codelist with a
mistyped code, the wrong column or an unnoticed edit silently changes who is in a study.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from fedsafe.codelists.registry import (
    CODELISTS_DIR,
    CODELISTS_JSON,
    CODELISTS_TXT,
    entry_problem,
    file_for,
    read_json,
    read_txt,
)
from fedsafe.codes import CodelistError, UnknownCodeSystemError, code_type_for, codelist_from_csv
from fedsafe.pipeline.errors import CodelistCheckError

__all__ = ["CheckedCodelist", "check_codelists", "validate_codelist_file"]


@dataclass(frozen=True)
class CheckedCodelist:
    entry: str
    file: str
    system: str
    codes: int


def validate_codelist_file(path: Path, shown: str, system: str, column: str) -> int:
    """Read the CSV and check every code against its coding system; return how many codes."""
    try:
        code_type = code_type_for(system)
        codelist = codelist_from_csv(path, column=column)
        codelist = type(codelist)(
            codes=codelist.codes, source=shown, lines=codelist.lines
        )  # name the file as the researcher sees it
        codelist.as_codes(code_type)
    except (CodelistError, UnknownCodeSystemError) as exc:
        raise CodelistCheckError([str(exc).replace(str(path), shown)]) from None
    return len(codelist.codes)


def check_codelists(workspace: Path) -> list[CheckedCodelist]:
    """Check the project's codelists, raising one error listing every problem found."""
    workspace = Path(workspace)
    txt = workspace / CODELISTS_TXT
    if not txt.exists():
        stray = sorted((workspace / CODELISTS_DIR).glob("*.csv"))
        if stray:
            raise CodelistCheckError(
                [
                    f"{CODELISTS_TXT} is missing, but {CODELISTS_DIR}/ holds "
                    f"{len(stray)} CSV files; record each with 'fedsafe codelists add FILE'"
                ]
            )
        return []
    problems: list[str] = []
    checked: list[CheckedCodelist] = []
    recorded = read_json(workspace)
    seen: dict[str, int] = {}
    for listed in read_txt(workspace):
        where = f"{CODELISTS_TXT}, line {listed.line}"
        problem = entry_problem(listed.entry)
        if problem:
            problems.append(f"{where}: {problem}")
            continue
        if listed.entry in seen:
            problems.append(
                f"{where}: {listed.entry!r} is already listed on line {seen[listed.entry]}"
            )
            continue
        seen[listed.entry] = listed.line
        record = recorded.get(listed.entry)
        shown = f"{CODELISTS_DIR}/{file_for(listed.entry)}"
        path = workspace / shown
        if not path.is_file():
            problems.append(f"{where}: {shown} does not exist")
            continue
        if record is None:
            problems.append(
                f"{where}: {listed.entry!r} is not recorded in {CODELISTS_JSON}; "
                f"run 'fedsafe codelists add {shown}'"
            )
            continue
        try:
            count = validate_codelist_file(path, shown, record.system, record.column)
        except CodelistCheckError as exc:
            problems.extend(exc.problems)
            continue
        actual = hashlib.sha256(path.read_bytes()).hexdigest()
        if actual != record.sha256:
            problems.append(
                f"{shown} has changed since it was recorded (sha256 {actual[:12]}..., recorded "
                f"{record.sha256[:12]}...); if the change is intended, run "
                f"'fedsafe codelists add {shown}' to record it"
            )
            continue
        checked.append(CheckedCodelist(listed.entry, shown, record.system, count))
    for entry in sorted(set(recorded) - set(seen)):
        problems.append(
            f"{CODELISTS_JSON}: {entry!r} is recorded but not listed in {CODELISTS_TXT}; "
            "add it to the list or remove its record"
        )
    if problems:
        raise CodelistCheckError(problems)
    return checked
