"""Errors of cohort discovery, each naming where in the query the problem is.

A query arrives as JSON from a hub or a researcher; pointing at
``$.cohort.groups[0].rules[2].value``
lets them fix it without guessing, and raising before anything runs means bad input changes
nothing (no audit record, no ledger entry).
"""

from __future__ import annotations

from fedsafe.errors import FedsafeError


class CohortQueryError(FedsafeError):
    """A query that cannot be read or does not make sense; ``path`` is its JSON path."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path


class AuditLogError(FedsafeError):
    """The backend's cohort audit log cannot be read or written, so no answer may leave."""
