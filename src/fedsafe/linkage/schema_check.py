"""A linkage declaration against fedsafe's logical table schemas.

Kept apart from :mod:`.declaration` because it imports the table schemas (and so the language
and the query model), which the coordinator must never import; the backend, which runs the
query, checks this before any job runs (``fedsafe check``, and the agent's own check).
"""

from __future__ import annotations

import datetime
import difflib
import importlib

from fedsafe.linkage.declaration import LinkageDeclaration
from fedsafe.linkage.errors import DeclarationError

__all__ = ["SCHEMAS", "check_against_schemas", "table_columns"]

SCHEMAS = ("core", "tpp", "emis", "smoketest")
_NEVER_SENT = ("patient_id",)  # the linkage key is the pseudonym, never a backend's own id


def table_columns(qualified_name: str) -> dict[str, type] | None:
    """Column name -> Python type of a logical table, or None if there is no such table."""
    schema, _, name = qualified_name.partition(".")
    if schema not in SCHEMAS:
        return None
    module = importlib.import_module(f"fedsafe.tables.{schema}")
    if name not in getattr(module, "__all__", ()):
        return None
    frame = getattr(module, name)
    return {column.name: column.type for column in frame._node.schema.columns}


def check_against_schemas(declaration: LinkageDeclaration) -> None:
    """Every table exists, every column is one of its columns, every date column is a date.

    Raises DeclarationError with the path of each problem (relative to the linkage block).
    """
    problems: list[tuple[tuple[str | int, ...], str]] = []
    for request in declaration.tables:
        where: tuple[str | int, ...] = ("tables", request.name)
        columns = table_columns(request.name)
        if columns is None:
            problems.append((where, _unknown_table(request.name)))
            continue
        for index, column in enumerate(request.columns):
            if column in _NEVER_SENT:
                problems.append(
                    (
                        (*where, "columns", index),
                        f"{column!r} is never sent: rows are linked by a per-job pseudonym, "
                        "added to every linked table",
                    )
                )
            elif column not in columns:
                problems.append(((*where, "columns", index), _unknown_column(request, column)))
        dates = [c for c, t in columns.items() if t is datetime.date]
        if request.date_column is not None:
            if request.date_column not in dates:
                problems.append(
                    (
                        (*where, "date_column"),
                        f"{request.date_column!r} is not a date column of {request.name}; "
                        f"its date columns are {', '.join(dates) or '(none)'}",
                    )
                )
        elif declaration.date_range is not None and dates:
            problems.append(
                (
                    (*where, "date_column"),
                    f"with a date_range, say which of {request.name}'s date columns it applies "
                    f"to ({', '.join(dates)}) under date_column",
                )
            )
    if problems:
        raise DeclarationError(problems)


def _unknown_table(name: str) -> str:
    schema, _, table = name.partition(".")
    if schema not in SCHEMAS:
        return f"there is no schema {schema!r}; the schemas are {', '.join(SCHEMAS)}"
    module = importlib.import_module(f"fedsafe.tables.{schema}")
    known = sorted(getattr(module, "__all__", ()))
    message = f"there is no table {table!r} in the {schema} schema"
    close = difflib.get_close_matches(table, known, n=1)
    if close:
        message += f"; did you mean {schema}.{close[0]}?"
    return message


def _unknown_column(request: object, column: str) -> str:
    name = request.name  # type: ignore[attr-defined]
    columns = table_columns(name) or {}
    message = f"{name} has no column {column!r}"
    close = difflib.get_close_matches(column, list(columns), n=1)
    if close:
        message += f"; did you mean {close[0]!r}?"
    return message + f" (its columns: {', '.join(columns)})"
