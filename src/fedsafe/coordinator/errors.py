"""Errors a person or an agent caused, each naming the field that was wrong."""

from __future__ import annotations

from fedsafe.errors import FedsafeError

__all__ = ["CoordinatorError", "FieldError", "NotAllowed"]


class CoordinatorError(FedsafeError):
    """Something asked of the coordinator that it refuses; nothing was changed."""


class FieldError(CoordinatorError):
    """One input field is wrong; ``field`` says which, so forms and the API can point at it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class NotAllowed(CoordinatorError):
    """The request is well formed but the caller may not do it now (wrong owner or state)."""
