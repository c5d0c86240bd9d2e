"""The schema reference page, generated from the table declarations themselves.

This module renders the tables and their columns; which backend kinds provide each table and
column is read from the backend mappings, which this package may not import, so
:mod:`fedsafe.backends.reference` passes that in as :class:`Availability` and is the command
that writes ``docs/schemas.md`` (``python -m fedsafe.backends.reference``). A test fails when the
page and the code disagree, so the reference cannot drift from what fedsafe actually provides.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from fedsafe.language.frames import BaseFrame, EventFrame, Series, declared_properties
from fedsafe.permissions import TABLE_PERMISSIONS
from fedsafe.query_model import nodes as qm
from fedsafe.query_model.types import describe_type, is_code_type

SCHEMAS = ("core", "tpp", "emis", "smoketest")

HEADER = """\
# Table schemas

Generated from the table declarations and the backend mappings by
`python -m fedsafe.backends.reference > docs/schemas.md`; a test fails if this page and the code
disagree. The schemas follow ehrQL's documented
`ehrql.tables.core`, `tpp`, `emis` and `smoketest` schemas, so published definitions import
them unchanged (`from ehrql.tables.tpp import apcs`), or as `fedsafe.tables.tpp`.

Tables marked *needs permission* may be read only by projects granted that permission; claim it
with `claim_permissions(...)` to work on dummy data (see [permissions.md](permissions.md)).
"""


@dataclass(frozen=True)
class Availability:
    """Which backend kinds provide one table and each of its columns, as the page shows them.

    ``kinds`` are the column headings added to the table's columns; ``columns`` gives, for each
    column name, one cell per kind (whether that kind provides the column, and why not)."""

    kinds: tuple[str, ...]
    summary: str
    columns: Mapping[str, tuple[str, ...]]


AvailabilityOf = Callable[[str, str], Availability]
"""(schema, table name) -> the table's :class:`Availability`."""


def _first_paragraph(text: str | None) -> str:
    if not text:
        return ""
    paragraphs = inspect.cleandoc(text).split("\n\n")
    return " ".join(paragraphs[0].split())


def _constraints(column: Any) -> str:
    return _cell("; ".join(c.description for c in column.constraints))


def _cell(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    return text.replace("|", "\\|")


def _type_name(type_: type) -> str:
    if is_code_type(type_):
        name = type_.system_name  # type: ignore[attr-defined]
        return name if name.startswith("multiple") else f"{name} code"
    return describe_type(type_)


def _helpers(cls: type) -> list[tuple[str, str]]:
    found = []
    for name, value in sorted(vars(cls).items()):
        if name.startswith("_") or isinstance(value, Series | property):
            continue
        if callable(value):
            signature = inspect.signature(value)
            params = ", ".join(p for p in signature.parameters if p != "self")
            found.append((f"{name}({params})", _first_paragraph(value.__doc__)))
    return found


def render_table(
    schema: str, name: str, frame: BaseFrame, availability: Availability | None = None
) -> str:
    node = frame._node
    assert isinstance(node, qm.SelectTable | qm.SelectPatientTable)
    cls = type(frame)
    rows = "many rows per patient" if isinstance(frame, EventFrame) else "one row per patient"
    lines = [f"### `{schema}.{name}`", "", f"*{rows}*"]
    permission = TABLE_PERMISSIONS.get(name)
    if permission:
        lines[-1] += f" · *needs permission `{permission}`*"
    lines += ["", _first_paragraph(cls.__doc__), ""]
    kinds = availability.kinds if availability else ()
    if availability:
        lines += [availability.summary, ""]
    headings = ["column", "type", "description", "constraints", *kinds]
    lines += ["| " + " | ".join(headings) + " |", "|" + " --- |" * len(headings)]
    for column in node.schema.columns:
        cells = availability.columns[column.name] if availability else ()
        lines.append(
            f"| `{column.name}` | {_type_name(column.type)} | {_cell(column.description)} | "
            f"{_constraints(column)} |" + "".join(f" {_cell(c)} |" for c in cells)
        )
    for prop_name, prop in declared_properties(cls).items():
        derived = f"| `{prop_name}` | string (derived) | {_first_paragraph(prop.__doc__)} | |"
        lines.append(derived + " derived |" * len(kinds))
    helpers = _helpers(cls)
    if helpers:
        lines += ["", "Helpers:", ""]
        lines += [f"- `{signature}`: {doc}" for signature, doc in helpers]
    return "\n".join(lines) + "\n"


def render(header: str = HEADER, availability: AvailabilityOf | None = None) -> str:
    """The page; with ``availability``, each table also says which backend kinds provide it."""
    parts = [header]
    for schema in SCHEMAS:
        module = importlib.import_module(f"fedsafe.tables.{schema}")
        parts.append(f"## `{schema}`\n\n{_first_paragraph(module.__doc__)}\n")
        for name in sorted(module.__all__):
            found = availability(schema, name) if availability else None
            parts.append(render_table(schema, name, getattr(module, name), found))
    return "\n".join(parts)
