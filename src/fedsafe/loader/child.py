"""The confined process that runs a dataset definition: ``python -I -m fedsafe.loader.child``.

It reads one JSON request on stdin, confines itself, runs the definition and writes one JSON
reply on stdout: the serialised query model, or a structured error. Everything the user's code
prints goes to stderr, because stdout belongs to the reply. The trusted side never imports user
code and never unpickles anything: JSON text is the only thing that crosses.

Request: ``{"protocol": 1, "definition": path, "params": {name: value}, "argv": [str, ...],
"project_dir": path, "home": path, "kind": "dataset" | "measures"}``. Reply: ``{"protocol": 1,
"ok": true, "dataset": <serialised query model>, "dummy_data_config": {...},
"claimed_permissions": [str, ...], "test_data": {...}}`` (``test_data``, or
``test_data_error``, only when the definition has one; a measures definition sends
``"measures"`` and ``"measures_config"`` instead) or ``{"protocol": 1, "ok": false, "error":
{"type", "message", "file", "line", "source_line", "traceback"}}``.
"""

from __future__ import annotations

import difflib
import importlib.util
import json
import linecache
import os
import re
import runpy
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fedsafe.loader.protocol import PROTOCOL
from fedsafe.loader.sandbox import SandboxPolicy, apply_sandbox

SHIM_DIR = Path(__file__).resolve().parent / "shim"


@dataclass(frozen=True)
class Request:
    definition: Path
    params: dict[str, str]
    argv: tuple[str, ...]
    project_dir: Path
    home: Path
    kind: str = "dataset"

    @classmethod
    def from_json(cls, text: str) -> Request:
        data = json.loads(text)
        if data.get("protocol") != PROTOCOL:
            raise ValueError(f"unsupported protocol {data.get('protocol')!r}")
        params = data["params"]
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in params.items()):
            raise ValueError("params must map strings to strings")
        argv = data.get("argv", [])
        if not isinstance(argv, list) or not all(isinstance(a, str) for a in argv):
            raise ValueError("argv must be a list of strings")
        return cls(
            definition=Path(data["definition"]),
            params=dict(params),
            argv=tuple(argv),
            project_dir=Path(data["project_dir"]),
            home=Path(data["home"]),
            kind=_kind(data.get("kind", "dataset")),
        )


def _kind(value: Any) -> str:
    if value not in ("dataset", "measures"):
        raise ValueError(f"unknown definition kind {value!r}")
    return value


class _UserError(Exception):
    """A problem with the definition found after it ran, with no line of its own to point at."""


def main() -> None:
    # The reply goes to the real stdout, which we keep on a private descriptor; from here on
    # descriptor 1 is stderr, so even output from C code or subprocesses cannot corrupt it.
    reply_fd = os.dup(1)
    os.set_inheritable(reply_fd, False)
    os.dup2(2, 1)
    sys.stderr = _ERROR_TAIL
    sys.stdout = sys.stderr
    sys.dont_write_bytecode = True  # the project folder is read-only to us; don't try

    try:
        request = Request.from_json(sys.stdin.read())
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        _reply(reply_fd, _error_reply("ProtocolError", f"bad request to the loader: {exc}"))
        return

    definition = request.definition.resolve()
    policy = SandboxPolicy.for_python(
        read=[request.project_dir, definition.parent, SHIM_DIR], write=[request.home]
    )
    status = apply_sandbox(policy)
    for warning in status.warnings:
        print(warning, file=sys.stderr)

    _reply(reply_fd, _run(definition, request))


