"""The coordinator's linkage gate (issue #15): before a job request is written, every requested
action that declares a ``linkage:`` block in ``project.yaml`` (at the request's commit) is
checked against an active permission with :func:`fedsafe.linkage.permission.check_declaration`,
and must be sent only to the one backend it declares it runs on. One refusal refuses the whole
request, naming the action and every reason; nothing is queued.

The backends check again before anything moves; this gate makes a refusal visible to the
researcher at once and puts the declaration and the permission it was checked against in the
public log.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import yaml

from fedsafe.coordinator.errors import FieldError
from fedsafe.coordinator.gitfiles import read_files_at
from fedsafe.coordinator.models import Backend, LinkagePermission, Workspace
from fedsafe.errors import FedsafeError
from fedsafe.linkage.declaration import LinkageDeclaration
from fedsafe.linkage.errors import LinkageRefused
from fedsafe.linkage.permission import check_declaration
from fedsafe.pipeline.model import PROJECT_FILE, parse_project

__all__ = ["CheckedLinkage", "ProjectReader", "check_linkage", "read_project_file"]

ProjectReader = Callable[[str, str], bytes | None]
"""(repo_url, commit) -> project.yaml's bytes, None when it does not exist there; raises
GitReadError when the repository or commit cannot be read."""


@dataclass(frozen=True)
class CheckedLinkage:
    """One linkage action that passed, and what it passed against (for the public log)."""

    action: str
    runs_on: str
    declaration: LinkageDeclaration
    permission: LinkagePermission
    snapshot: dict[str, Any]


def read_project_file(repo_url: str, commit: str) -> bytes | None:
    return read_files_at(repo_url, commit, [PROJECT_FILE])[PROJECT_FILE]


def _refuse(action: str, field: str, reasons: Iterable[str]) -> FieldError:
    lines = "; ".join(reasons)
    return FieldError("actions", f"action {action!r}, {field}: {lines}")


def _raw_linkage_actions(text: str, actions: list[str]) -> list[str]:
    """Requested actions whose raw YAML has a ``linkage`` key (for an unparseable file)."""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError:
        return []
    found = raw.get("actions") if isinstance(raw, dict) else None
    if not isinstance(found, dict):
        return []
    return [a for a in actions if isinstance(found.get(a), dict) and "linkage" in found[a]]


def check_linkage(
    workspace: Workspace,
    commit: str,
    actions: list[str],
    backends: list[Backend],
    text: str | None,
    now: datetime.datetime,
) -> list[CheckedLinkage]:
    """Check every requested linkage action; raise FieldError naming the action, the field and
    every reason. ``text`` is project.yaml at ``commit`` (None: it could not be read, and no
    linkage can run from a commit its backends cannot read either)."""
    if text is None:
        return []
    try:
        project = parse_project(text)
    except FedsafeError as exc:
        linked = _raw_linkage_actions(text, actions)
        if linked:
            raise _refuse(linked[0], "linkage", [f"project.yaml at {commit[:12]}: {exc}"]) from None
        return []  # no linkage asked for; the agent reports the file's problem as before
    known = set(Backend.objects.values_list("name", flat=True))
    checked = []
    for name in actions:
        action = project.actions.get(name)
        if action is None or action.linkage is None:
            continue
        declaration = action.linkage
        # The model guarantees one backend under ``backends`` for a linkage action.
        runs_on = action.backends[0] if action.backends else ""
        elsewhere = sorted(b.name for b in backends if b.name != runs_on)
        if elsewhere:
            raise _refuse(
                name,
                "backends",
                [
                    f"it links {declaration.backend!r}'s records into jobs on {runs_on!r} only, "
                    f"so it cannot be sent to {', '.join(elsewhere)}; ask for {runs_on!r} alone"
                ],
            )
        checked.append(
            _check_one(workspace, name, runs_on, declaration, known, now),
        )
    return checked


def _check_one(
    workspace: Workspace,
    action: str,
    runs_on: str,
    declaration: LinkageDeclaration,
    known: set[str],
    now: datetime.datetime,
) -> CheckedLinkage:
    candidates = list(
        LinkagePermission.objects.filter(
            project=workspace.project,
            requester__name=runs_on,
            provider__name=declaration.backend,
        )
        .select_related("project", "requester", "provider")
        .order_by("-id")
    )
    live = [p for p in candidates if p.revoked_at is None]
    problems: list[str] = []
    for permission in live:
        value = permission.value()
        try:
            check_declaration(
                declaration,
                value,
                now,
                project=workspace.project.name,
                requester=runs_on,
                known_backends=known,
            )
        except LinkageRefused as exc:
            if not problems:  # report against the newest permission
                problems = [f"permission {permission.pk}: {p}" for p in exc.problems]
            continue
        return CheckedLinkage(action, runs_on, declaration, permission, value.to_public())
    if not live:
        try:
            check_declaration(
                declaration,
                None,
                now,
                project=workspace.project.name,
                requester=runs_on,
                known_backends=known,
            )
        except LinkageRefused as exc:
            problems = list(exc.problems)
        problems += [f"permission {p.pk} was revoked: {p.revoke_reason}" for p in candidates]
    raise _refuse(action, "linkage", problems)
