"""Fetching a workspace's code at exactly the commit a job names, into a fresh folder.

The commit must be a full 40-character id and reachable from the workspace's branch as the
repository has it now: a commit that is not (a typo, a commit pushed elsewhere, one removed
by a force-push) is refused rather than guessed at. The checkout is detached at that commit
and its ``.git`` folder removed, so an action sees the code and nothing of its history.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

from fedsafe.errors import FedsafeError

__all__ = ["WorkspaceFetchError", "check_out"]

_COMMIT = re.compile(r"^[0-9a-f]{40}$")
_GIT_TIMEOUT = 600
# Only these transports, whatever URL the coordinator sends: never ext:: (which runs commands).
_PROTOCOLS = (
    "-c",
    "protocol.allow=never",
    *("-c", "protocol.https.allow=always"),
    *("-c", "protocol.ssh.allow=always"),
    *("-c", "protocol.file.allow=always"),
)


class WorkspaceFetchError(FedsafeError):
    """The workspace's repository could not be fetched at the requested commit."""


def _git(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/nonexistent"),
        "GIT_TERMINAL_PROMPT": "0",  # never wait for a password nobody will type
        "GIT_CONFIG_NOSYSTEM": "1",
        "LC_ALL": "C",
    }
    try:
        return subprocess.run(
            ["git", *args],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=_GIT_TIMEOUT,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise WorkspaceFetchError(f"git {args[0]} did not run: {exc}") from None


def check_out(repo_url: str, branch: str, commit: str, target: Path) -> Path:
    """Put the code of ``commit`` (reachable from ``branch``) in ``target``, a new folder."""
    if not _COMMIT.match(commit):
        raise WorkspaceFetchError(f"{commit!r} is not a full 40-character commit id")
    if target.exists():
        shutil.rmtree(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    cloned = _git(
        *_PROTOCOLS,
        "clone",
        "--quiet",
        "--no-checkout",
        "--branch",
        branch,
        "--",
        repo_url,
        str(target),
    )
    if cloned.returncode != 0:
        raise WorkspaceFetchError(
            f"could not clone branch {branch!r} of {repo_url}: {cloned.stderr.strip()[:300]}"
        )
    exists = _git("cat-file", "-e", f"{commit}^{{commit}}", cwd=target)
    if exists.returncode != 0:
        raise WorkspaceFetchError(f"commit {commit} is not in {repo_url}")
    reachable = _git("merge-base", "--is-ancestor", commit, f"origin/{branch}", cwd=target)
    if reachable.returncode != 0:
        raise WorkspaceFetchError(
            f"commit {commit} is not reachable from branch {branch!r} of {repo_url}"
        )
    checked = _git("-c", "advice.detachedHead=false", "checkout", "--quiet", commit, cwd=target)
    if checked.returncode != 0:
        raise WorkspaceFetchError(f"could not check out {commit}: {checked.stderr.strip()[:300]}")
    shutil.rmtree(target / ".git")
    return target
