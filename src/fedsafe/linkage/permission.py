"""The linkage permission both data controllers grant, and the check every declaration passes.

A permission is data (it is stored by the coordinator and shown in the public log): for one
project, the backend that asks (A, where the study runs) and the backend that provides (B), the
tables and columns B may send, the date range, the finest date precision, an expiry, and one
grant from each backend's controller. :func:`check_declaration` is a pure function of the
declaration, the permission and the time, so the coordinator can call it before any job is
made and the backends can call it again before anything moves.
"""

from __future__ import annotations

import datetime
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from fedsafe.linkage.declaration import COARSENINGS, DateRange, LinkageDeclaration, qualified
from fedsafe.linkage.errors import LinkageError, LinkageRefused

__all__ = ["Grant", "LinkagePermission", "check_declaration", "permission_from_data"]


@dataclass(frozen=True)
class Grant:
    """One data controller's agreement: which backend it controls, who, and when."""

    backend: str
    granted_by: str
    granted_at: datetime.datetime


@dataclass(frozen=True)
class LinkagePermission:
    project: str
    requester: str  # A: the backend whose jobs receive the linked rows
    provider: str  # B: the backend whose rows are sent
    tables: tuple[tuple[str, frozenset[str]], ...]  # qualified table -> permitted columns
    date_range: DateRange | None  # None: any date
    finest_dates: str  # the finest precision B may send: day, month or year
    expires_at: datetime.datetime
    grants: tuple[Grant, ...]

    def columns_of(self, table: str) -> frozenset[str] | None:
        return dict(self.tables).get(table)

    def to_public(self) -> dict[str, Any]:
        return {
            "project": self.project,
            "requester": self.requester,
            "provider": self.provider,
            "tables": {name: sorted(columns) for name, columns in self.tables},
            "date_range": None
            if self.date_range is None
            else {
                "start": self.date_range.start.isoformat(),
                "end": self.date_range.end.isoformat(),
            },
            "finest_dates": self.finest_dates,
            "expires_at": self.expires_at.isoformat(),
            "grants": [
                {
                    "backend": g.backend,
                    "granted_by": g.granted_by,
                    "granted_at": g.granted_at.isoformat(),
                }
                for g in self.grants
            ],
        }


def permission_from_data(
    data: Mapping[str, Any], *, source: str = "permission"
) -> LinkagePermission:
    """Build a permission from stored data (as :meth:`LinkagePermission.to_public` writes it).

    Raises LinkageError naming the field for anything missing or malformed.
    """

    def field(name: str) -> Any:
        if name not in data:
            raise LinkageError(f"{source}: {name!r} is required")
        return data[name]

    def moment(value: Any, where: str) -> datetime.datetime:
        try:
            parsed = (
                value
                if isinstance(value, datetime.datetime)
                else datetime.datetime.fromisoformat(value)
            )
        except (TypeError, ValueError):
            raise LinkageError(f"{source}: {where} {value!r} is not a date and time") from None
        if parsed.tzinfo is None:
            raise LinkageError(f"{source}: {where} {value!r} needs a time zone (e.g. +00:00)")
        return parsed

    unknown = set(data) - set(LinkagePermission.__dataclass_fields__)
    if unknown:
        raise LinkageError(f"{source}: unknown fields {sorted(unknown)}")
    tables = field("tables")
    if not isinstance(tables, Mapping) or not tables:
        raise LinkageError(f"{source}: 'tables' must map each table to its permitted columns")
    for name, columns in tables.items():
        if not isinstance(columns, list | tuple) or not all(isinstance(c, str) for c in columns):
            raise LinkageError(f"{source}: tables.{name} must be a list of column names")
    raw_range = data.get("date_range")
    date_range = None
    if raw_range is not None:
        try:
            date_range = DateRange(
                datetime.date.fromisoformat(str(raw_range["start"])),
                datetime.date.fromisoformat(str(raw_range["end"])),
            )
        except (KeyError, TypeError, ValueError):
            raise LinkageError(f"{source}: date_range must be {{start, end}} dates") from None
    finest = field("finest_dates")
    if finest not in COARSENINGS:
        raise LinkageError(f"{source}: finest_dates {finest!r} is not one of {COARSENINGS}")
    grants = []
    for index, grant in enumerate(field("grants")):
        try:
            grants.append(
                Grant(
                    str(grant["backend"]),
                    str(grant["granted_by"]),
                    moment(grant["granted_at"], f"grants[{index}].granted_at"),
                )
            )
        except (KeyError, TypeError):
            raise LinkageError(
                f"{source}: grants[{index}] needs backend, granted_by and granted_at"
            ) from None
    return LinkagePermission(
        project=str(field("project")),
        requester=str(field("requester")),
        provider=str(field("provider")),
        tables=tuple(
            sorted((qualified(name), frozenset(columns)) for name, columns in tables.items())
        ),
        date_range=date_range,
        finest_dates=finest,
        expires_at=moment(field("expires_at"), "expires_at"),
        grants=tuple(grants),
    )


