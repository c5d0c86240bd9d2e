"""``fedsafe run``: running a project's actions in order on this machine.

For each action, in dependency order: work out its fingerprint (runtime, command, config,
the project's code, the exact bytes of its inputs); skip it if it last succeeded with the same
fingerprint and its outputs are intact; otherwise run it with the local executor, write its
log under ``metadata/`` and record its outputs in ``metadata/manifest.json``. A failure stops
the run, or with ``continue_on_error`` only the actions that depend on the failed one.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from fedsafe.errors import FedsafeError
from fedsafe.executors.limits import ResourceLimits
from fedsafe.executors.local import ActionJob, run_action
from fedsafe.executors.runtimes.resolve import runtime_id
from fedsafe.pipeline.errors import ProjectError
from fedsafe.pipeline.graph import execution_order
from fedsafe.pipeline.manifest import Manifest, as_json, sha256_file
from fedsafe.pipeline.model import PROJECT_FILE, Action, Project, load_project
from fedsafe.pipeline.patterns import matches

__all__ = [
    "DataSource",
    "NeedsNotRun",
    "Outcome",
    "Reporter",
    "RunSummary",
    "code_files",
    "run_one_action",
    "run_project",
]

# Settings (never secrets) passed from fedsafe's environment to every action, by name: the
# disclosure policy the safe output helpers apply (a JSON object, see fedsafe.disclosure).
PASSED_SETTINGS = ("FEDSAFE_DISCLOSURE_POLICY",)

# Folders that are never part of an action's code: fedsafe's own records, version control and
# local environments.
_SKIPPED_DIRS = {"metadata", ".git", ".venv", "venv", "__pycache__", "node_modules"}


@dataclass(frozen=True)
class Outcome:
    """How one action went in this run."""

    name: str
    status: str  # "succeeded", "skipped", "failed" or "not run"
    log_path: str | None = None
    seconds: float = 0.0
    message: str | None = None
    outputs: int = 0
    warnings: tuple[str, ...] = ()
    exit_code: int | None = None  # the action's process's, when it ran


@dataclass(frozen=True)
class DataSource:
    """A backend's real database, handed to dataset actions and to no other action.

    ``config`` is the backend's TOML file, given to ``generate-dataset`` as ``--backend`` in
    place of any dummy-data option; ``env`` holds the variables its engine URL refers to
    (``${DB_PASSWORD}``), handed to the executor as the job's ``dataset_env``, which it sets
    for fedsafe's own runtime only. Analysis actions never see either: their environment is
    built from an allow-list and they read only their own scratch folder. ``limits`` are the
    backend's ``[limits]``, applied to every action it runs, dataset or analysis.
    """

    config: Path
    env: tuple[tuple[str, str], ...] = ()
    limits: ResourceLimits = field(default_factory=ResourceLimits)


# generate-dataset options naming where data comes from; on a backend its database is the only
# source, so these are dropped (as OpenSAFELY ignores dummy data in production).
_SOURCE_OPTIONS = ("--dsn", "--dummy-tables", "--dummy-data-file", "--dummy-profile")


def _on_backend(args: tuple[str, ...], config: Path) -> tuple[str, ...]:
    """``generate-dataset`` args with the data-source options replaced by ``--backend``."""
    if "--" in args:
        split = args.index("--")
        own, user = args[:split], args[split:]
    else:
        own, user = args, ()
    kept: list[str] = []
    skip = False
    for arg in own:
        if skip:
            skip = False
            continue
        if arg in _SOURCE_OPTIONS:
            skip = True
            continue
        if any(arg.startswith(o + "=") for o in _SOURCE_OPTIONS) or arg == "--backend":
            continue
        kept.append(arg)
    return (*kept, "--backend", str(config), *user)


@dataclass
class RunSummary:
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def failed(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.status == "failed"]


class Reporter(Protocol):
    def starting(self, name: str) -> None: ...

    def finished(self, outcome: Outcome) -> None: ...


class _Silent:
    def starting(self, name: str) -> None:
        pass

    def finished(self, outcome: Outcome) -> None:
        pass


def run_project(
    workspace: Path,
    targets: list[str],
    *,
    force_run_dependencies: bool = False,
    continue_on_error: bool = False,
    reporter: Reporter | None = None,
    data_source: DataSource | None = None,
) -> RunSummary:
    """Run ``targets`` (action names, or ``["all"]``) and what they need in ``workspace``."""
    workspace = Path(workspace).resolve()
    reporter = reporter or _Silent()
    project = load_project(workspace)
    order = execution_order(project, targets)
    with _one_run_at_a_time(workspace):
        return _run_order(
            workspace,
            project,
            order,
            force_run_dependencies,
            continue_on_error,
            reporter,
            data_source,
        )


class NeedsNotRun(ProjectError):
    """An action's needed outputs are not here: the action it needs must run first."""

    def __init__(self, action: str, need: str) -> None:
        super().__init__(
            f"needs the outputs of {need!r}, which has not run successfully here: run it first",
            action=action,
        )
        self.need = need


