"""Checks on what people type, each raising ``FieldError`` naming the field and saying why.

Kept free of Django so the same rules serve the web forms, the CLI and the tests.
"""

from __future__ import annotations

import re
from datetime import datetime
from urllib.parse import urlsplit

from croniter import croniter

from fedsafe.coordinator.errors import FieldError

__all__ = [
    "check_actions",
    "check_backend_choice",
    "check_branch",
    "check_commit",
    "check_cron",
    "check_name",
    "check_reason",
    "check_repo_url",
    "check_tables",
]

_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,49}$")
_ACTION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
_TABLE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_COMMIT = re.compile(r"^[0-9a-f]{40}$")
_SCP_LIKE = re.compile(r"^[A-Za-z0-9_.-]+@[A-Za-z0-9.-]+:[A-Za-z0-9_./~-]+$")


def check_name(field: str, value: str) -> str:
    value = value.strip()
    if not _NAME.match(value):
        raise FieldError(
            field,
            f"{value!r} is not a valid name: use 1 to 50 lower-case letters, digits, '-' or '_', "
            "starting with a letter or digit",
        )
    return value


def check_repo_url(value: str) -> str:
    """https://, ssh:// and user@host:path URLs, or file:// for local bare repositories.

    Not ``ext::`` or other git transports that run commands, and nothing with spaces or
    credentials in it (a URL is shown in the public log).
    """
    value = value.strip()
    field = "repo_url"
    if not value or len(value) > 500 or any(c.isspace() or ord(c) < 32 for c in value):
        raise FieldError(field, "give a git repository URL without spaces (at most 500 chars)")
    if _SCP_LIKE.match(value):
        return value
    parts = urlsplit(value)
    if parts.scheme not in {"https", "ssh", "file"}:
        raise FieldError(
            field,
            f"{value!r} is not an https://, ssh://, user@host:path or file:// git URL",
        )
    if parts.scheme == "file":
        if parts.netloc or not parts.path.startswith("/"):
            raise FieldError(field, f"{value!r}: write file URLs as file:///absolute/path")
    elif not parts.hostname:
        raise FieldError(field, f"{value!r} names no host")
    if parts.password is not None or (parts.scheme == "https" and parts.username):
        raise FieldError(field, "a repository URL must not contain credentials")
    return value


def check_branch(value: str) -> str:
    """A branch name git itself would accept (the rules of ``git check-ref-format``)."""
    value = value.strip()
    bad = (
        not value
        or len(value) > 200
        or value.startswith(("-", "/"))
        or value.endswith(("/", ".", ".lock"))
        or ".." in value
        or "//" in value
        or "@{" in value
        or value == "@"
        or any(c in value for c in " ~^:?*[\\")
        or any(ord(c) < 32 or ord(c) == 127 for c in value)
        or any(part.startswith(".") for part in value.split("/"))
    )
    if bad:
        raise FieldError("branch", f"{value!r} is not a valid git branch name")
    return value


def check_commit(value: str) -> str:
    value = value.strip().lower()
    if not _COMMIT.match(value):
        raise FieldError("commit", f"{value!r} is not a full 40-character commit hash")
    return value


def _split(value: str | list[str]) -> list[str]:
    items = value if isinstance(value, list) else re.split(r"[\s,]+", value)
    return [i.strip() for i in items if i.strip()]


def check_actions(value: str | list[str]) -> list[str]:
    actions = _split(value)
    if not actions:
        raise FieldError("actions", "name at least one action")
    if len(actions) > 50:
        raise FieldError("actions", "at most 50 actions per request")
    for action in actions:
        if not _ACTION.match(action):
            raise FieldError("actions", f"{action!r} is not a valid action name")
    if len(set(actions)) != len(actions):
        raise FieldError("actions", "an action is named more than once")
    return actions


def check_tables(value: str | list[str], field: str = "needed_tables") -> list[str]:
    tables = _split(value)
    for table in tables:
        if not _TABLE.match(table):
            raise FieldError(field, f"{table!r} is not a valid table name")
    if len(tables) > 200:
        raise FieldError(field, "at most 200 tables")
    return sorted(set(tables))


def check_backend_choice(value: str | list[str]) -> str | list[str]:
    """``"all"`` or a list of backend names (checked against the database elsewhere)."""
    if value == "all" or value == ["all"]:
        return "all"
    names = [check_name("backends", n) for n in _split(value)]
    if not names:
        raise FieldError("backends", "choose at least one backend, or all")
    if len(set(names)) != len(names):
        raise FieldError("backends", "a backend is named more than once")
    return names


def check_reason(value: str) -> str:
    value = " ".join(value.split())
    if len(value) < 3:
        raise FieldError("reason", "say why this should run (it is shown in the public log)")
    if len(value) > 500:
        raise FieldError("reason", "at most 500 characters")
    return value


def check_cron(value: str, now: datetime) -> str:
    value = " ".join(value.split())
    if len(value.split()) != 5 or not croniter.is_valid(value):
        raise FieldError(
            "cron", f"{value!r} is not a cron expression of five fields (min hour day month dow)"
        )
    croniter(value, now).get_next(datetime)  # some valid-looking ones never fire
    return value
