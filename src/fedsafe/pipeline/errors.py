"""Errors in a project: its ``project.yaml``, its codelists or its run.

They carry where the problem is (file, line, action, field) as attributes as well as in the
message, so tests and other tools can check the place without parsing text.
"""

from __future__ import annotations

from fedsafe.errors import FedsafeError

__all__ = ["ActionFailed", "CodelistCheckError", "ProjectError", "ProjectErrors"]


class ProjectError(FedsafeError):
    """``project.yaml`` is not a valid pipeline; the message says where and what was expected."""

    def __init__(
        self,
        message: str,
        *,
        file: str = "project.yaml",
        line: int | None = None,
        action: str | None = None,
        field: str | None = None,
    ) -> None:
        where = file if line is None else f"{file}, line {line}"
        parts = [where]
        if action is not None:
            parts.append(f"action {action!r}")
        if field is not None:
            parts.append(f"field {field!r}")
        super().__init__(": ".join([", ".join(parts), message]))
        self.file = file
        self.line = line
        self.action = action
        self.field = field
        self.reason = message


class ProjectErrors(ProjectError):
    """Several problems in ``project.yaml``, reported together so one check shows them all.

    Its place attributes are those of the first problem; ``problems`` holds each one.
    """

    def __init__(self, problems: list[ProjectError]) -> None:
        first = problems[0]
        super().__init__(
            first.reason, file=first.file, line=first.line, action=first.action, field=first.field
        )
        self.problems = tuple(problems)
        self.args = (
            f"{first.file} has {len(problems)} problems:\n  "
            + "\n  ".join(str(p) for p in problems),
        )


class CodelistCheckError(FedsafeError):
    """One or more codelists are missing, unreadable, invalid or changed since recorded."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("codelists check failed:\n  " + "\n  ".join(problems))
        self.problems = tuple(problems)


class ActionFailed(FedsafeError):
    """One or more actions failed; the message names each and the path of its log."""