def _run(definition: Path, request: Request) -> dict[str, Any]:
    # Imported here, not at the top, so a broken language module is reported as a reply.
    from fedsafe.language.dataset import Dataset, compile_dataset, dummy_data_config
    from fedsafe.language.parameters import bound_parameters
    from fedsafe.language.permissions import collecting_claims
    from fedsafe.query_model import serialize

    # Like running a script: the definition's folder is importable, so it can import its
    # sibling modules. Published definitions import ``ehrql``; serve it when it isn't installed.
    sys.path.insert(0, str(definition.parent))
    if importlib.util.find_spec("ehrql") is None:
        sys.path.insert(1, str(SHIM_DIR))

    # As when ``python definition.py ARGS`` runs: argparse in the definition reads these, and
    # names the definition in its messages.
    sys.argv = [str(definition), *request.argv]

    try:
        with bound_parameters(request.params), collecting_claims() as claims:
            namespace = runpy.run_path(str(definition), run_name=definition.stem)
            if request.kind == "measures":
                return _measures_reply(namespace)
            dataset = namespace.get("dataset", _MISSING)
            if dataset is _MISSING:
                raise _UserError(
                    "no variable named `dataset`: a dataset definition must assign the result "
                    "of create_dataset() to a module-level variable called `dataset`"
                )
            if not isinstance(dataset, Dataset):
                raise _UserError(_not_a_dataset(dataset))
            node = compile_dataset(dataset)
            config = dummy_data_config(dataset)
            try:
                json.dumps(config)
            except (TypeError, ValueError) as exc:
                raise _UserError(f"the dummy data configuration cannot be saved: {exc}") from exc
            reply = {
                "protocol": PROTOCOL,
                "ok": True,
                "dataset": serialize.dumps(node),
                "dummy_data_config": config,
                "claimed_permissions": list(claims),
            }
            if "test_data" in namespace:
                reply.update(_encoded_test_data(namespace["test_data"]))
            return reply
    except BaseException as exc:  # every failure of user code becomes a reply
        if isinstance(exc, KeyboardInterrupt):
            raise
        return _describe_failure(exc, definition, request)


_MISSING = object()


def _measures_reply(namespace: dict[str, Any]) -> dict[str, Any]:
    """The reply for a measures definition: its serialised measures and their settings."""
    from fedsafe.language.measures import Measures, compile_measures, measures_config
    from fedsafe.query_model import serialize

    measures = namespace.get("measures", _MISSING)
    if measures is _MISSING:
        raise _UserError(
            "no variable named `measures`: a measures definition must assign the result of "
            "create_measures() to a module-level variable called `measures`"
        )
    if not isinstance(measures, Measures):
        kind = type(measures)
        raise _UserError(
            f"`measures` is a {kind.__module__}.{kind.__qualname__}, not a Measures: assign "
            "`measures = create_measures()`"
        )
    node = compile_measures(measures)
    return {
        "protocol": PROTOCOL,
        "ok": True,
        "measures": serialize.dumps(node),
        "measures_config": measures_config(measures),
    }


def _encoded_test_data(value: Any) -> dict[str, Any]:
    """The definition's ``test_data`` (ehrQL's hand-made test patients) as JSON-able data.

    A problem with it is sent back as ``test_data_error`` rather than failing the load: only
    ``test-definition`` uses test data, and generating a dataset must not fail because of it.
    """
    from fedsafe.loader.test_data_wire import TestDataEncodingError, encode_test_data

    try:
        return {"test_data": encode_test_data(value)}
    except TestDataEncodingError as exc:
        return {"test_data_error": str(exc)}


def _not_a_dataset(value: object) -> str:
    kind = type(value)
    where = f"{kind.__module__}.{kind.__qualname__}"
    message = f"`dataset` is a {where}, not a Dataset: assign `dataset = create_dataset()`"
    if kind.__module__.split(".")[0] == "ehrql":
        message += (
            " (this Dataset comes from the real ehrQL package installed in this environment; "
            "fedsafe serves `import ehrql` itself only when ehrQL is not installed)"
        )
    return message


def _describe_failure(exc: BaseException, definition: Path, request: Request) -> dict[str, Any]:
    project_dir = request.project_dir
    if isinstance(exc, _UserError):
        return _error_reply("DefinitionError", str(exc), file=str(definition))
    if isinstance(exc, SystemExit):
        message = _exit_message(exc, request.argv)
    elif isinstance(exc, ImportError) and (missing := _missing_name(exc)) is not None:
        message = missing
    elif type(exc).__module__.startswith("fedsafe.") and str(exc):
        message = str(exc)  # the language's own errors are already written for the researcher
    else:
        message = "".join(traceback.format_exception_only(type(exc), exc)).strip()
        if isinstance(exc, SyntaxError):
            message = f"{type(exc).__name__}: {exc.msg}"

    file, line = _locate(exc, definition, project_dir)
    source_line = None
    if isinstance(exc, SyntaxError) and exc.text and file == exc.filename:
        source_line = exc.text.strip("\n").strip()
    elif file is not None and line is not None:
        source_line = linecache.getline(file, line).strip() or None
    return _error_reply(
        type(exc).__name__,
        message,
        file=file or str(definition),
        line=line,
        source_line=source_line,
        traceback_text="".join(traceback.format_exception(exc)),
    )


