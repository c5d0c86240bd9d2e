"""A backend's configuration file: which engine, how its tables map, what it provides, its policy.

Operators write one TOML file per backend::

    [backend]
    name = "north-omop"
    mapping = "omop"                      # native | omop
    tables = ["patients", "clinical_events", "medications"]

    [engine]
    url = "postgresql://fedsafe:${NORTH_DB_PASSWORD}@db.internal:5432/omop"

    [policy]                              # a fedsafe.disclosure.DisclosurePolicy
    minimum_count = 10                    # smallest count shown (suppress_at_or_below = 9)
    rounding_base = 5                     # any other DisclosurePolicy setting may follow

    [permissions.projects]                # restricted tables each project may read here
    "covid-vaccine-study" = ["sgss_covid_all_tests"]

    [limits]                              # optional: what one action may use (see
    cpu_seconds = 3600                    # fedsafe.executors.limits for every key
    memory_bytes = 8589934592             # and its default)
    wall_seconds = 7200

    [cohort]                              # optional: cohort discovery's count policy
    threshold = 10                        # counts below this are answered as 0
    rounding_base = 10                    # the rest rounded to the nearest multiple, halves up
    auto_release = true                   # answers leave without a person looking

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

import dataclasses
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pydantic

from fedsafe.disclosure.errors import PolicyError
from fedsafe.disclosure.policy import DisclosurePolicy
from fedsafe.errors import FedsafeError
from fedsafe.executors.limits import ResourceLimits

__all__ = [
    "AgentPaths",
    "BackendConfig",
    "BackendConfigError",
    "CohortSettings",
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


Policy = DisclosurePolicy
"""A backend's ``[policy]`` is a :class:`~fedsafe.disclosure.DisclosurePolicy` (the one
definition of the disclosure settings and their checks); this name is kept for importers."""

BACKEND_MINIMUM_COUNT = 10
"""The smallest count a backend shows when its ``[policy]`` sets neither ``minimum_count`` nor
``suppress_at_or_below``: backend files have always defaulted to 10, stricter than the library's
own default, and a file that relied on it must not quietly get weaker."""


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
class CohortSettings:
    """``[cohort]``: how this backend makes cohort counts safe (``fedsafe.cohort.policy``)."""

    threshold: int = 10
    rounding_base: int = 10
    auto_release: bool = True


@dataclass(frozen=True)
class BackendConfig:
    name: str
    mapping: str
    tables: tuple[str, ...]
    engine: EngineConfig
    policy: DisclosurePolicy
    table_names: tuple[tuple[str, str], ...] = field(default=())
    path: Path | None = None
    limits: ResourceLimits = field(default_factory=ResourceLimits)
    # project -> the permissions it is granted on this backend ([permissions] projects)
    grants: tuple[tuple[str, tuple[str, ...]], ...] = field(default=())

    def granted_to(self, project: str | None) -> frozenset[str]:
        """The permissions ``project`` holds here (none for an unnamed or unlisted project)."""
        return frozenset(dict(self.grants).get(project, ())) if project else frozenset()

    agent: AgentPaths = field(default_factory=lambda: _agent_paths(Path.cwd(), {}))

    cohort: CohortSettings = field(default_factory=CohortSettings)

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


class _Permissions(_Strict):
    projects: dict[str, list[str]] = pydantic.Field(default_factory=dict)


_DEFAULT_LIMITS = ResourceLimits()


class _Limits(_Strict):
    cpu_seconds: int = pydantic.Field(default=_DEFAULT_LIMITS.cpu_seconds, ge=1)
    memory_bytes: int = pydantic.Field(default=_DEFAULT_LIMITS.memory_bytes, ge=1)
    output_file_bytes: int = pydantic.Field(default=_DEFAULT_LIMITS.output_file_bytes, ge=1)
    output_total_bytes: int = pydantic.Field(default=_DEFAULT_LIMITS.output_total_bytes, ge=1)
    output_files: int = pydantic.Field(default=_DEFAULT_LIMITS.output_files, ge=1)
    wall_seconds: int = pydantic.Field(default=_DEFAULT_LIMITS.wall_seconds, ge=1)


class _Agent(_Strict):
    work_dir: str | None = pydantic.Field(default=None, min_length=1)
    high_store: str | None = pydantic.Field(default=None, min_length=1)
    medium_store: str | None = pydantic.Field(default=None, min_length=1)
    state: str | None = pydantic.Field(default=None, min_length=1)


class _Cohort(_Strict):
    threshold: int = pydantic.Field(default=10, ge=1)
    rounding_base: int = pydantic.Field(default=10, ge=1)
    auto_release: bool = True


class _File(_Strict):
    backend: _Backend
    engine: _Engine
    policy: dict[str, Any] = pydantic.Field(default_factory=dict)
    permissions: _Permissions = pydantic.Field(default_factory=_Permissions)
    limits: _Limits = pydantic.Field(default_factory=_Limits)
    agent: _Agent = pydantic.Field(default_factory=_Agent)
    cohort: _Cohort = pydantic.Field(default_factory=_Cohort)
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
    from fedsafe.backends.mappings.native import providable_tables

    known = providable_tables(parsed.backend.mapping)
    for i, table in enumerate(parsed.backend.tables):
        if table not in known:
            raise BackendConfigError(
                f"{path}: backend.tables[{i}] = {table!r} is not a table the "
                f"{parsed.backend.mapping} mapping can provide: expected one of "
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
    limits = parsed.limits
    if limits.output_file_bytes > limits.output_total_bytes:
        raise BackendConfigError(
            f"{path}: limits.output_file_bytes ({limits.output_file_bytes}) is larger than "
            f"limits.output_total_bytes ({limits.output_total_bytes}): one file cannot be "
            "allowed more than all files together"
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
        policy=policy_from_table(path, parsed.policy),
        table_names=tuple(sorted(parsed.tables.items())),
        path=path,
        limits=ResourceLimits(**limits.model_dump()),
        grants=_grants(path, parsed.permissions),
        agent=_agent_paths(
            path.parent,
            {k: v for k, v in parsed.agent.model_dump().items() if v is not None},
            path,
        ),
        cohort=CohortSettings(**parsed.cohort.model_dump()),
    )


def _grants(path: Path, parsed: _Permissions) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """``[permissions] projects``, each permission checked against the known ones."""
    from fedsafe.permissions import UnknownPermissionError, check_permission_names

    grants = []
    for project, names in sorted(parsed.projects.items()):
        if not project.strip():
            raise BackendConfigError(f"{path}: permissions.projects has an empty project name")
        try:
            grants.append((project, check_permission_names(names)))
        except UnknownPermissionError as exc:
            raise BackendConfigError(f"{path}: permissions.projects.{project}: {exc}") from None
    return tuple(grants)


def policy_from_table(path: Path | str, table: dict[str, Any]) -> DisclosurePolicy:
    """The ``[policy]`` table as a DisclosurePolicy; every mistake names ``policy.KEY``.

    The file takes every DisclosurePolicy setting by its own name, plus the older
    ``minimum_count`` (the smallest count shown: ``suppress_at_or_below = minimum_count - 1``)
    and ``rounding_base = 1`` meaning no rounding, so files written before keep their meaning.
    """

    def problem(text: str) -> BackendConfigError:
        return BackendConfigError(f"{path}: invalid backend configuration:\n  - {text}")

    settings = dict(table)
    known = {f.name for f in dataclasses.fields(DisclosurePolicy)} | {"minimum_count"}
    for key in sorted(settings):
        if key not in known:
            names = ", ".join(sorted(known))
            raise problem(f"policy.{key} is not a known key (known: {names})")
    if "minimum_count" in settings:
        minimum = settings.pop("minimum_count")
        if "suppress_at_or_below" in settings:
            raise problem(
                "policy.minimum_count and policy.suppress_at_or_below say the same thing "
                "(suppress_at_or_below = minimum_count - 1): give one"
            )
        if isinstance(minimum, bool) or not isinstance(minimum, int) or minimum < 1:
            raise problem(f"policy.minimum_count must be a whole number >= 1, got {minimum!r}")
        settings["suppress_at_or_below"] = minimum - 1
    settings.setdefault("suppress_at_or_below", BACKEND_MINIMUM_COUNT - 1)
    if settings.get("rounding_base") == 1 and "rounding" not in settings:
        del settings["rounding_base"]  # a multiple of 1 never rounded anything
        settings["rounding"] = "none"
    try:
        return DisclosurePolicy(**settings)
    except PolicyError as exc:
        raise problem("policy." + str(exc).removeprefix("disclosure policy: ")) from None


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
