"""Running one action on this machine, in a scratch copy of the workspace it may see.

An action gets a fresh folder holding the project's code and only the outputs of the actions
it ``needs`` (copied, never linked, so it cannot change them in place). Untrusted code
(python:v1, r:v1) runs confined to that folder by :mod:`fedsafe.executors.confine`: it can
read the runtime and the system libraries, write only the scratch folder and a private home,
and reach no network. Its environment is built from an allow-list. When it ends, only new
files matching its declared output patterns are copied back into the workspace; anything
else it left is reported with a hint and thrown away with the scratch folder.
"""

from __future__ import annotations

import contextlib
import difflib
import fnmatch
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from fedsafe.errors import FedsafeError
from fedsafe.executors.runtimes.resolve import prepare
from fedsafe.loader.sandbox import child_environment
from fedsafe.pipeline.patterns import matches

__all__ = ["ActionJob", "ActionResult", "run_action"]


@dataclass(frozen=True)
class ActionJob:
    """Everything needed to run one action, and nothing about the rest of the pipeline."""

    name: str
    runtime: str
    args: tuple[str, ...]
    config: Mapping[str, Any] | None
    patterns: tuple[tuple[str, str], ...]  # (pattern, privacy level)
    code_files: tuple[str, ...]  # workspace-relative paths of the code it may read
    inputs: tuple[str, ...]  # workspace-relative paths of the outputs it needs
    previous_outputs: tuple[str, ...]  # what it kept last time, replaced by what it keeps now
    workspace: Path
    log_path: Path
    extra_env: tuple[tuple[str, str], ...] = ()  # settings the backend gives every action


@dataclass(frozen=True)
class Undeclared:
    """A file an action left that matches none of its output patterns."""

    path: str
    hint: str | None

    def message(self) -> str:
        text = f"{self.path} matches none of the action's outputs, so it was not kept"
        return f"{text}; {self.hint}" if self.hint else text


@dataclass(frozen=True)
class ActionResult:
    """What happened: the exit status, the outputs kept, what was left behind and why."""

    returncode: int
    kept: tuple[str, ...]
    undeclared: tuple[Undeclared, ...]
    unmatched_patterns: tuple[str, ...]
    error: str | None = None

    @property
    def succeeded(self) -> bool:
        return self.error is None


def run_action(job: ActionJob) -> ActionResult:
    """Run ``job`` in a scratch folder and copy its declared outputs into the workspace."""
    job.log_path.parent.mkdir(parents=True, exist_ok=True)
    with job.log_path.open("w", encoding="utf-8") as log:
        _log(log, f"action: {job.name}")
        _log(log, f"run: {job.runtime} {' '.join(job.args)}")
        if job.config is not None:
            _log(log, f"config: {json.dumps(job.config, sort_keys=True)}")
        scratch_root = Path(tempfile.mkdtemp(prefix=f"fedsafe-{job.name}-"))
        try:
            return _run_in(job, scratch_root, log)
        except FedsafeError as exc:
            _log(log, f"error: {exc}")
            return ActionResult(-1, (), (), (), error=str(exc))
        finally:
            shutil.rmtree(scratch_root, ignore_errors=True)


