"""Safe error summaries: what a backend may tell a researcher about a failed action.

When an action fails inside a backend, the researcher needs to know what went wrong and where
in their code, but the exception's message and the traceback's values may hold patient data,
file contents or the backend's paths. :func:`summarise_failure` keeps only what is known to be
safe: an allow-listed class name, a sentence chosen by class (never the message), and the file
(relative to the project) and line of the researcher's own code where it happened. The full
traceback goes into :class:`FailureRecord.local_log`, which stays in the backend's log for those
allowed to see it.
"""

from __future__ import annotations

import builtins
import re
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fedsafe.failures.messages import BUILTIN_MESSAGES, TRUSTED_LIBRARIES, builtin_message

__all__ = ["FailureRecord", "SafeErrorSummary", "record_failure", "summarise_failure"]


@dataclass(frozen=True)
class SafeErrorSummary:
    """An error as it may leave the backend: class, a fixed sentence, and where in user code."""

    error_class: str
    message: str
    file: str | None = None  # relative to the project, always
    line: int | None = None

    def text(self) -> str:
        where = ""
        if self.file is not None:
            where = f" in {self.file}" + (f", line {self.line}" if self.line is not None else "")
        return f"{self.error_class}{where}: {self.message}"

    def to_dict(self) -> dict[str, Any]:
        """The summary as JSON for the coordinator: these four keys and nothing else."""
        return {
            "error_class": self.error_class,
            "message": self.message,
            "file": self.file,
            "line": self.line,
        }


@dataclass(frozen=True)
class FailureRecord:
    """The safe summary, and the full traceback that must stay in the backend's own log."""

    summary: SafeErrorSummary
    local_log: str


def record_failure(exc: BaseException, project_dir: Path) -> FailureRecord:
    """The safe summary of ``exc`` and its full traceback for the local log."""
    log = "".join(traceback.format_exception(exc))
    details = getattr(exc, "details", None)  # a definition's traceback from its own process
    if isinstance(details, str) and details:
        log += "\nIn the dataset definition's process:\n" + details
    return FailureRecord(summarise_failure(exc, project_dir), log)


def summarise_failure(exc: BaseException, project_dir: Path) -> SafeErrorSummary:
    """What may be said about ``exc``: never its message, never a path outside the project."""
    project = Path(project_dir).resolve()
    from fedsafe.loader.load import DefinitionLoadError

    if isinstance(exc, DefinitionLoadError):
        return _from_definition_error(exc, project)
    error_class, message = _describe_class(type(exc), project, _user_files(exc, project))
    file, line = _locate(exc, project)
    return SafeErrorSummary(error_class, message, file, line)


def _from_definition_error(exc: Any, project: Path) -> SafeErrorSummary:
    """A definition's failure, from the class name and place its sandboxed process reported."""
    name = exc.error_type if isinstance(exc.error_type, str) else None
    cls = getattr(builtins, name, None) if name else None
    if isinstance(cls, type) and issubclass(cls, BaseException) and name in BUILTIN_MESSAGES:
        error_class, message = name, BUILTIN_MESSAGES[name]
    else:
        # A class from fedsafe's language or the definition's own: its name is not checked
        # here, so say only that the definition failed.
        error_class, message = "DefinitionError", "the dataset definition could not be loaded"
    file = _relative(exc.file, project) if isinstance(exc.file, str) else None
    line = exc.line if isinstance(exc.line, int) and file is not None else None
    return SafeErrorSummary(error_class, message, file, line)


def _describe_class(cls: type, project: Path, user_files: list[Path]) -> tuple[str, str]:
    fallback = builtin_message(cls) or ("Exception", BUILTIN_MESSAGES["Exception"])
    if builtin_message(cls) is not None and getattr(builtins, cls.__name__, None) is cls:
        return fallback
    if _is_trusted_library_class(cls, project):
        doc = (cls.__doc__ or "").strip().splitlines()
        sentence = doc[0].strip() if doc and doc[0].strip() else fallback[1]
        return f"{cls.__module__}.{cls.__qualname__}", sentence
    if _is_declared_in_user_code(cls, project, user_files):
        return f"{cls.__qualname__} (a subclass of {fallback[0]})", fallback[1]
    return f"{fallback[0]} (a class made at run time)", fallback[1]


def _module_file(cls: type) -> Path | None:
    module = sys.modules.get(cls.__module__)
    file = getattr(module, "__file__", None)
    if not isinstance(file, str):
        return None
    try:
        return Path(file).resolve()
    except (OSError, ValueError):
        return None


def _is_trusted_library_class(cls: type, project: Path) -> bool:
    """A class that really is where it says, in an installed trusted library.

    ``__module__`` and ``__qualname__`` can be set to anything, so the class must be found at
    that name in that module, and the module must be installed, not in the project.
    """
    if cls.__module__.split(".")[0] not in TRUSTED_LIBRARIES:
        return False
    found: Any = sys.modules.get(cls.__module__)
    for part in cls.__qualname__.split("."):
        found = getattr(found, part, None)
    file = _module_file(cls)
    return found is cls and file is not None and not file.is_relative_to(project)


def _is_declared_in_user_code(cls: type, project: Path, user_files: list[Path]) -> bool:
    """A class written in the project's code (``class Name(...)``), not made from data.

    The name must appear as a class statement in its module's file or in a file of the
    traceback (a script run as ``__main__``), inside the project.
    """
    name = cls.__name__
    if not name.isidentifier() or cls.__qualname__ != name:
        return False
    files = [f for f in [_module_file(cls), *user_files] if f is not None]
    pattern = re.compile(rf"^\s*class\s+{re.escape(name)}\b", re.MULTILINE)
    for file in files:
        if not file.is_relative_to(project):
            continue
        try:
            source = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        if pattern.search(source):
            return True
    return False


def _user_files(exc: BaseException, project: Path) -> list[Path]:
    files = []
    for frame, _ in traceback.walk_tb(exc.__traceback__):
        filename = frame.f_code.co_filename
        if _is_user_file(filename, project):
            files.append(Path(filename).resolve())
    return files


def _trusted_roots() -> list[Path]:
    roots = {sys.prefix, sys.base_prefix, sys.exec_prefix, Path(__file__).resolve().parents[1]}
    return [Path(r).resolve() for r in roots]


def _is_user_file(filename: str, project: Path) -> bool:
    try:
        path = Path(filename).resolve()
    except (OSError, ValueError):
        return False
    if not path.is_relative_to(project) or not path.is_file():
        return False
    # a virtual environment inside the project is not the researcher's code
    return not any(path.is_relative_to(root) for root in _trusted_roots())


def _locate(exc: BaseException, project: Path) -> tuple[str | None, int | None]:
    """The deepest frame in the researcher's own code, as a project-relative path and line."""
    if isinstance(exc, SyntaxError) and exc.filename and _is_user_file(exc.filename, project):
        return _relative(exc.filename, project), exc.lineno
    found: tuple[str | None, int | None] = (None, None)
    for frame, lineno in traceback.walk_tb(exc.__traceback__):
        filename = frame.f_code.co_filename
        if _is_user_file(filename, project):
            found = (_relative(filename, project), lineno)
    return found


def _relative(filename: str, project: Path) -> str | None:
    """``filename`` relative to the project, or None if it is outside (or tries to leave) it."""
    path = Path(filename)
    if not path.is_absolute():
        path = project / path
    try:
        resolved = path.resolve()
    except (OSError, ValueError):
        return None
    if not resolved.is_relative_to(project):
        return None
    return resolved.relative_to(project).as_posix()
