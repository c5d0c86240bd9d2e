"""Database URLs (``sqlite:///path`` or ``postgresql://user:pw@host:port/name``) as Django
settings, so the CLI, the server and the tests name a database the same way."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from fedsafe.coordinator.errors import FieldError

__all__ = ["DEFAULT_DATABASE_URL", "database_settings"]

DEFAULT_DATABASE_URL = "sqlite:///fedsafe-coordinator.sqlite3"


def database_settings(url: str) -> dict[str, Any]:
    """Django's ``DATABASES['default']`` for ``url``, refusing anything else with a clear error."""
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        if parts.netloc:
            raise FieldError(
                "--database", f"{url!r}: write sqlite URLs with three slashes: sqlite:///path"
            )
        path = unquote(parts.path[1:] if parts.path.startswith("/") else parts.path)
        if not path:
            raise FieldError("--database", f"{url!r} names no file")
        if path != ":memory:" and not Path(path).parent.is_dir():
            raise FieldError("--database", f"folder {Path(path).parent} does not exist")
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": path,
            # IMMEDIATE takes the write lock at the start of a transaction, so two concurrent
            # leases queue instead of failing halfway with "database is locked".
            "OPTIONS": {"timeout": 30, "transaction_mode": "IMMEDIATE"},
        }
    if parts.scheme in {"postgres", "postgresql"}:
        name = unquote(parts.path.lstrip("/"))
        if not name:
            raise FieldError("--database", f"{_redacted(url)!r} names no database")
        try:
            port = parts.port
        except ValueError:
            raise FieldError("--database", f"{_redacted(url)!r} has a malformed port") from None
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": name,
            "USER": unquote(parts.username or ""),
            "PASSWORD": unquote(parts.password or ""),
            "HOST": unquote(parts.hostname or ""),
            "PORT": str(port or ""),
        }
    raise FieldError(
        "--database",
        f"{_redacted(url)!r} is not a sqlite:///path or postgresql://... URL",
    )


def _redacted(url: str) -> str:
    """The URL without its password, for error messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    return url.replace(f":{parts.password}@", ":***@", 1)
