"""A connection that shows a backend's *logical* tables, whatever its mapping.

Cohort discovery compiles queries with ``connection.table(name)`` for fedsafe's core tables.
On a native backend those are (nearly) the physical tables; on an OMOP backend they are built
from ``person``, ``condition_occurrence`` and so on by the mapping. Wrapping the connection
lets the same cohort code run on both, over the database itself (nothing is copied).
"""

from __future__ import annotations

from typing import Any

import ibis

from fedsafe.backends.backend import Backend

__all__ = ["LogicalConnection", "connect_logical"]


class LogicalConnection:
    """``table(name)`` gives the backend's logical table; everything else is the connection's."""

    def __init__(self, backend: Backend, connection: ibis.BaseBackend) -> None:
        self._backend = backend
        self._connection = connection
        self._mapping = backend.mapping

    @property
    def name(self) -> str:
        return self._connection.name

    def table(self, name: str) -> ibis.Table:
        return self._mapping.load(self._connection, name)

    def list_tables(self) -> list[str]:
        return list(self._backend.config.tables)

    def disconnect(self) -> None:
        self._connection.disconnect()

    def __getattr__(self, attribute: str) -> Any:
        return getattr(self._connection, attribute)


def connect_logical(backend: Backend) -> LogicalConnection:
    """Connect to every table the backend provides, checked, and show them logically."""
    logical = list(backend.config.tables)
    connection = backend.connect(logical)
    try:
        backend._require(connection, logical)
    except BaseException:
        connection.disconnect()
        raise
    return LogicalConnection(backend, connection)
