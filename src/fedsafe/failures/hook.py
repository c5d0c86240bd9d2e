"""Safe summaries across a process boundary: written by the action, re-checked by trusted code.

An analysis action runs in its own confined process, so the exception never reaches trusted
code. :func:`install_excepthook` (run first in the action's process) writes the summary of an
uncaught exception to a file and then lets Python print the full traceback, which goes to the
action's log inside the backend. But the action's own code shares that process and could write
anything into the file, so :func:`read_summary` trusts none of it: it rebuilds the summary only
from values it can verify itself (an allow-listed class and its fixed sentence, a trusted
library class found by name with its docstring, a class statement present in the project's
code, a project file and a line that exists in it) and drops whatever it cannot verify.
"""

from __future__ import annotations

import builtins
import importlib
import json
import os
import re
import sys
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any

from fedsafe.failures.messages import BUILTIN_MESSAGES, TRUSTED_LIBRARIES
from fedsafe.failures.summary import SafeErrorSummary, summarise_failure

__all__ = ["MAX_SUMMARY_BYTES", "install_excepthook", "read_summary"]

MAX_SUMMARY_BYTES = 4096
_FALLBACK = SafeErrorSummary("Exception", "the action failed; its log stays in the backend")
_USER_CLASS = re.compile(r"^([A-Za-z_]\w*) \(a subclass of (\w+)\)$")
_RUNTIME_CLASS = re.compile(r"^(\w+) \(a class made at run time\)$")


def install_excepthook(project_dir: Path, summary_path: Path) -> None:
    """On an uncaught exception, write its safe summary to ``summary_path``, then print it."""
    previous: Callable[..., Any] = sys.excepthook

    def hook(kind: type[BaseException], value: BaseException, tb: TracebackType | None) -> None:
        try:
            summary = summarise_failure(value, project_dir)
            temporary = summary_path.with_name(f".{summary_path.name}.tmp")
            temporary.write_text(json.dumps(summary.to_dict()), encoding="utf-8")
            os.replace(temporary, summary_path)
        finally:
            previous(kind, value, tb)

    sys.excepthook = hook


def read_summary(summary_path: Path, project_dir: Path) -> SafeErrorSummary:
    """The summary an action wrote, keeping only what can be verified here."""
    try:
        raw = summary_path.read_bytes()[: MAX_SUMMARY_BYTES + 1]
        document = json.loads(raw) if len(raw) <= MAX_SUMMARY_BYTES else None
    except (OSError, ValueError):
        document = None
    if not isinstance(document, dict):
        return _FALLBACK
    project = Path(project_dir).resolve()
    verified = _verified_class(document.get("error_class"), document.get("message"), project)
    if verified is None:
        return _FALLBACK
    file, line = _verified_place(document.get("file"), document.get("line"), project)
    return SafeErrorSummary(verified[0], verified[1], file, line)


def _verified_class(name: Any, message: Any, project: Path) -> tuple[str, str] | None:
    if not isinstance(name, str) or not isinstance(message, str):
        return None
    if name in BUILTIN_MESSAGES and isinstance(getattr(builtins, name, None), type):
        return name, BUILTIN_MESSAGES[name]
    runtime = _RUNTIME_CLASS.match(name)
    if runtime and runtime.group(1) in BUILTIN_MESSAGES:
        return name, BUILTIN_MESSAGES[runtime.group(1)]
    user = _USER_CLASS.match(name)
    if user and user.group(2) in BUILTIN_MESSAGES and _declared_in_project(user.group(1), project):
        return name, BUILTIN_MESSAGES[user.group(2)]
    return _library_class(name, message)


def _library_class(name: str, message: str) -> tuple[str, str] | None:
    """A trusted library's class, found here by name; its docstring's first line if it matches."""
    module_name, _, qualname = name.rpartition(".")
    if module_name.split(".")[0] not in TRUSTED_LIBRARIES or not qualname:
        return None
    try:
        found: Any = importlib.import_module(module_name)
    except Exception:
        return None
    for part in qualname.split("."):
        found = getattr(found, part, None)
    if not (isinstance(found, type) and issubclass(found, BaseException)):
        return None
    doc = (found.__doc__ or "").strip().splitlines()
    expected = doc[0].strip() if doc and doc[0].strip() else None
    return (name, message) if message == expected else (name, BUILTIN_MESSAGES["Exception"])


def _declared_in_project(name: str, project: Path) -> bool:
    pattern = re.compile(rf"^\s*class\s+{re.escape(name)}\b", re.MULTILINE)
    for path in project.rglob("*.py"):
        if any(part.startswith(".") for part in path.relative_to(project).parts):
            continue  # .venv and the like are not the researcher's code
        try:
            if pattern.search(path.read_text(encoding="utf-8")):
                return True
        except (OSError, UnicodeDecodeError):
            continue
    return False


def _verified_place(file: Any, line: Any, project: Path) -> tuple[str | None, int | None]:
    if not isinstance(file, str) or "\\" in file or file.startswith("/") or ".." in file:
        return None, None
    path = (project / file).resolve()
    if not path.is_relative_to(project) or not path.is_file():
        return None, None
    if isinstance(line, bool) or not isinstance(line, int):
        return path.relative_to(project).as_posix(), None
    try:
        lines = path.read_bytes().count(b"\n") + 1
    except OSError:
        return None, None
    ok = 1 <= line <= lines
    return path.relative_to(project).as_posix(), line if ok else None
