"""Backend tokens: long random strings shown once, stored as SHA-256.

A token has 256 bits of randomness, so a fast hash is enough (there is nothing to brute-force)
and lets a lookup be one indexed query.
"""

from __future__ import annotations

import hashlib
import secrets

__all__ = ["hash_token", "new_token"]

TOKEN_PREFIX = "fsb_"


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()
