"""``claim_permissions(...)``: a definition saying which restricted tables or features it uses.

Claims matter only for dummy data, where an unclaimed restricted table draws a warning; on a
backend only the project's granted permissions count (see :mod:`fedsafe.permissions`). The
claims made while one definition is evaluated are collected in a context variable, like
parameters, so evaluations never mix.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager

from fedsafe.permissions import check_permission_names

_CLAIMS: contextvars.ContextVar[dict[str, None] | None] = contextvars.ContextVar(
    "fedsafe_claimed_permissions", default=None
)


@contextmanager
def collecting_claims() -> Iterator[dict[str, None]]:
    """Collect the permissions claimed inside the block, in the order first claimed."""
    claims: dict[str, None] = {}
    token = _CLAIMS.set(claims)
    try:
        yield claims
    finally:
        _CLAIMS.reset(token)


def claim_permissions(*permissions: str) -> None:
    """Claim permissions for restricted tables or features, for working with dummy data.

    ``claim_permissions("appointments")`` may go anywhere in a definition, and several calls
    add up. It does not grant access to real data: a backend checks the permissions the
    project has been granted. An unknown name is an error, so a typo is caught at once.
    """
    names = check_permission_names(permissions)
    claims = _CLAIMS.get()
    if claims is not None:
        claims.update(dict.fromkeys(names))
