"""Running one action on this machine, in a scratch copy of the workspace it may see.

An action gets a fresh folder holding the project's code and only the outputs of the actions
it ``needs`` (copied, never linked, so it cannot change them in place). Untrusted code
(python:v1, r:v1) runs confined to that folder by :mod:`fedsafe.executors.confine`: it can
read the runtime and the system libraries, write only the scratch folder and a private home,
and reach no network. Its environment is built from an allow-list. Every runtime, trusted
or not, runs under the backend's resource limits (:mod:`fedsafe.executors.limits`): CPU time,
memory, the size of any one file, everything written, the number of files, and the time on
the clock. An action that passes one is stopped and fails with a message naming the limit,
and nothing it wrote is kept. When it ends within them, only new files matching its declared
output patterns are copied back into the workspace; anything else it left is reported with a
hint and thrown away with the scratch folder.
"""

from __future__ import annotations

import contextlib
import difflib
import fnmatch
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import fedsafe
from fedsafe.errors import FedsafeError
from fedsafe.executors.limits import ResourceLimits, describe_breach
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
    # Given to fedsafe's own runtime only (dataset actions: database credentials, read by the
    # backend configuration's ${VAR} references); never to python:v1 or r:v1.
    dataset_env: tuple[tuple[str, str], ...] = ()
    limits: ResourceLimits = field(default_factory=ResourceLimits)  # the backend's


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
    limit: str | None = None  # the ResourceLimits field it passed, if that is why it failed

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

    watch = _Watch(scratch_root, job.limits)

    prepared = prepare(job.runtime, job.args, job.config)
    # With "parent", the action dies with this process, even if it is killed with SIGKILL: an
    # agent that crashes leaves no action running unwatched, past its limits.
    spec: dict[str, Any] = {"limits": job.limits.as_json(), "parent": os.getpid()}
    if prepared.confined:
        spec["read"] = [*prepared.read_paths, str(scratch)]
        spec["write"] = [str(scratch), str(home)]
    command = [*_wrapper(), json.dumps(spec), "--", *prepared.command]
    env = child_environment(
        home,
        {
            "MPLBACKEND": "Agg",
            "MPLCONFIGDIR": str(home),
            "PYTHONDONTWRITEBYTECODE": "1",
            **dict(job.extra_env),
            **(dict(job.dataset_env) if job.runtime == "fedsafe:v1" else {}),
            **dict(prepared.env),
        },
    )
    _log(log, f"started: {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}")
    _log(log, "-" * 72)
    log.flush()
    ended = _run(command, scratch, env, log, job.limits, watch)
    log_size = os.fstat(log.fileno()).st_size
    log.seek(0, os.SEEK_END)
    _log(log, "-" * 72)
    _log(log, f"exit status: {ended.returncode}")
    returncode = ended.returncode

    breach = ended.breach or _breach_after(ended, job.limits, watch, log, log_size)
    if breach:
        error = describe_breach(breach, job.limits)
        _log(log, f"error: {error}")
        return ActionResult(returncode, (), (), (), error, limit=breach)

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


