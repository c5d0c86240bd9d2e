"""Errors the airlock raises for people: each says what was refused and why, naming the field."""

from __future__ import annotations

from fedsafe.errors import FedsafeError

__all__ = ["AirlockConfigError", "AirlockError", "PermissionDenied", "PolicyRefused"]


class AirlockError(FedsafeError):
    """Bad input to the airlock (a form field, a path, a request id)."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        self.field = field
        super().__init__(f"{field}: {message}" if field else message)


class AirlockConfigError(AirlockError):
    """The backend's airlock configuration is missing or malformed."""


class PermissionDenied(AirlockError):
    """This person may not do this (role, ownership, workspace access)."""


class PolicyRefused(AirlockError):
    """Nobody may do this now (request state, file type, size, level, changed content)."""
