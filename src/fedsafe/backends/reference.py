"""Writes ``docs/schemas.md``: every table, its columns, and which backend kinds provide them.

``python -m fedsafe.backends.reference > docs/schemas.md`` regenerates the page. The tables and
columns come from the schema declarations (:mod:`fedsafe.tables.reference` renders them); which
backend kinds provide each table and column comes from the mappings, through the same functions
``fedsafe backend tables`` and ``Backend.refuse_unprovided`` use (``providable_tables``,
``logical_schema``), so the page says what a backend really accepts. This module lives in
``backends`` because ``tables`` may not import the mappings (an import-linter contract).
"""

from __future__ import annotations

import importlib
import sys

from fedsafe.backends.mappings.coverage import NOT_PROVIDED, PARTIAL_TABLES
from fedsafe.backends.mappings.native import logical_schema, providable_tables
from fedsafe.tables import core
from fedsafe.tables.reference import HEADER, Availability, render

__all__ = ["KINDS", "availability", "column_availability", "page"]

KINDS = ("native", "omop")
"""The backend kinds (a backend configuration's ``backend.mapping``), in the page's order."""

PROVIDED = "yes"
NO_TABLE = "—"


def _listing(names: frozenset[str]) -> str:
    return ", ".join(f"`{n}`" for n in sorted(names))


def _header() -> str:
    kinds = "\n".join(
        f"* **{kind}** may list in `backend.tables`: {_listing(providable_tables(kind))}."
        for kind in KINDS
    )
    return f"""{HEADER}
## Which backends provide what

Each table says which backend kinds (a backend configuration's `backend.mapping`) provide it,
and its columns say, per kind, `{PROVIDED}` or why not (`{NO_TABLE}`: the kind does not provide
the table). A backend provides a table only if its configuration lists it in `backend.tables`;
`fedsafe backend tables CONFIG` lists what one backend provides, and a definition reading a table
or column its backend does not provide is refused before it runs (see [backends.md](backends.md)).
A table is provided by name, whichever schema a definition imports it from: a `tpp` or `emis`
table that shares its name with a `core` table is provided with the core table's columns.
Derived columns are available wherever the columns they are computed from are.

{kinds}
"""


def column_availability(kind: str, table: str, column: str) -> str:
    """``yes`` if a backend of ``kind`` listing ``table`` provides ``column``; else why not."""
    if table not in providable_tables(kind):
        return NO_TABLE
    if column in logical_schema(table).column_names:
        return PROVIDED
    if table in PARTIAL_TABLES and column in NOT_PROVIDED.get(table, {}):
        return f"no: {NOT_PROVIDED[table][column]}"
    if hasattr(core, table):
        return f"no: not a column of `core.{table}`, the table the {kind} mapping provides"
    return f"no: not a column of the `{table}` table the {kind} mapping provides"


def availability(schema: str, table: str) -> Availability:
    """What the page shows for ``schema.table``: a summary line and one cell per kind."""
    frame = getattr(importlib.import_module(f"fedsafe.tables.{schema}"), table)
    names = frame._node.schema.column_names
    cells = {c: tuple(column_availability(kind, table, c) for kind in KINDS) for c in names}
    said = []
    for i, kind in enumerate(KINDS):
        provided = sum(cells[c][i] == PROVIDED for c in names)
        if table not in providable_tables(kind):
            said.append(f"{kind}: not provided")
        elif provided == len(names):
            said.append(f"{kind}: all columns")
        else:
            said.append(f"{kind}: {provided} of {len(names)} columns")
    return Availability(KINDS, "**Backends:** " + " · ".join(said), cells)


def page() -> str:
    """The whole of ``docs/schemas.md``."""
    return render(_header(), availability)


if __name__ == "__main__":
    sys.stdout.write(page())
