"""Turning an action's runtime and arguments into a command line for this machine."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import fedsafe
from fedsafe.executors.runtimes.python_v1 import (
    RuntimeError_,
    ensure_helpers,
    ensure_python_v1,
    helpers_id,
    python_v1_id,
)

__all__ = ["Prepared", "prepare", "runtime_id"]

# Where R reads its own configuration; the rest of R is under /usr, which is always readable.
R_READ_PATHS = ("/etc/R", "/usr/local/lib/R", "/etc/fonts")
# Font configuration, which matplotlib's text rendering reads.
PYTHON_READ_PATHS = ("/etc/fonts",)


@dataclass(frozen=True)
class Prepared:
    """A command ready to run, and whether it is untrusted code that must be confined."""

    command: tuple[str, ...]
    confined: bool
    read_paths: tuple[str, ...] = ()
    env: tuple[tuple[str, str], ...] = ()


def runtime_id(runtime: str) -> str:
    """What identifies a runtime's exact contents, for deciding whether to re-run an action."""
    if runtime == "python:v1":
        return f"python:v1/{python_v1_id()}/{helpers_id()}"
    if runtime == "r:v1":
        return f"r:v1/{_r_version()}"
    return f"fedsafe:v1/{fedsafe.__version__}"


def prepare(runtime: str, args: tuple[str, ...], config: Mapping[str, Any] | None) -> Prepared:
    """The command for ``runtime`` with ``args``; ``config`` is passed as ``--config JSON``,
    as OpenSAFELY passes it to reusable actions."""
    extra = ("--config", json.dumps(config, sort_keys=True)) if config is not None else ()
    if runtime == "fedsafe:v1":
        # Trusted code: it confines the dataset definition itself (see fedsafe.loader).
        return Prepared((sys.executable, "-I", "-m", "fedsafe.cli", *args), confined=False)
    if runtime == "python:v1":
        env = ensure_python_v1()
        helpers = ensure_helpers()
        return Prepared(
            (str(env / "bin" / "python"), *args, *extra),
            confined=True,
            read_paths=(str(env), str(helpers), *PYTHON_READ_PATHS),
            env=(("PYTHONPATH", str(helpers)),),
        )
    if runtime == "r:v1":
        return Prepared(
            (_rscript(), "--vanilla", *args, *extra), confined=True, read_paths=R_READ_PATHS
        )
    raise RuntimeError_(f"unknown runtime {runtime!r}")


def _rscript() -> str:
    found = shutil.which("Rscript")
    if found is None:
        raise RuntimeError_(
            "r:v1 needs R, which is not installed on this machine (there is no Rscript on "
            "PATH); install it, for example with 'apt-get install r-base-core' on Debian or "
            "Ubuntu, or from https://cran.r-project.org"
        )
    return found


def _r_version() -> str:
    try:
        done = subprocess.run(
            [_rscript(), "--version"], capture_output=True, text=True, check=False, timeout=60
        )
    except RuntimeError_:
        return "not-installed"
    return (done.stdout + done.stderr).strip().splitlines()[0] if done.returncode == 0 else "?"
