"""Recording linkage permissions: created with their scope, granted by each backend's data
controller, revoked; every change with its audit record in one transaction, after every field
has been checked (bad input changes nothing).

The coordinator knows no table schema (it never imports the query stack), so table and column
names are checked for shape here; whether they exist is checked by ``fedsafe check`` on the
study's side and by both backends before anything moves. A name the schemas lack simply never
matches a real column.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping

from django.db import transaction
from django.utils import timezone

from fedsafe.coordinator import audit
from fedsafe.coordinator.errors import CoordinatorError, FieldError
from fedsafe.coordinator.models import Backend, LinkageGrant, LinkagePermission, Project
from fedsafe.linkage.declaration import COARSENINGS, qualified

__all__ = ["create_permission", "grant_permission", "parse_tables", "revoke_permission"]

_TABLE = re.compile(r"(?:[a-z][a-z0-9_]*\.)?[a-z][a-z0-9_]*")
_COLUMN = re.compile(r"[a-z][a-z0-9_]*")


def parse_tables(specs: list[str]) -> dict[str, list[str]]:
    """``["tpp.apcs=admission_date,primary_diagnosis", ...]`` -> {table: sorted columns}."""
    tables: dict[str, list[str]] = {}
    for spec in specs:
        name, sep, columns = spec.partition("=")
        if not sep:
            raise FieldError("tables", f"{spec!r}: expected TABLE=COLUMN,COLUMN,...")
        tables[name.strip()] = [c.strip() for c in columns.split(",") if c.strip()]
    return tables


def _checked_tables(tables: Mapping[str, list[str]]) -> dict[str, list[str]]:
    if not tables:
        raise FieldError("tables", "name at least one table and its columns")
    checked: dict[str, list[str]] = {}
    for name, columns in tables.items():
        if not isinstance(name, str) or not _TABLE.fullmatch(name):
            raise FieldError("tables", f"{name!r} is not a table name (schema.table or table)")
        if qualified(name) in checked:
            raise FieldError("tables", f"{qualified(name)} is named twice")
        if not columns:
            raise FieldError("tables", f"{name}: name at least one column")
        for column in columns:
            if not isinstance(column, str) or not _COLUMN.fullmatch(column):
                raise FieldError("tables", f"{name}: {column!r} is not a column name")
            if column == "patient_id":
                raise FieldError(
                    "tables", f"{name}: patient_id is never sent (rows are linked by pseudonym)"
                )
        checked[qualified(name)] = sorted(set(columns))
    return checked


def _backend(field: str, name: str) -> Backend:
    try:
        return Backend.objects.get(name=name)
    except Backend.DoesNotExist:
        raise FieldError(field, f"no backend called {name!r}") from None


def create_permission(
    *,
    project: str,
    requester: str,
    provider: str,
    tables: Mapping[str, list[str]],
    finest_dates: str,
    expires_at: datetime.datetime,
    date_range: tuple[datetime.date, datetime.date] | None = None,
    actor: str = "operator",
    now: datetime.datetime | None = None,
) -> LinkagePermission:
    """A permission not yet usable: both controllers must grant it (:func:`grant_permission`)."""
    now = now or timezone.now()
    checked = _checked_tables(tables)
    if finest_dates not in COARSENINGS:
        raise FieldError("finest_dates", f"{finest_dates!r} is not one of {', '.join(COARSENINGS)}")
    if expires_at.tzinfo is None:
        raise FieldError("expires_at", f"{expires_at.isoformat()} needs a time zone (e.g. +00:00)")
    if expires_at <= now:
        raise FieldError("expires_at", f"{expires_at.isoformat()} is not in the future")
    if date_range is not None and date_range[0] > date_range[1]:
        raise FieldError("date_range", f"start {date_range[0]} is after end {date_range[1]}")
    with transaction.atomic():
        try:
            the_project = Project.objects.get(name=project)
        except Project.DoesNotExist:
            raise FieldError("project", f"no project called {project!r}") from None
        a, b = _backend("requester", requester), _backend("provider", provider)
        if a.pk == b.pk:
            raise FieldError("provider", f"{provider!r} cannot link to itself")
        permission = LinkagePermission.objects.create(
            project=the_project,
            requester=a,
            provider=b,
            tables=checked,
            date_start=None if date_range is None else date_range[0],
            date_end=None if date_range is None else date_range[1],
            finest_dates=finest_dates,
            expires_at=expires_at,
            created_by=actor,
            created_at=now,
        )
        audit.record(
            actor,
            "linkage.permission_created",
            f"linkage_permission:{permission.pk}",
            **{k: v for k, v in permission.as_data().items() if k != "grants"},
        )
    return permission


def _locked(permission_id: int) -> LinkagePermission:
    try:
        return LinkagePermission.objects.select_for_update().get(pk=permission_id)
    except LinkagePermission.DoesNotExist:
        raise FieldError("permission", f"no linkage permission {permission_id}") from None


def grant_permission(
    permission_id: int,
    backend: str,
    granted_by: str,
    actor: str = "operator",
    now: datetime.datetime | None = None,
) -> LinkageGrant:
    """Record one data controller's grant, for the backend they control."""
    now = now or timezone.now()
    granted_by = granted_by.strip()
    if not granted_by or len(granted_by) > 200:
        raise FieldError("granted_by", "give the data controller's name (at most 200 characters)")
    with transaction.atomic():
        permission = _locked(permission_id)
        if permission.revoked_at is not None:
            raise CoordinatorError(f"linkage permission {permission_id} was revoked")
        if now >= permission.expires_at:
            raise CoordinatorError(f"linkage permission {permission_id} has expired")
        the_backend = _backend("backend", backend)
        if the_backend.pk not in (permission.requester_id, permission.provider_id):
            raise FieldError(
                "backend",
                f"linkage permission {permission_id} is between {permission.requester.name!r} "
                f"and {permission.provider.name!r}, not {backend!r}",
            )
        if permission.grants.filter(backend=the_backend).exists():
            raise CoordinatorError(
                f"{backend!r}'s data controller has already granted linkage permission "
                f"{permission_id}"
            )
        grant = LinkageGrant.objects.create(
            permission=permission,
            backend=the_backend,
            granted_by=granted_by,
            granted_at=now,
            recorded_by=actor,
        )
        audit.record(
            actor,
            "linkage.granted",
            f"linkage_permission:{permission.pk}",
            backend=backend,
            granted_by=granted_by,
            active=permission.active_at(now),
        )
    return grant


def revoke_permission(
    permission_id: int, reason: str, actor: str = "operator", now: datetime.datetime | None = None
) -> LinkagePermission:
    """Stop a permission covering any new request (requests already checked keep their record)."""
    now = now or timezone.now()
    reason = reason.strip()
    if not reason or len(reason) > 500:
        raise FieldError("reason", "say why the permission is revoked (at most 500 characters)")
    with transaction.atomic():
        permission = _locked(permission_id)
        if permission.revoked_at is not None:
            raise CoordinatorError(f"linkage permission {permission_id} is already revoked")
        permission.revoked_at = now
        permission.revoked_by = actor
        permission.revoke_reason = reason
        permission.save(update_fields=["revoked_at", "revoked_by", "revoke_reason"])
        audit.record(actor, "linkage.revoked", f"linkage_permission:{permission.pk}", reason=reason)
    return permission
