"""The schema reference page, generated from the table declarations themselves.

``docs/schemas.md`` is this module's output (``python -m fedsafe.tables.reference``); a test
fails when the page and the code disagree, so the reference cannot drift from what fedsafe
actually provides.
"""

from __future__ import annotations

import importlib
import inspect
import sys
from typing import Any

from fedsafe.language.frames import BaseFrame, EventFrame, Series, declared_properties
from fedsafe.permissions import TABLE_PERMISSIONS
from fedsafe.query_model import nodes as qm
from fedsafe.query_model.types import describe_type, is_code_type

SCHEMAS = ("core", "tpp", "emis", "smoketest")

_HEADER = """\
# Table schemas

Generated from the table declarations by `python -m fedsafe.tables.reference > docs/schemas.md`;
a test fails if this page and the code disagree. The schemas follow ehrQL's documented
`ehrql.tables.core`, `tpp`, `emis` and `smoketest` schemas, so published definitions import
them unchanged (`from ehrql.tables.tpp import apcs`), or as `fedsafe.tables.tpp`.

Tables marked *needs permission* may be read only by projects granted that permission; claim it
with `claim_permissions(...)` to work on dummy data (see [permissions.md](permissions.md)).
"""


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


def render_table(schema: str, name: str, frame: BaseFrame) -> str:
    node = frame._node
    assert isinstance(node, qm.SelectTable | qm.SelectPatientTable)
    cls = type(frame)
    rows = "many rows per patient" if isinstance(frame, EventFrame) else "one row per patient"
    lines = [f"### `{schema}.{name}`", "", f"*{rows}*"]
    permission = TABLE_PERMISSIONS.get(name)
    if permission:
        lines[-1] += f" · *needs permission `{permission}`*"
    lines += ["", _first_paragraph(cls.__doc__), ""]
    lines += ["| column | type | description | constraints |", "| --- | --- | --- | --- |"]
    for column in node.schema.columns:
        lines.append(
            f"| `{column.name}` | {_type_name(column.type)} | {_cell(column.description)} | "
            f"{_constraints(column)} |"
        )
    for prop_name, prop in declared_properties(cls).items():
        lines.append(f"| `{prop_name}` | string (derived) | {_first_paragraph(prop.__doc__)} | |")
    helpers = _helpers(cls)
    if helpers:
        lines += ["", "Helpers:", ""]
        lines += [f"- `{signature}`: {doc}" for signature, doc in helpers]
    return "\n".join(lines) + "\n"


def render() -> str:
    parts = [_HEADER]
    for schema in SCHEMAS:
        module = importlib.import_module(f"fedsafe.tables.{schema}")
        parts.append(f"## `{schema}`\n\n{_first_paragraph(module.__doc__)}\n")
        for name in sorted(module.__all__):
            parts.append(render_table(schema, name, getattr(module, name)))
    return "\n".join(parts)


if __name__ == "__main__":
    sys.stdout.write(render())
