"""Turning a dataset definition file into a query model without running it in this process.

The definition is untrusted code. It runs in a confined child (see :mod:`fedsafe.loader.child`
and :mod:`fedsafe.loader.sandbox`); this side only reads JSON back and rebuilds the query model
with :func:`fedsafe.query_model.serialize.loads`, which validates every node. The worst a
definition can do to us is hand back a different but valid query, which it could have written
legitimately anyway.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, TextIO

from fedsafe.errors import DefinitionError
from fedsafe.loader.protocol import PROTOCOL
from fedsafe.loader.sandbox import child_environment, make_private_home
from fedsafe.permissions import UnknownPermissionError, check_permission_names
from fedsafe.query_model import nodes

__all__ = [
    "DefinitionLoadError",
    "LoadedDefinition",
    "LoadedMeasures",
    "load_dataset_definition",
    "load_measures_definition",
]

# A query model is a few kilobytes; anything near this is not one.
MAX_REPLY_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class LoadedDefinition:
    """A dataset definition, evaluated: its query model, dummy data settings and claims.

    ``claimed_permissions`` are what the definition claimed with ``claim_permissions``; they
    count on dummy data only (see :mod:`fedsafe.permissions`).
    """

    dataset: nodes.Dataset
    dummy_data_config: dict[str, Any]
    definition_path: Path
    claimed_permissions: tuple[str, ...] = ()
    # The definition's ``test_data`` as JSON data (see fedsafe.loader.test_data_wire), if any.
    test_data: dict[str, Any] | None = None
    # Why ``test_data`` could not be sent back, if it could not (only test-definition cares).
    test_data_error: str | None = None


@dataclass(frozen=True)
class LoadedMeasures:
    """A measures definition, evaluated: its query model and its settings (dummy data,
    disclosure control)."""

    measures: nodes.Measures
    config: dict[str, Any]
    definition_path: Path


class DefinitionLoadError(DefinitionError):
    """A definition failed to load, with where it failed when that is known.

    ``details`` holds the child's full traceback, for ``--debug``; it is never part of the
    message because it is about our machinery as much as about the researcher's code.
    ``error_type`` is the class name of the original error (e.g. ``"KeyError"``), so a safe
    summary can be made without the message (see :mod:`fedsafe.failures`).
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        source_line: str | None = None,
        details: str | None = None,
        error_type: str | None = None,
    ) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.file = file
        self.line = line
        self.source_line = source_line
        self.details = details


def load_dataset_definition(
    path: Path,
    params: Mapping[str, str] | None = None,
    *,
    user_args: Sequence[str] = (),
    project_dir: Path | None = None,
    timeout: float = 120,
    stderr: TextIO | None = None,
) -> LoadedDefinition:
    """Evaluate the definition at ``path`` in a confined child process.

    ``project_dir`` is the child's working directory (default: ours), so that paths such as
    ``codelist_from_csv("codelists/x.csv", ...)`` mean the same as they do for ehrQL, whose
    definitions are run from the project's root. What the definition prints is passed on to
    ``stderr`` (default: ``sys.stderr``). ``user_args`` become the definition's
    ``sys.argv[1:]``, for it to read with ``argparse`` as under ehrQL.
    """
    raw, definition, project_dir, shown = _evaluate(
        path, params, user_args, project_dir, timeout, stderr, "dataset"
    )
    return _parse_reply(raw, definition, project_dir, shown)


def load_measures_definition(
    path: Path,
    params: Mapping[str, str] | None = None,
    *,
    user_args: Sequence[str] = (),
    project_dir: Path | None = None,
    timeout: float = 120,
    stderr: TextIO | None = None,
) -> LoadedMeasures:
    """Evaluate the measures definition at ``path`` in a confined child process.

    Like :func:`load_dataset_definition`, but the definition must assign
    ``measures = create_measures()``.
    """
    raw, definition, project_dir, shown = _evaluate(
        path, params, user_args, project_dir, timeout, stderr, "measures"
    )
    return _parse_measures_reply(raw, definition, project_dir, shown)


def _parse_measures_reply(
    raw: bytes, definition: Path, project_dir: Path, shown: str
) -> LoadedMeasures:
    reply = _successful_reply(raw, project_dir, shown)
    text = reply.get("measures")
    config = reply.get("measures_config")
    if not isinstance(text, str) or not _is_measures_config(config):
        raise _garbage(shown)
    from fedsafe.query_model import serialize

    try:
        measures = serialize.loads(text)
    except Exception as exc:
        raise DefinitionLoadError(
            f"{shown}: the measures the definition produced are not valid: {exc}"
        ) from exc
    if not isinstance(measures, nodes.Measures):
        raise DefinitionLoadError(f"{shown}: the definition did not produce measures")
    return LoadedMeasures(measures, config, definition)


