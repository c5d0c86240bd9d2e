"""The ``python:v1`` runtime: a virtual environment built by uv from the lock file we ship.

It comes in two layers. The environment holds only the locked packages and is cached by the
hash of the lock file; the helpers layer is a small folder, put on ``PYTHONPATH``, holding
``fedsafe_analysis`` and a copy of fedsafe's own pure-Python code, so that scripts can use
fedsafe's safe output helpers (``from fedsafe.disclosure import safe_counts``) with no
dependency outside the lock. Keeping them apart means a new fedsafe version costs a copy of a
few hundred kilobytes, not a new environment.

The same lock file (exact versions and hashes of pandas, numpy, scipy, statsmodels,
matplotlib, pyarrow and everything they need) is installed on a laptop and in a backend, so an
analysis gives the same answer in both. An environment is built once per machine and cached
under a name made from the hash of everything that goes into it (lock file, helpers, Python
version, machine type); a changed lock file therefore gets a new environment rather than
changing an old one under a study's feet.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import platform
import shutil
import subprocess
import sys
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

import fedsafe
from fedsafe.errors import FedsafeError

__all__ = [
    "RuntimeError_",
    "cache_root",
    "ensure_helpers",
    "ensure_python_v1",
    "helpers_id",
    "python_v1_id",
]

PYTHON_VERSION = "3.11"


class RuntimeError_(FedsafeError):
    """A runtime could not be found or built; the message says what to install or fix."""


def _resource(name: str) -> bytes:
    return resources.files("fedsafe.executors.runtimes").joinpath(name).read_bytes()


def cache_root() -> Path:
    """Where built runtimes live: ``$FEDSAFE_CACHE_DIR``, else the user's cache folder."""
    configured = os.environ.get("FEDSAFE_CACHE_DIR")
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "fedsafe"


def python_v1_id() -> str:
    """The identity of the python:v1 environment: a hash of everything that makes it up."""
    digest = hashlib.sha256()
    for part in (
        _resource("python-v1.lock"),
        PYTHON_VERSION.encode(),
        platform.machine().encode(),
    ):
        digest.update(hashlib.sha256(part).digest())
    return digest.hexdigest()[:16]


def ensure_python_v1(log: object = None) -> Path:
    """The folder of a built python:v1 environment, building it first if needed.

    Builds happen in a temporary folder renamed into place when complete, under a file lock,
    so an interrupted or concurrent build never leaves a half-made environment in use.
    """
    _check_interpreter()
    root = cache_root() / "runtimes"
    target = root / f"python-v1-{python_v1_id()}"
    if (target / ".complete").exists():
        return target
    root.mkdir(parents=True, exist_ok=True)
    with _locked(root / ".lock"):
        if (target / ".complete").exists():
            return target
        building = root / f".building-{target.name}"
        shutil.rmtree(building, ignore_errors=True)
        _build(building, log)
        (building / ".complete").write_text("")
        shutil.rmtree(target, ignore_errors=True)
        os.rename(building, target)
    return target


def _check_interpreter() -> None:
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    if version != PYTHON_VERSION:
        raise RuntimeError_(
            f"python:v1 is Python {PYTHON_VERSION}, but fedsafe is running on Python {version}; "
            f"install fedsafe with Python {PYTHON_VERSION} so the runtime matches every backend"
        )


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _uv() -> str:
    try:
        from uv import find_uv_bin
    except ImportError:
        found = shutil.which("uv")
        if found is None:
            raise RuntimeError_(
                "python:v1 is built with uv, which is not installed; reinstall fedsafe"
            ) from None
        return found
    return str(find_uv_bin())


def _build(folder: Path, log: object) -> None:
    lock_file = folder.parent / f"{folder.name}.lock.txt"
    lock_file.write_bytes(_resource("python-v1.lock"))
    env = {
        key: value
        for key, value in os.environ.items()
        if key in ("PATH", "HOME", "SSL_CERT_FILE", "SSL_CERT_DIR", "HTTPS_PROXY", "https_proxy")
    }
    env["UV_CACHE_DIR"] = str(cache_root() / "uv")
    env["UV_PYTHON_DOWNLOADS"] = "never"  # the machine's Python, never a downloaded one
    commands = [
        [_uv(), "venv", "--quiet", "--relocatable", "--python", sys.executable, str(folder)],
        [
            _uv(),
            "pip",
            "sync",
            "--quiet",
            "--require-hashes",
            "--python",
            str(folder / "bin" / "python"),
            str(lock_file),
        ],
    ]
    try:
        for command in commands:
            done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
            if done.returncode != 0:
                raise RuntimeError_(
                    "building the python:v1 environment failed ("
                    + " ".join(command[1:3])
                    + f"): {done.stderr.strip()[-2000:]}"
                )
    finally:
        lock_file.unlink(missing_ok=True)


def _helper_files() -> list[tuple[str, Path]]:
    """(path in the helpers folder, source file) for fedsafe's code and fedsafe_analysis."""
    package = Path(fedsafe.__file__).resolve().parent
    files = [
        (f"fedsafe/{path.relative_to(package).as_posix()}", path)
        for path in sorted(package.rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    ]
    files.append(("fedsafe_analysis.py", package / "executors/runtimes/fedsafe_analysis.py"))
    return files


def helpers_id() -> str:
    """The identity of the helpers layer: a hash of every file in it."""
    digest = hashlib.sha256()
    for name, path in _helper_files():
        digest.update(name.encode() + b"\0" + hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()[:16]


def ensure_helpers() -> Path:
    """The folder to put on ``PYTHONPATH`` for python:v1 actions, made if needed."""
    root = cache_root() / "runtimes"
    target = root / f"python-v1-helpers-{helpers_id()}"
    if (target / ".complete").exists():
        return target
    root.mkdir(parents=True, exist_ok=True)
    with _locked(root / ".lock"):
        if (target / ".complete").exists():
            return target
        building = root / f".building-{target.name}"
        shutil.rmtree(building, ignore_errors=True)
        for name, path in _helper_files():
            (building / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, building / name)
        (building / ".complete").write_text("")
        shutil.rmtree(target, ignore_errors=True)
        os.rename(building, target)
    return target
