"""Checking that a database has the tables and columns a definition needs, before running it.

Without this, a missing column surfaces as an SQL error deep inside a compiled query, naming
generated aliases the researcher never wrote. Checked up front, the error names the table and
column, what was expected and what the database has, and lists every problem at once, so an
operator can fix a mapping in one go.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

import ibis
import ibis.expr.datatypes as dt

from fedsafe.errors import DataSourceError
from fedsafe.query_model.schema import TableSchema
from fedsafe.query_model.types import describe_type, is_code_type

__all__ = ["check_tables", "compatible"]


def compatible(found: dt.DataType, type_: type) -> bool:
    """Whether a database column of type ``found`` can serve a fedsafe column of ``type_``.

    Integers of any width serve ``int``; floats and decimals serve ``float``; codes are text.
    Dates must be dates: a timestamp column would need a mapping that says how to truncate it.
    """
    if type_ is bool:
        return found.is_boolean()
    if type_ is int:
        return found.is_integer()
    if type_ is float:
        return found.is_floating() or found.is_decimal() or found.is_integer()
    if type_ is str or is_code_type(type_):
        return found.is_string()
    if type_ is datetime.date:
        return found.is_date()
    return False


def check_tables(backend: ibis.BaseBackend, tables: Mapping[str, Any], *, source: str = "") -> None:
    """Raise one :class:`DataSourceError` listing every missing table, column or wrong type.

    ``tables`` maps names to a :class:`TableSchema` or a query model table node (with
    ``.schema``); ``source`` names the database in the message (e.g. the DSN).
    """
    present = set(backend.list_tables())
    problems: list[str] = []
    for name, value in tables.items():
        schema: TableSchema = value if isinstance(value, TableSchema) else value.schema
        if name not in present:
            problems.append(f"table {name!r} is missing")
            continue
        found = backend.table(name).schema()
        columns = {"patient_id": int, **{c.name: c.type for c in schema.columns}}
        for column, type_ in columns.items():
            if column not in found:
                has = ", ".join(found.names)
                problems.append(f"table {name!r} has no column {column!r} (it has {has})")
            elif not compatible(found[column], type_):
                problems.append(
                    f"table {name!r}, column {column!r}: has type {found[column]}, "
                    f"expected {describe_type(type_)}"
                )
    if problems:
        where = f" {source}" if source else ""
        raise DataSourceError(
            f"the database{where} does not have what this dataset definition needs:\n  - "
            + "\n  - ".join(problems)
        )
