"""Table mappings: how a backend's physical tables become fedsafe's logical (core) tables.

A mapping says which physical tables and columns each logical table needs (so that
``fedsafe backend check`` can report what is missing before any query runs) and builds each
logical table as an Ibis expression over the physical ones. The engine then compiles queries
over those expressions exactly as over native tables: nothing else knows about mappings.
"""

from __future__ import annotations

from typing import Any, Protocol

import ibis

from fedsafe.backends.mappings.native import NativeMapping
from fedsafe.backends.mappings.omop import OmopMapping

__all__ = ["Mapping", "NativeMapping", "OmopMapping", "get_mapping"]

# A physical column's expected kind: "integer", "float", "string", "date" or "boolean".
Requirements = dict[str, dict[str, str]]


class Mapping(Protocol):
    name: str

    def requirements(self, logical: list[str]) -> Requirements:
        """Physical table -> column -> kind, for the logical tables named."""

    def load(self, con: ibis.BaseBackend, logical: str) -> ibis.Table:
        """The logical table: ``patient_id`` then its columns, with their logical types."""


def get_mapping(name: str, table_names: dict[str, str] | None = None) -> Any:
    if name == "native":
        return NativeMapping(table_names or {})
    if name == "omop":
        return OmopMapping()
    raise ValueError(f"no mapping {name!r}")
