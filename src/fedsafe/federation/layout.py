"""Finding the released files: ``RELEASED_DIR/<backend>/<path>``, grouped by path.

The same path released by several backends is one output of the study, produced once per
backend, so those files are combined with each other. Symbolic links are refused rather than
followed: the combine step must read only what was released into this folder.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from fedsafe.disclosure.sidecar import SIDECAR_SUFFIX
from fedsafe.federation.errors import ReleasedFilesError

__all__ = ["BACKEND_NAME", "ReleasedFiles", "find_released"]

BACKEND_NAME = re.compile(r"[a-z0-9][a-z0-9_-]*")


@dataclass(frozen=True)
class ReleasedFiles:
    """Released files by relative path, then by backend (each sorted by name)."""

    root: Path
    backends: tuple[str, ...]
    files: Mapping[str, Mapping[str, Path]]


def find_released(root: Path) -> ReleasedFiles:
    """The released files under ``root``; a bad layout raises naming the offending path."""
    root = Path(root)
    if not root.is_dir():
        raise ReleasedFilesError(
            f"{root}: no such folder; expected a folder with one sub-folder per backend"
        )
    backends: list[str] = []
    files: dict[str, dict[str, Path]] = {}
    for folder in sorted(root.iterdir()):
        if folder.name.startswith("."):
            continue
        if folder.is_symlink() or not folder.is_dir():
            raise ReleasedFilesError(
                f"{folder}: expected only folders here, one per backend, named after it"
            )
        if not BACKEND_NAME.fullmatch(folder.name):
            raise ReleasedFilesError(
                f"{folder}: {folder.name!r} is not a backend name (lower-case letters, digits, "
                "'_' and '-', starting with a letter or digit)"
            )
        backends.append(folder.name)
        for path in sorted(folder.rglob("*")):
            if path.is_symlink():
                raise ReleasedFilesError(f"{path}: a symbolic link; released files must be files")
            if not path.is_file() or path.name.endswith(SIDECAR_SUFFIX):
                continue
            if any(part.startswith(".") for part in path.relative_to(folder).parts):
                continue
            relative = path.relative_to(folder).as_posix()
            files.setdefault(relative, {})[folder.name] = path
    if not backends:
        raise ReleasedFilesError(f"{root}: no backend folders; expected {root}/<backend>/<files>")
    return ReleasedFiles(root, tuple(backends), {k: files[k] for k in sorted(files)})
