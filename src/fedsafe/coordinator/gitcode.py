"""Reading a workspace's code at one commit, for crates and TES checks: one shallow fetch into
a throw-away repository, then ``git show`` (project.yaml) or ``git archive`` (the zip a crate
carries). Nothing is kept afterwards."""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

from fedsafe.coordinator.errors import FieldError

__all__ = ["archive_zip", "read_file"]

_TIMEOUT = 60


def _env() -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_ALLOW_PROTOCOL": "https:ssh:file",  # no ext:: or other command transports
        "HOME": os.environ.get("HOME", "/nonexistent"),
        "GIT_CONFIG_NOSYSTEM": "1",
    }


def _git(repo: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["git", "-C", str(repo), *args],
        capture_output=True,
        env=_env(),
        timeout=_TIMEOUT,
        check=False,
    )


def _fetched(repo_url: str, commit: str, where: Path) -> Path:
    repo = where / "repo.git"
    subprocess.run(["git", "init", "-q", "--bare", str(repo)], env=_env(), check=True)
    done = _git(repo, "fetch", "-q", "--depth", "1", "--", repo_url, commit)
    if done.returncode != 0:
        raise FieldError("commit", f"cannot fetch commit {commit} from {repo_url}")
    return repo


def read_file(repo_url: str, commit: str, path: str) -> str:
    """The text of ``path`` at ``commit``; FieldError if it or the commit does not exist."""
    with tempfile.TemporaryDirectory() as tmp:
        repo = _fetched(repo_url, commit, Path(tmp))
        done = _git(repo, "show", f"{commit}:{path}")
        if done.returncode != 0:
            raise FieldError("commit", f"{path} does not exist at {commit}")
        return done.stdout.decode("utf-8", "replace")


def archive_zip(repo_url: str, commit: str) -> bytes:
    """``git archive --format=zip`` of the whole tree at ``commit``."""
    with tempfile.TemporaryDirectory() as tmp:
        repo = _fetched(repo_url, commit, Path(tmp))
        done = _git(repo, "archive", "--format=zip", commit)
        if done.returncode != 0:
            raise FieldError("commit", f"git archive of {commit} failed")
        return done.stdout
