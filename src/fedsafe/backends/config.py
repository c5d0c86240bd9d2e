"""A backend's configuration file: which engine, how its tables map, what it provides, its policy.

Operators write one TOML file per backend::

    [backend]
    name = "north-omop"
    mapping = "omop"                      # native | omop
    tables = ["patients", "clinical_events", "medications"]

    [engine]
    url = "postgresql://fedsafe:${NORTH_DB_PASSWORD}@db.internal:5432/omop"

    [policy]
    minimum_count = 10                    # small-number suppression threshold
    rounding_base = 5

    [agent]                               # optional: where `fedsafe agent run` keeps things
    work_dir = "agent/work"               # per-job working copies (default shown)
    high_store = "agent/high"             # every output, by workspace
    medium_store = "agent/medium"         # moderately sensitive outputs: the airlock's folder
    state = "agent/state.sqlite3"         # the agent's own record of its jobs

Relative ``[agent]`` paths are read from the configuration file's folder.

Secrets never live in the file: a password is written as ``${ENV_VAR}`` and read from the
environment only when connecting, so the file can be shared, reviewed and committed. Every
mistake is reported with the file and the key, and an unknown key is an error (a misspelt
``minimun_count`` must not silently fall back to a default).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pydantic

from fedsafe.errors import FedsafeError

__all__ = [
    "AgentPaths",
    "BackendConfig",
    "BackendConfigError",
    "EngineConfig",
    "Policy",
    "load_config",
]

MAPPINGS = ("native", "omop")
ENGINE_SCHEMES = ("duckdb", "sqlite", "postgresql", "postgres", "spark")
_ENV_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_SECRET_WORDS = ("password", "passwd", "secret", "token", "key", "credential")


class BackendConfigError(FedsafeError):
    """A backend configuration file is missing, malformed, or holds a secret."""


@dataclass(frozen=True)
class EngineConfig:
    """Where the data is. ``url`` may hold ``${VAR}`` references, expanded only at connect time.

    For Spark, ``parquet`` is a folder (or a cluster URI such as ``hdfs://...``) holding one
    Parquet dataset per physical table, and ``spark_conf`` passes settings to the session.
    """

    url: str
    parquet: str | None = None
    spark_conf: tuple[tuple[str, str], ...] = ()

    @property
    def scheme(self) -> str:
        return self.url.partition("://")[0].lower()


@dataclass(frozen=True)
class Policy:
    """Disclosure thresholds later stages apply to outputs leaving this backend."""

    minimum_count: int = 10
    rounding_base: int = 5


@dataclass(frozen=True)
class AgentPaths:
    """Where a backend's agent keeps its working copies, its two output stores and its state.

    The medium-privacy store is laid out as the airlock's backend folder expects
    (``workspaces/NAME/...`` with ``metadata/manifest.json``), so ``fedsafe airlock serve
    --backend-dir MEDIUM_STORE`` reviews what the agent wrote there.
    """

    work_dir: Path
    high_store: Path
    medium_store: Path
    state: Path


AGENT_DEFAULTS = {
    "work_dir": "agent/work",
    "high_store": "agent/high",
    "medium_store": "agent/medium",
    "state": "agent/state.sqlite3",
}


def _agent_paths(folder: Path, given: dict[str, str], source: Path | None = None) -> AgentPaths:
    values = {**AGENT_DEFAULTS, **given}
    paths = {k: (folder / v).absolute() for k, v in values.items()}
    # Outputs of different privacy must never share a folder: the airlock reads the medium
    # store whole, so the high store (or the working copies) inside it would expose them.
    folders = ("work_dir", "high_store", "medium_store")
    for i, first in enumerate(folders):
        for second in folders[i + 1 :]:
            a, b = paths[first], paths[second]
            if a == b or a.is_relative_to(b) or b.is_relative_to(a):
                raise BackendConfigError(
                    f"{source or folder}: agent.{first} and agent.{second} overlap "
                    f"({a} and {b}); give each its own folder"
                )
    return AgentPaths(**paths)


@dataclass(frozen=True)
class BackendConfig:
    name: str
    mapping: str
    tables: tuple[str, ...]
    engine: EngineConfig
    policy: Policy
    table_names: tuple[tuple[str, str], ...] = field(default=())
    path: Path | None = None
    agent: AgentPaths = field(default_factory=lambda: _agent_paths(Path.cwd(), {}))

    def physical_name(self, logical: str) -> str:
        """The database's name for a logical table (native mapping; default: the same)."""
        return dict(self.table_names).get(logical, logical)


# --- the file's shape, checked by pydantic ---------------------------------------------------


class _Strict(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid", strict=True, frozen=True)


class _Backend(_Strict):
    name: str = pydantic.Field(min_length=1)
    mapping: Literal["native", "omop"]
    tables: list[str] = pydantic.Field(min_length=1)


class _Engine(_Strict):
    url: str = pydantic.Field(min_length=1)
    parquet: str | None = None
    spark_conf: dict[str, str] = pydantic.Field(default_factory=dict)


class _Policy(_Strict):
    minimum_count: int = pydantic.Field(default=10, ge=1)
    rounding_base: int = pydantic.Field(default=5, ge=1)


class _Agent(_Strict):
    work_dir: str | None = pydantic.Field(default=None, min_length=1)
    high_store: str | None = pydantic.Field(default=None, min_length=1)
    medium_store: str | None = pydantic.Field(default=None, min_length=1)
    state: str | None = pydantic.Field(default=None, min_length=1)


class _File(_Strict):
    backend: _Backend
    engine: _Engine
    policy: _Policy = pydantic.Field(default_factory=_Policy)
    agent: _Agent = pydantic.Field(default_factory=_Agent)
    tables: dict[str, str] = pydantic.Field(default_factory=dict)


def load_config(path: Path | str) -> BackendConfig:
    """Read and check a backend configuration file; raise BackendConfigError naming the key."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BackendConfigError(f"backend configuration {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise BackendConfigError(f"cannot read backend configuration {path}: {exc}") from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise BackendConfigError(f"{path} is not valid TOML: {exc}") from None
    _refuse_secrets(path, raw)
    try:
        parsed = _File.model_validate(raw)
    except pydantic.ValidationError as exc:
        raise BackendConfigError(_describe(path, exc)) from None
    return _build(path, parsed)


def _build(path: Path, parsed: _File) -> BackendConfig:
    from fedsafe.tables import core

    known = set(core.__all__)
    for i, table in enumerate(parsed.backend.tables):
        if table not in known:
            raise BackendConfigError(
                f"{path}: backend.tables[{i}] = {table!r} is not a core table: expected one of "
                + ", ".join(sorted(known))
            )
    for logical in parsed.tables:
        if logical not in parsed.backend.tables:
            raise BackendConfigError(
                f"{path}: [tables] renames {logical!r}, which backend.tables does not provide"
            )
    if parsed.tables and parsed.backend.mapping != "native":
        raise BackendConfigError(
            f"{path}: [tables] renames tables for the native mapping only; "
            f"the {parsed.backend.mapping} mapping uses its standard table names"
        )
    scheme = parsed.engine.url.partition("://")[0].lower()
    if "://" not in parsed.engine.url or scheme not in ENGINE_SCHEMES:
        raise BackendConfigError(
            f"{path}: engine.url {redact(parsed.engine.url)!r} is not a supported engine URL: "
            "expected duckdb:///file, sqlite:///file, postgresql://user@host:port/db or "
            "spark://local[N] (or spark://HOST:PORT for a cluster)"
        )
    if (parsed.engine.parquet is not None or parsed.engine.spark_conf) and scheme != "spark":
        raise BackendConfigError(
            f"{path}: engine.parquet and engine.spark_conf apply to Spark only, not to {scheme}"
        )
    return BackendConfig(
        name=parsed.backend.name,
        mapping=parsed.backend.mapping,
        tables=tuple(parsed.backend.tables),
        engine=EngineConfig(
            url=parsed.engine.url,
            parquet=parsed.engine.parquet,
            spark_conf=tuple(sorted(parsed.engine.spark_conf.items())),
        ),
        policy=Policy(parsed.policy.minimum_count, parsed.policy.rounding_base),
        table_names=tuple(sorted(parsed.tables.items())),
        path=path,
        agent=_agent_paths(
            path.parent,
            {k: v for k, v in parsed.agent.model_dump().items() if v is not None},
            path,
        ),
    )


def _refuse_secrets(path: Path, raw: dict[str, Any], prefix: str = "") -> None:
    """A password written into the file is refused before anything else is checked."""
    for key, value in raw.items():
        where = f"{prefix}{key}"
        if isinstance(value, dict):
            _refuse_secrets(path, value, f"{where}.")
            continue
        if any(word in key.lower() for word in _SECRET_WORDS) and key != "rounding_base":
            raise BackendConfigError(
                f"{path}: {where} looks like a secret; secrets must not be stored in the "
                "configuration: put it in an environment variable and write ${VAR} in "
                "engine.url (e.g. postgresql://user:${DB_PASSWORD}@host/db)"
            )
        if key == "url" and isinstance(value, str):
            password = _url_password(value)
            if password is not None and not _ENV_REFERENCE.fullmatch(password):
                raise BackendConfigError(
                    f"{path}: {where} contains a password; secrets must not be stored in the "
                    "configuration: write ${VAR} in its place (e.g. "
                    "postgresql://user:${DB_PASSWORD}@host/db) and set the environment variable"
                )


def _url_password(url: str) -> str | None:
    _, separator, rest = url.partition("://")
    if not separator:
        return None
    authority = rest.partition("/")[0]
    if "@" not in authority:
        return None
    credentials = authority.rpartition("@")[0]
    _user, colon, password = credentials.partition(":")
    return password if colon else None


def _describe(path: Path, exc: pydantic.ValidationError) -> str:
    lines = []
    for error in exc.errors():
        where = ".".join(str(part) for part in error["loc"]) or "(top level)"
        if error["type"] == "missing":
            lines.append(f"{where} is missing")
        elif error["type"] == "extra_forbidden":
            lines.append(f"{where} is not a known key")
        else:
            lines.append(f"{where}: {error['msg']} (got {error.get('input')!r})")
    return f"{path}: invalid backend configuration:\n  - " + "\n  - ".join(lines)


def expand_env(text: str, environ: dict[str, str], *, what: str) -> str:
    """Replace ``${VAR}`` with its value; a missing variable is an error naming it."""

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in environ:
            raise BackendConfigError(
                f"{what} refers to the environment variable {name}, which is not set"
            )
        return environ[name]

    return _ENV_REFERENCE.sub(value, text)


def redact(url: str) -> str:
    """A URL fit for messages and logs: any password replaced by ***."""
    password = _url_password(url)
    if password is None:
        return url
    scheme, _, rest = url.partition("://")
    authority, slash, tail = rest.partition("/")
    credentials, _, host = authority.rpartition("@")
    user = credentials.partition(":")[0]
    return f"{scheme}://{user}:***@{host}{slash}{tail}"
