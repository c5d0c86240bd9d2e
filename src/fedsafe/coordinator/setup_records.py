"""Creating projects, workspaces and backends: each change and its audit record in one
transaction, after every field has been checked."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone

from fedsafe.coordinator import audit
from fedsafe.coordinator.errors import CoordinatorError, FieldError
from fedsafe.coordinator.models import Backend, BackendToken, Project, Workspace
from fedsafe.coordinator.tokens import hash_token, new_token
from fedsafe.coordinator.validation import check_branch, check_name, check_repo_url, check_tables

__all__ = [
    "NewBackend",
    "add_backend",
    "create_project",
    "create_workspace",
    "revoke_backend_tokens",
    "set_provides",
]


def _actor(user: AbstractBaseUser) -> str:
    return f"user:{user.get_username()}"


def create_project(user: AbstractBaseUser, name: str) -> Project:
    name = check_name("name", name)
    with transaction.atomic():
        if Project.objects.filter(name=name).exists():
            raise FieldError("name", f"a project called {name!r} already exists")
        project = Project.objects.create(name=name, created_by=user, created_at=timezone.now())
        audit.record(_actor(user), "project.created", f"project:{project.pk}", name=name)
    return project


def create_workspace(
    user: AbstractBaseUser, project: Project, name: str, repo_url: str, branch: str
) -> Workspace:
    name = check_name("name", name)
    repo_url = check_repo_url(repo_url)
    branch = check_branch(branch)
    with transaction.atomic():
        if Workspace.objects.filter(name=name).exists():
            raise FieldError("name", f"a workspace called {name!r} already exists")
        workspace = Workspace.objects.create(
            project=project,
            name=name,
            repo_url=repo_url,
            branch=branch,
            created_by=user,
            created_at=timezone.now(),
        )
        audit.record(
            _actor(user),
            "workspace.created",
            f"workspace:{workspace.pk}",
            name=name,
            project=project.name,
            repo_url=repo_url,
            branch=branch,
        )
    return workspace


@dataclass(frozen=True)
class NewBackend:
    backend: Backend
    token: str  # shown once to the operator, never stored


def add_backend(name: str, provides: list[str] | str, actor: str = "operator") -> NewBackend:
    name = check_name("name", name)
    tables = check_tables(provides, field="provides")
    token = new_token()
    try:
        with transaction.atomic():
            now = timezone.now()
            backend = Backend.objects.create(name=name, provides=tables, created_at=now)
            BackendToken.objects.create(
                backend=backend, token_hash=hash_token(token), prefix=token[:8], created_at=now
            )
            audit.record(
                actor, "backend.added", f"backend:{backend.pk}", name=name, provides=tables
            )
    except IntegrityError:
        raise FieldError("name", f"a backend called {name!r} already exists") from None
    return NewBackend(backend, token)


def new_backend_token(name: str, actor: str = "operator") -> str:
    """Issue another token (e.g. to replace a revoked one); shown once."""
    token = new_token()
    with transaction.atomic():
        backend = _backend(name)
        BackendToken.objects.create(
            backend=backend,
            token_hash=hash_token(token),
            prefix=token[:8],
            created_at=timezone.now(),
        )
        audit.record(actor, "backend.token_issued", f"backend:{backend.pk}", prefix=token[:8])
    return token


def revoke_backend_tokens(name: str, actor: str = "operator", now: datetime | None = None) -> int:
    """Revoke every live token of a backend; its agent can do nothing until given a new one."""
    now = now or timezone.now()
    with transaction.atomic():
        backend = _backend(name)
        live = list(backend.tokens.filter(revoked_at__isnull=True))
        for token in live:
            token.revoked_at = now
            token.save(update_fields=["revoked_at"])
            audit.record(
                actor, "backend.token_revoked", f"backend:{backend.pk}", prefix=token.prefix
            )
    return len(live)


def set_provides(backend: Backend, tables: list[str], actor: str) -> Backend:
    checked = check_tables(tables, field="tables")
    with transaction.atomic():
        before = list(backend.provides)
        if before != checked:
            backend.provides = checked
            backend.save(update_fields=["provides"])
            audit.record(
                actor, "backend.provides", f"backend:{backend.pk}", before=before, after=checked
            )
    return backend


def _backend(name: str) -> Backend:
    try:
        return Backend.objects.get(name=name)
    except Backend.DoesNotExist:
        raise CoordinatorError(f"no backend called {name!r}") from None
