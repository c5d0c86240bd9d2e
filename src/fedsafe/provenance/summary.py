"""A plain-text summary of a crate, in the order an auditor reads it."""

from __future__ import annotations

from typing import Any

from fedsafe.provenance.bag import OpenedBag
from fedsafe.provenance.conformance import check, entities

__all__ = ["summarise"]


def _id(value: Any) -> str:
    if isinstance(value, dict):
        return str(value.get("@id", ""))
    return str(value or "")


def _ids(value: Any) -> list[str]:
    return [_id(x) for x in (value if isinstance(value, list) else [value] if value else [])]


def _status(value: Any) -> str:
    return _id(value).rsplit("/", 1)[-1].removesuffix("ActionStatus") or "?"


def summarise(bag: OpenedBag) -> str:
    g = entities(bag.metadata)
    root = g.get("./", {})
    name = lambda i: g.get(i, {}).get("name", i)  # noqa: E731
    lines = [
        f"crate {bag.info.get('External-Identifier', '(no External-Identifier)')}",
        f"  {root.get('name', '')}",
        f"  reason: {root.get('description', '')}",
        f"  project: {', '.join(name(p) for p in _ids(root.get('sourceOrganization')))}",
        f"  code: {_id(root.get('mainEntity'))}",
        f"  published: {root.get('datePublished', '-')} by "
        f"{', '.join(name(p) for p in _ids(root.get('publisher'))) or '-'}",
        "runs:",
    ]
    for e in g.values():
        if "CreateAction" in str(e.get("@type")):
            lines.append(
                f"  {_status(e.get('actionStatus')):<10} {e.get('name', e['@id'])}"
                f" [{e.get('startTime', '-')} .. {e.get('endTime', '-')}]"
                f" by {', '.join(name(a) for a in _ids(e.get('agent')))}"
            )
            if e.get("error"):
                lines.append(f"             error: {e['error']}")
            for r in _ids(e.get("result")):
                lines.append(f"             released {r} sha256 {g.get(r, {}).get('sha256', '?')}")
    lines.append("review trail:")
    for e in g.values():
        kinds = _ids(e.get("additionalType"))
        if "AssessAction" in str(e.get("@type")) or "UpdateAction" in str(e.get("@type")):
            kind = kinds[0].rsplit("#", 1)[-1] if kinds else "?"
            who = ", ".join(name(a) for a in _ids(e.get("agent")))
            lines.append(
                f"  {kind:<18} {_status(e.get('actionStatus')):<10} {e.get('name', '')} ({who})"
            )
    problems = check(bag.metadata, bag)
    lines.append(
        "profile 0.4: conforms"
        if not problems
        else "profile 0.4 problems:\n  " + "\n  ".join(str(p) for p in problems)
    )
    return "\n".join(lines)