def _wrapper() -> list[str]:
    """The trusted program that sets limits and confinement and then runs the command.

    It imports fedsafe from the same place as this process, so wrapper and executor are always
    the same version; ``-I`` keeps the environment and the current folder out of its path. The
    packages on the way to it are registered as bare namespaces, so their ``__init__`` modules
    (``fedsafe`` imports the whole language) are not run: the wrapper needs only the standard
    library, and starting it costs every action, so it starts in a fraction of the time.
    """
    package = Path(fedsafe.__file__).resolve().parent
    code = (
        "import sys, types\n"
        f"root = {str(package)!r}\n"
        "for name in ('fedsafe', 'fedsafe.executors', 'fedsafe.loader'):\n"
        "    module = types.ModuleType(name)\n"
        "    module.__path__ = [root + name[len('fedsafe'):].replace('.', '/')]\n"
        "    sys.modules[name] = module\n"
        "from fedsafe.executors.confine import main\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    return [sys.executable, "-I", "-c", code]


# How often the running action's folder is measured against the output limits, and its CPU
# time against the total. Between checks, RLIMIT_FSIZE and RLIMIT_CPU still hold each process.
_CHECK_SECONDS = 2.0


@dataclass(frozen=True)
class _Ended:
    returncode: int
    cpu_seconds: float  # the process's and its reaped children's
    breach: str | None  # the limit the executor stopped it for, if it did


def _run(
    command: list[str],
    cwd: Path,
    env: dict[str, str],
    log: TextIO,
    limits: ResourceLimits,
    watch: _Watch,
) -> _Ended:
    """Run the command to its end or until it passes a limit, then stop everything it started."""
    process = subprocess.Popen(
        command,
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group, so nothing it starts outlives it
    )
    started = time.monotonic()
    next_check = started + _CHECK_SECONDS
    exited = _exit_notifier(process.pid)
    breach: str | None = None
    status: int | None = None
    usage = None
    try:
        while True:
            pid, status_now, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                status = status_now
                break
            now = time.monotonic()
            if now - started >= limits.wall_seconds:
                breach = "wall_seconds"
            elif now >= next_check:
                breach = watch.breach()
                if breach is None and _cpu_so_far(process.pid) >= limits.cpu_seconds:
                    breach = "cpu_seconds"
                next_check = time.monotonic() + _CHECK_SECONDS
            if breach:
                break
            now = time.monotonic()
            exited(max(0.0, min(next_check, started + limits.wall_seconds) - now))
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        exited(None)
        if status is None:
            _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
    cpu = usage.ru_utime + usage.ru_stime if usage is not None else 0.0
    return _Ended(process.returncode, cpu, breach)


def _exit_notifier(pid: int) -> Callable[[float | None], None]:
    """``wait(seconds)`` returns when process ``pid`` has ended or ``seconds`` have passed, so
    a short action is noticed as soon as it ends; ``wait(None)`` releases what it holds.

    It waits on a process file descriptor (Linux 5.3 and later), or else sleeps briefly.
    """
    try:
        fd = os.pidfd_open(pid)
    except (AttributeError, OSError):
        fd = None

    def wait(seconds: float | None) -> None:
        nonlocal fd
        if seconds is None:
            if fd is not None:
                os.close(fd)
                fd = None
        elif fd is not None:
            select.select([fd], [], [], seconds)
        else:
            time.sleep(min(seconds, 0.05))

    return wait


def _cpu_so_far(pid: int) -> float:
    """CPU seconds used so far by ``pid`` and every process beneath it, from /proc: those
    running now, and those they have already waited for."""
    ticks = 0
    stack = [pid]
    while stack:
        current = stack.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rpartition(")")[2].split()
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:
            continue  # ended meanwhile: its time is now its parent's
        # After the command name: state is field 3, utime..cstime are fields 14..17.
        ticks += sum(int(fields[i]) for i in range(11, 15))
        stack.extend(int(child) for child in children)
    return ticks / os.sysconf("SC_CLK_TCK")


# What programs print when an allocation is refused: Python, C++, the C library, R, DuckDB.
_OUT_OF_MEMORY = (
    "MemoryError",
    "std::bad_alloc",
    "Cannot allocate memory",
    "cannot allocate vector of size",
    "Out of Memory Error",
)


def _breach_after(
    ended: _Ended, limits: ResourceLimits, watch: _Watch, log: TextIO, log_size: int
) -> str | None:
    """The limit an action passed, judged once it has ended (it may have been refused by the
    kernel and stopped itself, or slipped past between two checks)."""
    if ended.returncode == -signal.SIGXCPU or ended.cpu_seconds + 0.01 >= limits.cpu_seconds:
        return "cpu_seconds"
    if ended.returncode == -signal.SIGXFSZ or log_size > limits.output_file_bytes:
        return "output_file_bytes"
    found = watch.breach()
    if found:
        return found
    if ended.returncode != 0 and _log_tail_says_out_of_memory(log, log_size):
        return "memory_bytes"
    return None


def _log_tail_says_out_of_memory(log: TextIO, size: int) -> bool:
    """Whether the end of what the action printed reports a refused allocation.

    RLIMIT_AS makes an allocation fail rather than killing the process, so the program stops
    with its own error; this is how that error is recognised. Only the action's own failure is
    labelled by it.
    """
    with open(log.name, "rb") as reader:
        reader.seek(max(0, size - 65536))
        tail = reader.read(65536).decode("utf-8", errors="replace")
    return any(marker in tail for marker in _OUT_OF_MEMORY)


class _Watch:
    """Measures what an action has written into its scratch folders against the limits.

    Inputs put there before it started are the baseline: only growth counts, and an input
    larger than the file limit is not a breach unless the action made it larger still.
    """

    def __init__(self, root: Path, limits: ResourceLimits) -> None:
        self.root = root
        self.limits = limits
        self.sizes: dict[str, int] = {}
        self.base_entries = 0
        self.base_bytes = 0
        for path, size in _entries(root):
            self.base_entries += 1
            if size is not None:
                self.sizes[path] = size
                self.base_bytes += size

    def breach(self) -> str | None:
        entries = 0
        total = 0
        for path, size in _entries(self.root):
            entries += 1
            if entries - self.base_entries > self.limits.output_files:
                return "output_files"
            if size is None:
                continue
            total += size
            if size > self.limits.output_file_bytes and size > self.sizes.get(path, -1):
                return "output_file_bytes"
            if total - self.base_bytes > self.limits.output_total_bytes:
                return "output_total_bytes"
        return None


def _entries(root: Path) -> Iterator[tuple[str, int | None]]:
    """Every file and folder beneath ``root`` with its size (None for a folder), never
    following a symbolic link. A folder the action made unreadable is made readable again
    (it is ours), so nothing can hide from the count."""
    stack = [root]
    while stack:
        folder = stack.pop()
        try:
            listing = list(os.scandir(folder))
        except PermissionError:
            try:
                os.chmod(folder, 0o700)
                listing = list(os.scandir(folder))
            except OSError:
                continue
        except OSError:
            continue
        for entry in listing:
            try:
                if entry.is_dir(follow_symlinks=False):
                    stack.append(Path(entry.path))
                    yield entry.path, None
                else:
                    yield entry.path, entry.stat(follow_symlinks=False).st_size
            except OSError:
                continue


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
