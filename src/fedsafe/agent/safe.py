"""The one line an agent may send about an error: an error class and a fixed sentence.

Built from :mod:`fedsafe.failures` (class-chosen sentences, never an exception's message),
then forced into the agent API's shape: a class name of letters, digits, dots and underscores,
and one printable line of at most 200 characters.
"""

from __future__ import annotations

import re
from pathlib import Path

from fedsafe.agent_protocol.messages import MAX_MESSAGE_CHARS
from fedsafe.failures import summarise_failure

__all__ = ["safe_summary"]

_CLASS = re.compile(r"^[A-Za-z][A-Za-z0-9_.]{0,63}$")


def _needs_not_run(exc: BaseException) -> dict[str, str] | None:
    from fedsafe.pipeline.runner import NeedsNotRun

    if isinstance(exc, NeedsNotRun) and exc.action:
        # Action names are checked against [A-Za-z0-9][A-Za-z0-9_-]* when project.yaml is
        # read, and both are in the public project, so naming them reveals nothing.
        return {
            "error_class": "NeedsNotRun",
            "message": _line(
                f"run action {exc.need!r} on this backend first: {exc.action!r} needs its "
                "outputs, and none are stored yet"
            ),
        }
    return None


def safe_summary(exc: BaseException, project_dir: Path) -> dict[str, str]:
    special = _needs_not_run(exc)
    if special:
        return special
    summary = summarise_failure(exc, project_dir)
    error_class = summary.error_class.split(" ", 1)[0]
    if not _CLASS.match(error_class):
        error_class = "Exception"
    where = ""
    if summary.file is not None:
        where = f" ({summary.file}" + (f", line {summary.line})" if summary.line else ")")
    return {"error_class": error_class, "message": _line(summary.message + where)}


def _line(text: str) -> str:
    printable = "".join(c if " " <= c <= "~" else "?" for c in text)
    return printable[:MAX_MESSAGE_CHARS]
