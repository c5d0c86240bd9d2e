"""Database URLs (``--dsn``): which engine, and where its data is.

Only DuckDB is supported so far; SQLite, PostgreSQL and Spark come later. DuckDB URLs follow
Ibis's own convention, so a URL that works with ``ibis.connect`` means the same here:

* ``duckdb:///abs/path/to/data.duckdb``: an absolute path (the third slash starts the path);
* ``duckdb://relative/path/data.duckdb``: a path relative to the current working directory;
* ``duckdb://:memory:``: an empty in-memory database (useful only in tests).

Note that this is *not* SQLAlchemy's convention, where ``sqlite:///x`` is relative and four
slashes make an absolute path.

Databases are opened read-only: fedsafe reads data, it never changes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

import duckdb
import ibis

from fedsafe.errors import DataSourceError

__all__ = ["SUPPORTED_SCHEMES", "Dsn", "connect", "parse_dsn"]

SUPPORTED_SCHEMES: tuple[str, ...] = ("duckdb",)

_EXAMPLES = "duckdb:///absolute/path/data.duckdb or duckdb://relative/path/data.duckdb"


@dataclass(frozen=True)
class Dsn:
    """A parsed database URL. ``path`` is None for an in-memory database."""

    scheme: str
    path: Path | None

    def __str__(self) -> str:
        # Safe to print: a DuckDB URL holds no credentials. Other schemes will redact here.
        if self.path is None:
            return f"{self.scheme}://:memory:"
        return f"{self.scheme}://{self.path}"


def parse_dsn(url: str) -> Dsn:
    """Parse and check a database URL, without connecting."""
    scheme, separator, rest = url.partition("://")
    if not separator or not scheme:
        raise DataSourceError(
            f"{_redact(url)!r} is not a database URL: expected SCHEME://..., e.g. {_EXAMPLES}"
        )
    scheme = scheme.lower()
    if scheme not in SUPPORTED_SCHEMES:
        raise DataSourceError(
            f"unsupported database type {scheme!r} in --dsn: supported are "
            + ", ".join(f"{s}://" for s in SUPPORTED_SCHEMES)
        )
    if "?" in rest or "#" in rest:
        raise DataSourceError(
            f"{_redact(url)!r}: DuckDB URLs take no options (nothing after '?' or '#')"
        )
    if rest == ":memory:":
        return Dsn(scheme, None)
    if not rest:
        raise DataSourceError(
            f"{_redact(url)!r} names no database file: expected e.g. {_EXAMPLES} "
            "(or duckdb://:memory: for an empty in-memory database)"
        )
    return Dsn(scheme, Path(unquote(rest)).expanduser())


def connect(dsn: Dsn) -> ibis.BaseBackend:
    """Open the database read-only. The file must already exist: we never create one."""
    if dsn.path is None:
        return ibis.duckdb.connect()
    path = dsn.path.resolve()
    if not path.exists():
        raise DataSourceError(f"DuckDB database {dsn.path} does not exist ({path})")
    if not path.is_file():
        raise DataSourceError(f"DuckDB database {dsn.path} is not a file ({path})")
    try:
        return ibis.duckdb.connect(database=str(path), read_only=True)
    except duckdb.Error as exc:
        raise DataSourceError(f"cannot open DuckDB database {dsn.path}: {exc}") from exc


def _redact(url: str) -> str:
    """A URL fit for an error message: any password (user:password@host) hidden."""
    scheme, separator, rest = url.partition("://")
    if not separator:
        return url
    authority, slash, path = rest.partition("/")
    if "@" in authority:
        credentials, _, host = authority.rpartition("@")
        user = credentials.split(":", 1)[0]
        authority = f"{user}:***@{host}"
    return f"{scheme}{separator}{authority}{slash}{path}"
