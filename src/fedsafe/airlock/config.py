"""The backend's airlock configuration: ``DIR/airlock/config.toml``.

People, their roles and the workspaces they may see, upload settings and limits live in one
file the backend operator writes. Every problem names the key it is about, and the file is read
whole before anything starts, so a bad config never half-applies.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fedsafe.airlock.errors import AirlockConfigError
from fedsafe.disclosure import DisclosurePolicy, PolicyError

__all__ = [
    "AirlockConfig",
    "User",
    "airlock_dir",
    "check_password",
    "hash_password",
    "load_config",
]

ROLES = frozenset({"researcher", "output_checker"})
DEFAULT_SUFFIXES = (".csv", ".txt", ".log", ".md", ".json", ".png", ".jpg", ".svg", ".html")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_SCRYPT = {"n": 2**14, "r": 8, "p": 1}


def hash_password(password: str) -> str:
    """A salted scrypt hash, so the config file never holds a password in the clear."""
    salt = secrets.token_hex(16)
    digest = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt), **_SCRYPT).hex()
    return f"scrypt${salt}${digest}"


def check_password(password: str, stored: str) -> bool:
    try:
        scheme, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        got = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt), **_SCRYPT).hex()
    except ValueError:
        return False
    return hmac.compare_digest(got, digest)


@dataclass(frozen=True)
class User:
    name: str
    password_hash: str
    roles: frozenset[str]
    workspaces: frozenset[str]

    @property
    def is_checker(self) -> bool:
        return "output_checker" in self.roles

    def can_access(self, workspace: str) -> bool:
        return workspace in self.workspaces


@dataclass(frozen=True)
class AirlockConfig:
    backend_dir: Path
    backend: str
    users: Mapping[str, User]
    policy: DisclosurePolicy = field(default_factory=DisclosurePolicy)
    max_file_bytes: int = 10_000_000
    allowed_suffixes: tuple[str, ...] = DEFAULT_SUFFIXES
    auto_release: bool = False
    coordinator_url: str | None = None
    coordinator_token: str | None = None
    upload_attempts: int = 5

    @property
    def directory(self) -> Path:
        return airlock_dir(self.backend_dir)

    @property
    def workspaces_dir(self) -> Path:
        return self.backend_dir / "workspaces"


def airlock_dir(backend_dir: Path) -> Path:
    return Path(backend_dir) / "airlock"


def load_config(backend_dir: Path) -> AirlockConfig:
    """Read and check ``DIR/airlock/config.toml``."""
    backend_dir = Path(backend_dir).resolve()
    path = airlock_dir(backend_dir) / "config.toml"
    if not (backend_dir / "workspaces").is_dir():
        raise AirlockConfigError(
            f"{backend_dir / 'workspaces'} is not a folder", field="--backend-dir"
        )
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise AirlockConfigError(f"{path} not found", field="config") from None
    except tomllib.TOMLDecodeError as exc:
        raise AirlockConfigError(f"{path}: not valid TOML ({exc})", field="config") from None
    return parse_config(data, backend_dir, path)


def _get(table: Mapping[str, Any], key: str, kind: type, where: str, default: Any) -> Any:
    value = table.get(key, default)
    if value is not default and (
        not isinstance(value, kind) or isinstance(value, bool) != (kind is bool)
    ):
        raise AirlockConfigError(f"expected {kind.__name__}, got {value!r}", field=f"{where}.{key}")
    return value


def parse_config(data: Mapping[str, Any], backend_dir: Path, path: Path) -> AirlockConfig:
    known = {"airlock", "users", "disclosure"}
    for key in data:
        if key not in known:
            raise AirlockConfigError(f"unknown table; known: {sorted(known)}", field=str(key))
    section = data.get("airlock", {})
    unknown = set(section) - {
        "backend",
        "max_file_bytes",
        "allowed_suffixes",
        "auto_release",
        "coordinator_url",
        "coordinator_token_file",
        "upload_attempts",
    }
    if unknown:
        raise AirlockConfigError("unknown setting", field=f"airlock.{sorted(unknown)[0]}")
    backend = _get(section, "backend", str, "airlock", "backend")
    max_bytes = _get(section, "max_file_bytes", int, "airlock", 10_000_000)
    if max_bytes <= 0:
        raise AirlockConfigError("must be positive", field="airlock.max_file_bytes")
    attempts = _get(section, "upload_attempts", int, "airlock", 5)
    if attempts <= 0:
        raise AirlockConfigError("must be positive", field="airlock.upload_attempts")
    suffixes = _get(section, "allowed_suffixes", list, "airlock", list(DEFAULT_SUFFIXES))
    if not all(isinstance(s, str) and s.startswith(".") for s in suffixes):
        raise AirlockConfigError(
            "each must be a suffix such as '.csv'", field="airlock.allowed_suffixes"
        )
    auto = _get(section, "auto_release", bool, "airlock", False)
    url = _get(section, "coordinator_url", str, "airlock", None)
    if url is not None and not url.startswith(("http://", "https://")):
        raise AirlockConfigError(
            "must start with http:// or https://", field="airlock.coordinator_url"
        )
    token = None
    token_file = _get(section, "coordinator_token_file", str, "airlock", None)
    if token_file is not None:
        token_path = path.parent / token_file
        if not token_path.is_file():
            raise AirlockConfigError(
                f"{token_path} not found", field="airlock.coordinator_token_file"
            )
        token = token_path.read_text(encoding="utf-8").strip()
    users: dict[str, User] = {}
    for name, entry in data.get("users", {}).items():
        where = f"users.{name}"
        if not _NAME.match(name) or not isinstance(entry, Mapping):
            raise AirlockConfigError("a user is a table named with letters/digits", field=where)
        password_hash = _get(entry, "password_hash", str, where, None)
        if password_hash is None or not password_hash.startswith("scrypt$"):
            raise AirlockConfigError(
                "required: a hash from `fedsafe airlock hash-password`",
                field=f"{where}.password_hash",
            )
        roles = frozenset(_get(entry, "roles", list, where, []))
        if not roles or not roles <= ROLES:
            raise AirlockConfigError(
                f"each role must be one of {sorted(ROLES)}", field=f"{where}.roles"
            )
        workspaces = _get(entry, "workspaces", list, where, [])
        for workspace in workspaces:
            if not isinstance(workspace, str) or not _NAME.match(workspace):
                raise AirlockConfigError(
                    f"not a workspace name: {workspace!r}", field=f"{where}.workspaces"
                )
        users[name] = User(name, password_hash, roles, frozenset(workspaces))
    try:
        policy = DisclosurePolicy.from_mapping(data.get("disclosure", {}), source="[disclosure]")
    except PolicyError as exc:
        raise AirlockConfigError(str(exc), field="disclosure") from None
    return AirlockConfig(
        backend_dir=backend_dir,
        backend=backend,
        users=users,
        policy=policy,
        max_file_bytes=max_bytes,
        allowed_suffixes=tuple(s.lower() for s in suffixes),
        auto_release=auto,
        coordinator_url=url.rstrip("/") if url else None,
        coordinator_token=token,
        upload_attempts=attempts,
    )