def run_one_action(workspace: Path, name: str, data_source: DataSource | None = None) -> Outcome:
    """Run the one action ``name`` now, whatever the manifest says, reading the outputs of
    the actions it needs from the workspace's manifest (a backend's agent puts them there from
    its store). A needed action with no successful record raises :class:`NeedsNotRun`."""
    workspace = Path(workspace).resolve()
    project = load_project(workspace)
    action = project.action(name)
    with _one_run_at_a_time(workspace):
        manifest = Manifest.load(workspace)
        for need in action.needs:
            record = manifest.actions.get(need)
            if record is None or record.status != "succeeded":
                raise NeedsNotRun(name, need)
        code = code_files(workspace, project)
        code_hash = _hash_files(workspace, [p for p in code if p != PROJECT_FILE])
        return _run_one(workspace, project, action, manifest, code, code_hash, True, data_source)


@contextlib.contextmanager
def _one_run_at_a_time(workspace: Path) -> Iterator[None]:
    """Hold the workspace's run lock: two runs at once would overwrite each other's outputs
    and manifest entries."""
    lock_path = workspace / "metadata" / ".run.lock"
    lock_path.parent.mkdir(exist_ok=True)
    with lock_path.open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ProjectError(
                "another 'fedsafe run' is running in this project; wait for it to finish",
                file=str(workspace / "project.yaml"),
            ) from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _run_order(
    workspace: Path,
    project: Project,
    order: list[str],
    force_run_dependencies: bool,
    continue_on_error: bool,
    reporter: Reporter,
    data_source: DataSource | None = None,
) -> RunSummary:
    manifest = Manifest.load(workspace)
    code = code_files(workspace, project)
    # project.yaml is in every action's view, but each action's own part of it (runtime, run
    # line, config, needs) is in its fingerprint; hashing the whole file would re-run every
    # action when one action's config changes.
    code_hash = _hash_files(workspace, [p for p in code if p != PROJECT_FILE])
    summary = RunSummary()
    blocked: dict[str, str] = {}  # action -> why it cannot run
    stopped = False
    for name in order:
        action = project.actions[name]
        failed_need = next((n for n in action.needs if n in blocked), None)
        if stopped or failed_need:
            why = (
                f"needs {failed_need!r}, which {blocked[failed_need]}"
                if failed_need
                else "an earlier action failed"
            )
            blocked[name] = "did not run"
            outcome = Outcome(name, "not run", message=why)
            summary.outcomes.append(outcome)
            reporter.finished(outcome)
            continue
        reporter.starting(name)
        outcome = _run_one(
            workspace,
            project,
            action,
            manifest,
            code,
            code_hash,
            force_run_dependencies,
            data_source,
        )
        summary.outcomes.append(outcome)
        reporter.finished(outcome)
        if outcome.status == "failed":
            blocked[name] = "failed"
            stopped = not continue_on_error
    return summary


