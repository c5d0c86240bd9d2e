"""Reading a few files of a workspace's repository at one commit (``project.yaml``, a policy
file), for the combine step: fetched into a temporary folder that is removed afterwards, so the
coordinator keeps no one's code."""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

from fedsafe.coordinator.errors import CoordinatorError
from fedsafe.coordinator.validation import check_commit

__all__ = ["GitReadError", "read_files_at"]

MAX_BYTES = 1_000_000


class GitReadError(CoordinatorError):
    """The repository or a file in it could not be read at that commit."""


def _git(args: list[str], cwd: Path, timeout: float) -> subprocess.CompletedProcess[bytes]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "GIT_TERMINAL_PROMPT": "0",  # never wait for a password
        "GIT_ALLOW_PROTOCOL": "https:ssh:file",  # no ext:: or other command transports
        "HOME": os.environ.get("HOME", "/nonexistent"),
        "GIT_CONFIG_NOSYSTEM": "1",
    }
    try:
        return subprocess.run(
            ["git", *args], cwd=cwd, capture_output=True, timeout=timeout, env=env, check=False
        )
    except subprocess.TimeoutExpired:
        raise GitReadError(f"git {args[0]} did not finish within {timeout:g} s") from None


def read_files_at(
    repo_url: str, commit: str, paths: list[str], timeout: float = 120
) -> dict[str, bytes | None]:
    """The contents of ``paths`` at ``commit`` (None for a path that does not exist there).

    Only that one commit is fetched (``--depth 1``), into a folder deleted on return."""
    commit = check_commit(commit)
    with tempfile.TemporaryDirectory(prefix="fedsafe-git-") as folder:
        where = Path(folder)
        init = _git(["init", "-q", "--bare", "."], where, timeout)
        if init.returncode != 0:
            raise GitReadError(f"git init failed: {init.stderr.decode(errors='replace')[:300]}")
        fetch = _git(
            ["fetch", "-q", "--depth", "1", "--no-tags", "--", repo_url, commit], where, timeout
        )
        if fetch.returncode != 0:
            detail = fetch.stderr.decode(errors="replace").strip()[-300:]
            raise GitReadError(f"cannot fetch commit {commit} from {repo_url}: {detail}")
        found: dict[str, bytes | None] = {}
        for path in paths:
            size = _git(["cat-file", "-s", f"{commit}:{path}"], where, timeout)
            if size.returncode != 0:
                found[path] = None
                continue
            if int(size.stdout.strip() or 0) > MAX_BYTES:
                raise GitReadError(f"{path} at {commit} is over {MAX_BYTES} bytes")
            show = _git(["cat-file", "blob", f"{commit}:{path}"], where, timeout)
            if show.returncode != 0:
                raise GitReadError(f"cannot read {path} at {commit}")
            found[path] = show.stdout
        return found