def _run_in(job: ActionJob, scratch_root: Path, log: TextIO) -> ActionResult:
    scratch = scratch_root / "workspace"
    home = scratch_root / "home"
    scratch.mkdir()
    home.mkdir()
    for relative in (*job.code_files, *job.inputs):
        target = scratch / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(job.workspace / relative, target)
    before = set(job.code_files) | set(job.inputs)
    for folder in _output_folders(job.patterns):
        (scratch / folder).mkdir(parents=True, exist_ok=True)

    prepared = prepare(job.runtime, job.args, job.config)
    command = list(prepared.command)
    if prepared.confined:
        policy = {"read": [*prepared.read_paths, str(scratch)], "write": [str(scratch), str(home)]}
        command = [
            sys.executable,
            "-I",
            "-m",
            "fedsafe.executors.confine",
            json.dumps(policy),
            "--",
            *command,
        ]
    env = child_environment(
        home,
        {
            "MPLBACKEND": "Agg",
            "MPLCONFIGDIR": str(home),
            "PYTHONDONTWRITEBYTECODE": "1",
            **dict(job.extra_env),
            **dict(prepared.env),
        },
    )
    _log(log, f"started: {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}")
    _log(log, "-" * 72)
    log.flush()
    returncode = _run(command, scratch, env, log)
    log.flush()
    _log(log, "-" * 72)
    _log(log, f"exit status: {returncode}")

    kept, undeclared, unmatched = _collect(job, scratch, before, returncode == 0)
    for item in undeclared:
        _log(log, f"warning: {item.message()}")
    error = None
    if returncode != 0:
        error = f"exited with status {returncode}"
    elif unmatched:
        error = "no file matched the output pattern " + ", ".join(repr(p) for p in unmatched)
    for path in kept:
        _log(log, f"kept: {path}")
    if error:
        _log(log, f"error: {error}")
    return ActionResult(returncode, tuple(kept), tuple(undeclared), tuple(unmatched), error)


def _run(command: list[str], cwd: Path, env: dict[str, str], log: TextIO) -> int:
    process = subprocess.Popen(
        command,
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group, so nothing it starts outlives it
    )
    try:
        return process.wait()
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def _collect(
    job: ActionJob, scratch: Path, before: set[str], copy_back: bool
) -> tuple[list[str], list[Undeclared], list[str]]:
    """Sort the files the action left into declared outputs and the rest, and keep the first."""
    declared: list[str] = []
    undeclared: list[Undeclared] = []
    for path in sorted(_files(scratch)):
        if path in before:
            continue
        if any(matches(pattern, path) for pattern, _ in job.patterns):
            if (scratch / path).is_symlink():
                undeclared.append(Undeclared(path, "symbolic links are never kept as outputs"))
            else:
                declared.append(path)
        else:
            undeclared.append(Undeclared(path, _hint(path, [p for p, _ in job.patterns])))
    unmatched = [
        pattern for pattern, _ in job.patterns if not any(matches(pattern, p) for p in declared)
    ]
    if not copy_back or unmatched:
        return [], undeclared, unmatched
    # Replace the action's previous outputs, so a file it no longer writes does not linger;
    # only those recorded as its own, never another file that happens to match a pattern.
    for path in job.previous_outputs:
        (job.workspace / path).unlink(missing_ok=True)
    for path in declared:
        target = job.workspace / path
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(scratch / path, target)
    return declared, undeclared, unmatched


def _output_folders(patterns: tuple[tuple[str, str], ...]) -> set[str]:
    """The folders the outputs go in, as far as they are fixed (``output/`` for
    ``output/*.csv``), made ready so a script need not create them."""
    folders = set()
    for pattern, _ in patterns:
        fixed = []
        for part in pattern.split("/")[:-1]:
            if any(c in part for c in "*?["):
                break
            fixed.append(part)
        if fixed:
            folders.add("/".join(fixed))
    return folders


def _files(root: Path) -> list[str]:
    found = []
    for folder, dirs, names in os.walk(root):
        dirs[:] = [d for d in dirs if d not in (".git", "metadata", "__pycache__")]
        for name in names:
            found.append(Path(folder, name).relative_to(root).as_posix())
    return found


def _hint(path: str, patterns: list[str]) -> str | None:
    """A "did you mean" for a file that matches no pattern: a near miss, or the right name in
    the wrong folder."""
    name = path.rsplit("/", 1)[-1]
    for pattern in patterns:
        if fnmatch.fnmatchcase(name, pattern.rsplit("/", 1)[-1]):
            return (
                f"did you mean to write it as {pattern!r}? (the name fits but the folder does not)"
            )
    close = difflib.get_close_matches(path, patterns, n=1, cutoff=0.6)
    if close:
        return f"did you mean {close[0]!r}?"
    if patterns:
        return "declare it under the action's outputs if it should be kept"
    return None


def _log(log: TextIO, line: str) -> None:
    log.write(line + "\n")
    log.flush()