def check_declaration(
    declaration: LinkageDeclaration | None,
    permission: LinkagePermission | None,
    now: datetime.datetime,
    *,
    project: str,
    requester: str,
    known_backends: Collection[str] | None = None,
) -> None:
    """Refuse (LinkageRefused, listing every reason) anything the permission does not cover.

    ``requester`` is the backend the action runs on; ``known_backends``, when given, are the
    backends the coordinator knows. Returns None when the linkage may go ahead.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if declaration is None:
        raise LinkageRefused(
            ["the action declares no linkage, so no other backend's records may be sent to it"]
        )
    problems: list[str] = []
    if known_backends is not None:
        for role, name in (("linkage.backend", declaration.backend), ("the action", requester)):
            if name not in known_backends:
                problems.append(
                    f"{role} names backend {name!r}, which is not a known backend "
                    f"(known: {', '.join(sorted(known_backends)) or 'none'})"
                )
    if declaration.backend == requester:
        problems.append(f"the action runs on {requester!r} and cannot link to itself")
    if permission is None:
        problems.append(
            f"there is no linkage permission for project {project!r} from "
            f"{declaration.backend!r} to {requester!r}; both data controllers must grant one"
        )
        raise LinkageRefused(problems)
    problems += _parties(declaration, permission, project, requester, now)
    problems += _scope(declaration, permission)
    if problems:
        raise LinkageRefused(problems)


def _parties(
    declaration: LinkageDeclaration,
    permission: LinkagePermission,
    project: str,
    requester: str,
    now: datetime.datetime,
) -> list[str]:
    problems = []
    if permission.project != project:
        problems.append(f"the permission is for project {permission.project!r}, not {project!r}")
    if permission.provider != declaration.backend:
        problems.append(
            f"the permission lets {permission.provider!r} send records, not {declaration.backend!r}"
        )
    if permission.requester != requester:
        problems.append(
            f"the permission is for jobs on {permission.requester!r}, not on {requester!r}"
        )
    if now >= permission.expires_at:
        problems.append(f"the permission expired at {permission.expires_at.isoformat()}")
    for backend in (permission.requester, permission.provider):
        granted = [g for g in permission.grants if g.backend == backend]
        if not granted:
            problems.append(f"the data controller of {backend!r} has not granted the permission")
        elif all(g.granted_at > now for g in granted):
            problems.append(f"the grant by {backend!r}'s data controller is dated in the future")
    return problems


def _scope(declaration: LinkageDeclaration, permission: LinkagePermission) -> list[str]:
    problems = []
    for request in declaration.tables:
        permitted = permission.columns_of(request.name)
        if permitted is None:
            problems.append(f"table {request.name} is not covered by the permission")
            continue
        wider = [c for c in request.columns if c not in permitted]
        if wider:
            problems.append(
                f"{request.name}: columns {', '.join(wider)} are not covered by the permission "
                f"(it covers {', '.join(sorted(permitted))})"
            )
        if request.date_column is not None and request.date_column not in permitted:
            problems.append(
                f"{request.name}: the date range applies to {request.date_column!r}, which the "
                "permission does not cover"
            )
    if permission.date_range is not None:
        if declaration.date_range is None:
            problems.append(
                f"the declaration has no date_range; the permission covers {permission.date_range}"
            )
        elif not permission.date_range.covers(declaration.date_range):
            problems.append(
                f"the date range {declaration.date_range} is wider than the permission's "
                f"{permission.date_range}"
            )
    if COARSENINGS.index(declaration.coarsen_dates) < COARSENINGS.index(permission.finest_dates):
        problems.append(
            f"dates coarsened to {declaration.coarsen_dates} are finer than the permission "
            f"allows ({permission.finest_dates} or coarser)"
        )
    return problems