def _run_one(
    workspace: Path,
    project: Project,
    action: Action,
    manifest: Manifest,
    code: list[str],
    code_hash: str,
    force: bool,
    data_source: DataSource | None = None,
) -> Outcome:
    log_path = Path("metadata") / f"{action.name}.log"
    inputs = sorted(p for need in action.needs for p in manifest.outputs_of(need))
    released = released_files(workspace, action)
    started = time.monotonic()
    try:
        hashes = {p: manifest.outputs[p].sha256 for p in inputs}
        hashes.update({p: sha256_file(workspace / p) for p in released})
        fingerprint = _fingerprint(action, code_hash, hashes)
    except FedsafeError as exc:
        return _refused(workspace, action, log_path, str(exc))
    if not force and manifest.up_to_date(workspace, action.name, fingerprint):
        return Outcome(
            action.name,
            "skipped",
            str(log_path),
            message="unchanged since its last successful run",
            outputs=len(manifest.actions[action.name].outputs),
        )
    if action.run.reads_patient_data:
        from fedsafe.codelists.check import check_codelists

        try:
            check_codelists(workspace)
        except FedsafeError as exc:
            manifest.record(workspace, action.name, fingerprint, _now(), None)
            manifest.save(workspace)
            return _refused(workspace, action, log_path, f"refused to run a dataset action: {exc}")
    args = action.run.args
    extra_env = [(k, os.environ[k]) for k in PASSED_SETTINGS if k in os.environ]
    if data_source is not None and action.run.reads_patient_data:
        if not action.run.is_dataset:
            return _refused(
                workspace,
                action,
                log_path,
                "generate-measures cannot run on a backend's database yet; "
                "use generate-dataset and compute measures in an analysis action",
            )
        args = _on_backend(args, data_source.config)
    job = ActionJob(
        name=action.name,
        runtime=action.run.runtime,
        args=args,
        config=action.config,
        patterns=tuple((o.pattern, o.level) for o in action.outputs),
        code_files=tuple(code),
        inputs=tuple(inputs + released),
        previous_outputs=tuple(manifest.outputs_of(action.name)),
        workspace=workspace,
        log_path=workspace / log_path,
        extra_env=tuple(extra_env),
        dataset_env=tuple(data_source.env) if data_source and action.run.is_dataset else (),
        limits=data_source.limits if data_source else ResourceLimits(),
    )
    result = run_action(job)
    seconds = time.monotonic() - started
    warnings = tuple(u.message() for u in result.undeclared)
    if not result.succeeded:
        manifest.record(workspace, action.name, fingerprint, _now(), None)
        manifest.save(workspace)
        return Outcome(
            action.name,
            "failed",
            str(log_path),
            seconds,
            result.error,
            warnings=warnings,
            exit_code=result.returncode,
        )
    kept = {path: action.level_of(path) or "highly_sensitive" for path in result.kept}
    manifest.record(workspace, action.name, fingerprint, _now(), kept)
    manifest.save(workspace)
    return Outcome(
        action.name,
        "succeeded",
        str(log_path),
        seconds,
        outputs=len(kept),
        warnings=warnings,
        exit_code=result.returncode,
    )


def _refused(workspace: Path, action: Action, log_path: Path, message: str) -> Outcome:
    (workspace / log_path).parent.mkdir(parents=True, exist_ok=True)
    (workspace / log_path).write_text(f"action: {action.name}\nerror: {message}\n")
    return Outcome(action.name, "failed", str(log_path), message=message)


def _fingerprint(action: Action, code_hash: str, inputs: dict[str, str]) -> str:
    parts = {
        "settings": {k: os.environ.get(k) for k in PASSED_SETTINGS},
        "runtime": runtime_id(action.run.runtime),
        "run": list(action.run.args),
        "config": action.config,
        "code": code_hash,
        "inputs": inputs,
    }
    return hashlib.sha256(as_json(parts).encode()).hexdigest()


def released_files(workspace: Path, action: Action) -> list[str]:
    """The files a combine action reads: those in its released folder (``<backend>/<files>``),
    which locally the user fills with what each backend released. They are its inputs, not
    the project's code, so new releases re-run the combine step and nothing else."""
    folder = action.run.released_dir
    if folder is None or not (workspace / folder).is_dir():
        return []
    return [
        path.relative_to(workspace).as_posix()
        for path in sorted((workspace / folder).rglob("*"))
        if path.is_file() and not path.is_symlink()
    ]


def code_files(workspace: Path, project: Project) -> list[str]:
    """The project's code: every regular file an action may read, which is every file but
    fedsafe's records, hidden folders, symbolic links, any action's outputs and the folders
    of released files that combine actions read (their inputs)."""
    patterns = [o.pattern for a in project.actions.values() for o in a.outputs]
    patterns += [f"{a.run.released_dir}/**" for a in project.actions.values() if a.run.released_dir]
    found: list[str] = []
    for folder, dirs, names in os.walk(workspace):
        dirs[:] = sorted(d for d in dirs if d not in _SKIPPED_DIRS and not d.startswith("."))
        for name in sorted(names):
            path = Path(folder, name)
            relative = path.relative_to(workspace).as_posix()
            if path.is_symlink() or not path.is_file():
                continue
            if any(matches(p, relative) for p in patterns):
                continue
            found.append(relative)
    return found


def _hash_files(workspace: Path, paths: Iterable[str]) -> str:
    digest = hashlib.sha256()
    for path in paths:
        digest.update(f"{path}\0{sha256_file(workspace / path)}\n".encode())
    return digest.hexdigest()


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
