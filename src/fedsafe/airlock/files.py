"""Reading a workspace's outputs safely: only what the manifest lists as moderately sensitive,
only inside the workspace, only allowed file types and sizes.

A path from a browser or a form is untrusted. It is accepted only if it is a plain relative
path (no ``..``, no absolute path, no backslashes), every part of it is a real folder or file
(no symlinks anywhere on the way) and it stays under the workspace once resolved. The manifest
says each output's level; a file it does not list, or lists as ``highly_sensitive``, is never
shown or released.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from fedsafe.airlock.config import AirlockConfig
from fedsafe.airlock.errors import AirlockError, PolicyRefused
from fedsafe.disclosure.sidecar import SIDECAR_SUFFIX

__all__ = [
    "OutputFile",
    "list_outputs",
    "resolve_output",
    "review_digest",
    "sha256_of",
    "sidecar_of",
    "workspace_dir",
]

RELEASABLE = "moderately_sensitive"
_WORKSPACE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


@dataclass(frozen=True)
class OutputFile:
    workspace: str
    path: str  # relative to the workspace, e.g. "output/table.csv"
    level: str
    size: int
    sha256: str  # as the manifest recorded it
    absolute: Path


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def sidecar_of(config: AirlockConfig, output: OutputFile) -> OutputFile | None:
    """The disclosure sidecar (``<output>.disclosure.json``) that travels with ``output``.

    A sidecar says which columns of a table are counts and which rules made them safe; the
    automated checks read it with the table, and pooling released tables needs it. So it is
    reviewed, approved and released as part of its table, never on its own. It must be an
    output like any other (in the manifest, moderately sensitive, no symlink): anything else
    is refused, as the table would be.
    """
    if output.path.endswith(SIDECAR_SUFFIX):
        return None
    candidate = output.absolute.with_name(output.absolute.name + SIDECAR_SUFFIX)
    if not candidate.exists() and not candidate.is_symlink():
        return None
    return resolve_output(config, output.workspace, output.path + SIDECAR_SUFFIX)


def review_digest(output: OutputFile, sidecar: OutputFile | None) -> str:
    """What a review approves: the file's bytes, and its sidecar's when it has one, so that
    changing either after review resets the votes and stops the release."""
    if sidecar is None:
        return sha256_of(output.absolute)
    digest = hashlib.sha256(b"fedsafe airlock: output with sidecar\0")
    digest.update(bytes.fromhex(sha256_of(output.absolute)))
    digest.update(bytes.fromhex(sha256_of(sidecar.absolute)))
    return digest.hexdigest()


def workspace_dir(config: AirlockConfig, workspace: str) -> Path:
    if not _WORKSPACE.match(workspace or ""):
        raise AirlockError(f"not a workspace name: {workspace!r}", field="workspace")
    folder = config.workspaces_dir / workspace
    if folder.is_symlink() or not folder.is_dir():
        raise AirlockError(f"no workspace named {workspace!r}", field="workspace")
    return folder


def _manifest(folder: Path) -> dict[str, dict]:
    path = folder / "metadata" / "manifest.json"
    try:
        outputs = json.loads(path.read_text(encoding="utf-8"))["outputs"]
    except FileNotFoundError:
        return {}
    except (ValueError, KeyError, TypeError) as exc:
        raise AirlockError(f"{path}: damaged manifest ({exc})", field="manifest") from None
    if not isinstance(outputs, dict):
        raise AirlockError(f"{path}: 'outputs' is not a table", field="manifest")
    return outputs


def _safe_relative(path: str) -> PurePosixPath:
    if not path or "\\" in path or "\x00" in path:
        raise PolicyRefused(f"not a plain relative path: {path!r}", field="path")
    pure = PurePosixPath(path)
    if pure.is_absolute() or any(part in ("..", ".", "") for part in path.split("/")):
        raise PolicyRefused(f"path tricks are refused: {path!r}", field="path")
    return pure


def resolve_output(config: AirlockConfig, workspace: str, path: str) -> OutputFile:
    """The output at ``path`` in ``workspace``, if it may be seen in the airlock at all."""
    folder = workspace_dir(config, workspace)
    relative = _safe_relative(path)
    current = folder
    for part in relative.parts:
        current = current / part
        if current.is_symlink():
            raise PolicyRefused(f"symlinks are refused: {path!r}", field="path")
    if not current.is_file():
        raise AirlockError(f"no file {path!r} in workspace {workspace!r}", field="path")
    if not current.resolve().is_relative_to(folder.resolve()):
        raise PolicyRefused(f"{path!r} is outside the workspace", field="path")
    record = _manifest(folder).get(path)
    if record is None:
        raise PolicyRefused(f"{path!r} is not an output in the manifest", field="path")
    level = record.get("level") if isinstance(record, dict) else None
    if level != RELEASABLE:
        raise PolicyRefused(
            f"{path!r} is {level}; only {RELEASABLE} outputs are visible in the airlock",
            field="path",
        )
    suffix = current.suffix.lower()
    if suffix not in config.allowed_suffixes:
        raise PolicyRefused(
            f"{path!r}: file type {suffix or '(none)'} is not allowed; allowed: "
            + ", ".join(config.allowed_suffixes),
            field="path",
        )
    size = current.stat().st_size
    if size > config.max_file_bytes:
        raise PolicyRefused(
            f"{path!r} is {size} bytes, over the limit of {config.max_file_bytes}", field="path"
        )
    return OutputFile(workspace, path, level, size, str(record.get("sha256", "")), current)


def list_outputs(config: AirlockConfig, workspace: str) -> list[OutputFile]:
    """The moderately sensitive outputs of a workspace that pass the path and type rules."""
    folder = workspace_dir(config, workspace)
    found = []
    for path, record in sorted(_manifest(folder).items()):
        if not isinstance(record, dict) or record.get("level") != RELEASABLE:
            continue
        try:
            found.append(resolve_output(config, workspace, path))
        except AirlockError:
            continue
    return found
