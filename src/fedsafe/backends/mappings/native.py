"""The native mapping: each logical table is a physical table of the same shape.

An operator may give a table another physical name (``[tables] patients = "gp_patients"``);
columns keep their logical names. Integer and decimal widths are cast to the logical types so
that an INTEGER column serves an ``int`` series the same way a BIGINT does.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

import ibis

from fedsafe.backends.mappings.coverage import PARTIAL_TABLES, partial_schema
from fedsafe.engines.compiler import PATIENT_ID, ibis_type
from fedsafe.query_model.types import is_code_type
from fedsafe.tables import core

__all__ = ["NativeMapping", "kind_of", "logical_schema", "providable_tables"]


def _restricted() -> dict[str, object]:
    """The TPP tables that need a permission, which a native backend may hold as they are
    (so a project granted the permission can read them; see :mod:`fedsafe.permissions`)."""
    from fedsafe.permissions import TABLE_PERMISSIONS
    from fedsafe.tables import tpp

    return {name: getattr(tpp, name) for name in TABLE_PERMISSIONS if hasattr(tpp, name)}


def providable_tables(mapping: str) -> frozenset[str]:
    """The logical tables a backend with this mapping may list in ``backend.tables``."""
    if mapping == "native":
        return frozenset(core.__all__) | frozenset(_restricted())
    if mapping == "omop":
        return frozenset(core.__all__) | frozenset(PARTIAL_TABLES)
    return frozenset(core.__all__)


def logical_schema(name: str):  # -> TableSchema
    """The columns a backend provides for logical table ``name``: a core table whole, a
    restricted TPP table whole (native only), a table of :data:`PARTIAL_TABLES` (OMOP only, as
    the configuration allows) cut down to what the mapping can fill."""
    if hasattr(core, name):
        return getattr(core, name)._node.schema
    if name in PARTIAL_TABLES:
        return partial_schema(name)
    return _restricted()[name]._node.schema


def kind_of(type_: type) -> str:
    if type_ is bool:
        return "boolean"
    if type_ is int:
        return "integer"
    if type_ is float:
        return "float"
    if type_ is datetime.date:
        return "date"
    if type_ is str or is_code_type(type_):
        return "string"
    raise TypeError(type_)


@dataclass(frozen=True)
class NativeMapping:
    table_names: dict[str, str] = field(default_factory=dict)
    name: str = "native"

    def physical(self, logical: str) -> str:
        return self.table_names.get(logical, logical)

    def requirements(self, logical: list[str]) -> dict[str, dict[str, str]]:
        needs: dict[str, dict[str, str]] = {}
        for table in logical:
            schema = logical_schema(table)
            columns = {PATIENT_ID: "integer"}
            columns.update({c.name: kind_of(c.type) for c in schema.columns})
            needs[self.physical(table)] = columns
        return needs

    def load(self, con: ibis.BaseBackend, logical: str) -> ibis.Table:
        table = con.table(self.physical(logical))
        schema = logical_schema(logical)
        return table.select(
            **{PATIENT_ID: table[PATIENT_ID].cast("int64")},
            **{c.name: table[c.name].cast(ibis_type(c.type)) for c in schema.columns},
        )