_CANNOT_IMPORT = re.compile(r"cannot import name '(?P<name>\w+)' from '(?P<module>[\w.]+)'")


def _missing_name(exc: ImportError) -> str | None:
    """For ``from ehrql.tables.tpp import typo``: what the schema has, and the likely name.

    Only for the modules fedsafe serves (``ehrql.*`` from the shim, ``fedsafe.*``); other
    import errors keep Python's own message.
    """
    found = _CANNOT_IMPORT.match(str(exc))
    if found is None:
        return None
    module_name, name = found["module"], found["name"]
    if module_name.split(".")[0] not in ("ehrql", "fedsafe"):
        return None
    module = sys.modules.get(module_name)
    names = sorted(getattr(module, "__all__", None) or [])
    if not names:
        return None
    what = "table" if ".tables." in module_name + "." else "name"
    close = difflib.get_close_matches(name, names, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return f"{module_name} has no {what} {name!r}{hint}; it has: {', '.join(names)}"


def _exit_message(exc: SystemExit, argv: tuple[str, ...]) -> str:
    """Why the definition stopped, with argparse's own last words when it printed some."""
    said = _ERROR_TAIL.last_line()
    given = " ".join(argv) if argv else "none given"
    called = f"the dataset definition called sys.exit({exc.code!r})"
    if exc.code in (0, None):
        return (
            f"{called} before making a dataset (user arguments: {given}; did it print "
            "--help?); nothing was generated"
        )
    message = f"{called}; it must not exit (user arguments: {given})"
    return f"{message}: {said}" if said else message


class _TailedStream:
    """Passes writes through and keeps the end of what was written, for error messages."""

    def __init__(self, stream: Any, keep: int = 4000) -> None:
        self._stream = stream
        self._keep = keep
        self._tail = ""

    def write(self, text: str) -> int:
        self._tail = (self._tail + text)[-self._keep :]
        return self._stream.write(text)

    def last_line(self) -> str:
        lines = [line.strip() for line in self._tail.splitlines() if line.strip()]
        return lines[-1] if lines else ""

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


_ERROR_TAIL = _TailedStream(sys.stderr)


def _is_user_file(filename: str, definition: Path, project_dir: Path) -> bool:
    """Whether a traceback frame is in code the researcher wrote, not in Python or fedsafe."""
    try:
        path = Path(filename).resolve()
        if not path.is_file():  # "<frozen os>", "<string>" and the like
            return False
    except (OSError, ValueError):
        return False
    if path == definition:
        return True
    for trusted in {sys.prefix, sys.base_prefix, Path(__file__).resolve().parents[1]}:
        if path.is_relative_to(Path(trusted).resolve()):
            return False
    return path.is_relative_to(definition.parent) or path.is_relative_to(project_dir.resolve())


def _locate(
    exc: BaseException, definition: Path, project_dir: Path
) -> tuple[str | None, int | None]:
    """The deepest place in the researcher's own code where the error happened."""
    if (
        isinstance(exc, SyntaxError)
        and exc.filename
        and _is_user_file(exc.filename, definition, project_dir)
    ):
        return exc.filename, exc.lineno
    found: tuple[str | None, int | None] = (None, None)
    for frame, lineno in traceback.walk_tb(exc.__traceback__):
        filename = frame.f_code.co_filename
        if _is_user_file(filename, definition, project_dir):
            found = (filename, lineno)
    return found


def _error_reply(
    kind: str,
    message: str,
    *,
    file: str | None = None,
    line: int | None = None,
    source_line: str | None = None,
    traceback_text: str | None = None,
) -> dict[str, Any]:
    return {
        "protocol": PROTOCOL,
        "ok": False,
        "error": {
            "type": kind,
            "message": message,
            "file": file,
            "line": line,
            "source_line": source_line,
            "traceback": traceback_text,
        },
    }


def _reply(fd: int, reply: dict[str, Any]) -> None:
    text = json.dumps(reply)
    sys.stderr.flush()
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)
    # Leave at once: threads the definition started must not keep us alive or write more.
    os._exit(0)


if __name__ == "__main__":
    main()
