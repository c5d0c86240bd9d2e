"""The errors linkage raises for people: each says what was refused and why."""

from __future__ import annotations

from fedsafe.errors import FedsafeError

__all__ = [
    "DeclarationError",
    "LinkageError",
    "LinkageRefused",
    "PayloadRejected",
    "SecretError",
    "SecretMismatch",
    "VaultError",
]


class LinkageError(FedsafeError):
    """Something about a linkage was refused or failed; nothing was transferred."""


class DeclarationError(LinkageError):
    """A ``linkage:`` block is malformed; ``problems`` holds (field path, message) pairs.

    The path is relative to the block (``("tables", "tpp.apcs", "columns", 1)``) so that
    project.yaml's reader can turn each into a line number.
    """

    def __init__(self, problems: list[tuple[tuple[str | int, ...], str]]) -> None:
        self.problems = tuple(problems)
        super().__init__(
            "; ".join(
                f"linkage.{'.'.join(str(p) for p in path)}: {message}" if path else message
                for path, message in problems
            )
        )


class LinkageRefused(LinkageError):
    """A declaration is not covered by a valid permission; ``problems`` lists every reason."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = tuple(problems)
        super().__init__("linkage refused:\n  " + "\n  ".join(problems))


class SecretError(LinkageError):
    """A backend's linkage secret is missing, too short, or readable by others."""


class SecretMismatch(LinkageError):
    """The two backends derived different job keys: their linkage secrets differ."""


class PayloadRejected(LinkageError):
    """A sealed payload is for another job, was tampered with, or is not a payload."""


class VaultError(LinkageError):
    """The job's encrypted store was used after destruction or is damaged."""