def _is_measures_config(config: Any) -> bool:
    """Whether the settings a measures definition sent back have the shape trusted code reads
    (their values are checked where they are used)."""
    return (
        isinstance(config, dict)
        and isinstance(config.get("dummy_data"), dict)
        and isinstance(config.get("disclosure_control"), dict)
        and isinstance(config["disclosure_control"].get("enabled"), bool)
    )


def _evaluate(
    path: Path,
    params: Mapping[str, str] | None,
    user_args: Sequence[str],
    project_dir: Path | None,
    timeout: float,
    stderr: TextIO | None,
    kind: str,
) -> tuple[bytes, Path, Path, str]:
    """Run the definition in the child: its raw reply, resolved path, project and shown name."""
    project_dir = (project_dir or Path.cwd()).resolve()
    definition = _check_definition_path(Path(path), project_dir)
    if not project_dir.is_dir():
        raise DefinitionError(f"project folder {project_dir} does not exist")
    shown = _display_path(definition, project_dir)

    request = {
        "protocol": PROTOCOL,
        "definition": str(definition),
        "params": dict(params or {}),
        "argv": [str(arg) for arg in user_args],
        "project_dir": str(project_dir),
        "kind": kind,
    }
    home = make_private_home()
    try:
        request["home"] = str(home)
        reply_bytes = _run_child(request, home, project_dir, timeout, stderr or sys.stderr, shown)
    finally:
        shutil.rmtree(home, ignore_errors=True)
    return reply_bytes, definition, project_dir, shown


def _check_definition_path(path: Path, project_dir: Path) -> Path:
    resolved = path if path.is_absolute() else Path.cwd() / path
    if not resolved.exists():
        raise DefinitionError(f"dataset definition {path} does not exist")
    if not resolved.is_file():
        raise DefinitionError(f"dataset definition {path} is not a file")
    if resolved.suffix != ".py":
        raise DefinitionError(
            f"dataset definition {path} is not a Python file: its name must end in .py"
        )
    return resolved.resolve()


def _display_path(path: Path | str, project_dir: Path) -> str:
    """The path as a researcher would write it: relative to the project where possible."""
    path = Path(path)
    for base in (project_dir, Path.cwd()):
        if path.is_relative_to(base):
            return str(path.relative_to(base))
    return str(path)


def _run_child(
    request: dict[str, Any],
    home: Path,
    project_dir: Path,
    timeout: float,
    stderr: TextIO,
    shown: str,
) -> bytes:
    process = subprocess.Popen(
        [sys.executable, "-I", "-m", "fedsafe.loader.child"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=project_dir,
        env=child_environment(home),
        # Its own process group, so that stopping it also stops anything it started.
        start_new_session=True,
    )
    assert process.stdin and process.stdout and process.stderr
    reply = _Collector(process.stdout, MAX_REPLY_BYTES)
    relay = threading.Thread(target=_relay, args=(process.stderr, stderr), daemon=True)
    reply.start()
    relay.start()
    try:
        try:
            process.stdin.write(json.dumps(request).encode())
            process.stdin.close()
        except BrokenPipeError:
            pass  # it died at once; its exit status says why
        exited = _wait_for_exit(process, timeout)
    finally:
        # Whether it replied, failed, hung or we were interrupted: stop anything it left
        # running in its process group, then collect its exit status.
        _stop(process)
    reply.join(timeout=10)
    relay.join(timeout=10)
    if not exited:
        raise DefinitionLoadError(
            f"{shown}: loading the dataset definition took longer than {timeout:g} s and was "
            "stopped; a definition should load in seconds, so check for loops or slow work "
            "done when the file is run"
        )
    returncode = process.returncode
    if reply.overflowed:
        raise DefinitionLoadError(
            f"{shown}: the definition process sent back more than {MAX_REPLY_BYTES} bytes, "
            "which cannot be a query; it may have written to its output directly"
        )
    if returncode < 0:
        name = _signal_name(-returncode)
        hint = " (it may have run out of memory)" if -returncode == signal.SIGKILL else ""
        raise DefinitionLoadError(
            f"{shown}: the process loading the dataset definition was killed by {name}{hint}"
        )
    if returncode != 0 and not reply.data:
        raise DefinitionLoadError(
            f"{shown}: the process loading the dataset definition failed (exit status "
            f"{returncode}) without saying why; its error output is above"
        )
    return reply.data


def _wait_for_exit(process: subprocess.Popen[bytes], timeout: float) -> bool:
    """Wait for the child to exit, leaving it unreaped; False if it is still running.

    An unreaped child keeps its process ID, so its process group ID cannot be given to an
    unrelated group before :func:`_stop` signals it.
    """
    deadline = time.monotonic() + timeout
    flags = os.WEXITED | os.WNOHANG | os.WNOWAIT
    while os.waitid(os.P_PID, process.pid, flags) is None:
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.01)
    return True


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Kill the child's whole process group (it leads it), then reap the child."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


class _Collector(threading.Thread):
    """Reads a pipe to the end, keeping at most ``limit`` bytes."""

    def __init__(self, pipe: IO[bytes], limit: int) -> None:
        super().__init__(daemon=True)
        self.pipe = pipe
        self.limit = limit
        self.chunks: list[bytes] = []
        self.size = 0
        self.overflowed = False

    def run(self) -> None:
        with self.pipe:
            while chunk := self.pipe.read1(65536):
                if self.size + len(chunk) > self.limit:
                    self.overflowed = True
                    continue  # keep draining so the child is never blocked on a full pipe
                self.chunks.append(chunk)
                self.size += len(chunk)

    @property
    def data(self) -> bytes:
        return b"".join(self.chunks)


def _relay(pipe: IO[bytes], out: TextIO) -> None:
    """Pass the child's error output on as it arrives, so progress prints show up live."""
    with pipe:
        for line in iter(pipe.readline, b""):
            try:
                out.write(line.decode("utf-8", errors="replace"))
                out.flush()
            except (OSError, ValueError):
                pass  # our own stderr is gone; keep draining so the child never blocks


def _garbage(shown: str) -> DefinitionLoadError:
    return DefinitionLoadError(
        f"{shown}: the process loading the dataset definition sent back something that is not "
        "a valid reply; this is a bug in fedsafe, or the definition wrote to its output directly"
    )


def _parse_reply(raw: bytes, definition: Path, project_dir: Path, shown: str) -> LoadedDefinition:
    reply = _successful_reply(raw, project_dir, shown)
    text = reply.get("dataset")
    config = reply.get("dummy_data_config")
    claims = reply.get("claimed_permissions", [])
    test_data = reply.get("test_data")
    test_data_error = reply.get("test_data_error")
    if (
        not isinstance(text, str)
        or not isinstance(config, dict)
        or not isinstance(test_data, dict | None)
        or not isinstance(test_data_error, str | None)
    ):
        raise _garbage(shown)
    if not isinstance(claims, list) or not all(isinstance(c, str) for c in claims):
        raise _garbage(shown)
    try:
        claimed = check_permission_names(claims)
    except UnknownPermissionError as exc:
        raise DefinitionLoadError(f"{shown}: {exc}") from None
    return LoadedDefinition(
        _rebuild(text, shown), config, definition, claimed, test_data, test_data_error
    )


def _successful_reply(raw: bytes, project_dir: Path, shown: str) -> dict[str, Any]:
    """The child's successful reply; its error reply raised as a DefinitionLoadError."""
    garbage = _garbage(shown)
    try:
        reply = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise garbage from None
    if not isinstance(reply, dict) or reply.get("protocol") != PROTOCOL:
        raise garbage
    if reply.get("ok") is True:
        return reply
    error = reply.get("error")
    if reply.get("ok") is not False or not isinstance(error, dict):
        raise garbage
    raise _error_from_reply(error, project_dir, shown)


def _rebuild(text: str, shown: str) -> nodes.Dataset:
    from fedsafe.query_model import serialize

    try:
        dataset = serialize.loads(text)
    except Exception as exc:
        raise DefinitionLoadError(
            f"{shown}: the query the definition produced is not valid: {exc}"
        ) from exc
    if not isinstance(dataset, nodes.Dataset):
        raise DefinitionLoadError(f"{shown}: the definition did not produce a dataset")
    try:
        nodes.tables_used(dataset)
    except nodes.QueryModelError as exc:
        raise DefinitionLoadError(
            f"{shown}: {exc}. The schemas declare some tables differently (tpp's "
            "clinical_events has more columns than core's): take each table from one schema, "
            "e.g. every `clinical_events` from ehrql.tables.tpp"
        ) from None
    return dataset


def _error_from_reply(error: dict[str, Any], project_dir: Path, shown: str) -> DefinitionLoadError:
    def text(key: str) -> str | None:
        value = error.get(key)
        return value if isinstance(value, str) else None

    message = text("message") or "the dataset definition failed to load"
    file = text("file")
    line = error.get("line") if isinstance(error.get("line"), int) else None
    source_line = text("source_line")
    where = _display_path(file, project_dir) if file else shown
    full = f"{where}, line {line}: {message}" if line is not None else f"{where}: {message}"
    if source_line:
        full += f"\n    {source_line}"
    return DefinitionLoadError(
        full,
        file=where,
        line=line,
        source_line=source_line,
        details=text("traceback"),
        error_type=text("type"),
    )
