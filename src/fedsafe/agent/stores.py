"""The backend's two output stores, and moving a job's outputs into them without ever leaving
a half-written set behind.

Both stores keep one folder per workspace, laid out as ``fedsafe run`` lays out a project and
as the airlock reads it: ``workspaces/NAME/<output paths>`` and
``workspaces/NAME/metadata/manifest.json``. The high-privacy store holds every output; the
medium-privacy store (the airlock's backend folder) only the moderately sensitive ones, so
a highly sensitive file is never even present where the airlock looks.

Committing is a journal rolled forward: :meth:`Stores.stage` copies the outputs into each
store's ``.staging/job-ID`` folder (same file system, so later renames are atomic) and returns
their hashes, which the caller records in its state; :meth:`Stores.commit` then renames each
file into place and finally replaces the manifest (itself written to a temporary file and
renamed). ``commit`` can be repeated after a crash at any point and ends in the same state;
readers trust only what the manifest lists, and the manifest changes in one rename.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fedsafe.errors import FedsafeError
from fedsafe.pipeline.manifest import ActionRecord, Manifest, OutputRecord, sha256_file

__all__ = ["StoreError", "Stores", "check_workspace_name"]

HIGH, MEDIUM = "highly_sensitive", "moderately_sensitive"
_WORKSPACE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


class StoreError(FedsafeError):
    """A backend store is missing an output it should hold, or holds a damaged one."""


def check_workspace_name(name: str) -> str:
    if not _WORKSPACE.match(name) or name in (".", ".."):
        raise StoreError(f"{name!r} is not a workspace name this backend can store outputs for")
    return name


def _safe_relative(path: str) -> str:
    parts = path.split("/")
    if path.startswith("/") or "\\" in path or any(p in ("", ".", "..") for p in parts):
        raise StoreError("an output path is not a plain relative path")
    return path


@dataclass(frozen=True)
class Stores:
    high: Path
    medium: Path

    def folder(self, store: Path, workspace: str) -> Path:
        return store / "workspaces" / check_workspace_name(workspace)

    def _staging(self, store: Path, job_id: int) -> Path:
        return store / ".staging" / f"job-{job_id}"

    def _targets(self, level: str) -> list[Path]:
        return [self.high, self.medium] if level == MEDIUM else [self.high]

    # --- reading what earlier jobs stored -----------------------------------------------------

    def copy_needs(self, workspace: str, needs: tuple[str, ...], into: Path) -> list[str]:
        """Copy the stored outputs of ``needs`` into a working copy and record them in its
        manifest, hash-checked. Returns the needs that have never succeeded here."""
        folder = self.folder(self.high, workspace)
        stored = Manifest.load(folder) if folder.is_dir() else Manifest()
        local = Manifest.load(into)
        missing = []
        for need in needs:
            record = stored.actions.get(need)
            if record is None or record.status != "succeeded":
                missing.append(need)
                continue
            for path in record.outputs:
                output = stored.outputs[path]
                source = folder / _safe_relative(path)
                if not source.is_file() or sha256_file(source) != output.sha256:
                    raise StoreError(
                        f"the high-privacy store's copy of an output of {need!r} is missing or "
                        "damaged; run that action again"
                    )
                target = into / path
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, target)
                local.outputs[path] = output
            local.actions[need] = record
        local.save(into)
        return missing

    # --- writing a job's outputs ----------------------------------------------------------------

    def stage(
        self, job_id: int, source: Path, outputs: dict[str, OutputRecord]
    ) -> dict[str, dict[str, Any]]:
        """Copy a finished action's outputs into the staging folders; their facts, by path."""
        for store in (self.high, self.medium):
            shutil.rmtree(self._staging(store, job_id), ignore_errors=True)
        facts: dict[str, dict[str, Any]] = {}
        for path, record in sorted(outputs.items()):
            file = source / _safe_relative(path)
            digest = sha256_file(file)
            if digest != record.sha256:
                raise StoreError("an output changed after its action finished")
            for store in self._targets(record.level):
                target = self._staging(store, job_id) / path
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(file, target)
                _fsync(target)
            facts[path] = {"level": record.level, "sha256": digest, "size": record.size}
        return facts

    def commit(
        self,
        job_id: int,
        workspace: str,
        action: str,
        facts: dict[str, dict[str, Any]],
        pause: Any = None,
    ) -> None:
        """Move staged outputs into place and record them; safe to repeat after a crash."""
        for store in (self.high, self.medium):
            levels = (HIGH, MEDIUM) if store == self.high else (MEDIUM,)
            mine = {p: f for p, f in facts.items() if f["level"] in levels}
            folder = self.folder(store, workspace)
            staging = self._staging(store, job_id)
            for path, fact in sorted(mine.items()):
                staged, final = staging / path, folder / _safe_relative(path)
                if staged.is_file():
                    final.parent.mkdir(parents=True, exist_ok=True)
                    os.replace(staged, final)
                    if pause:
                        pause("mid_commit")
                elif not final.is_file() or sha256_file(final) != fact["sha256"]:
                    raise StoreError(
                        "a staged output is neither staged nor in the store; the job's "
                        "outputs are lost and it must run again"
                    )
            manifest = Manifest.load(folder) if (folder / "metadata").is_dir() else Manifest()
            previous = manifest.actions.get(action)
            for path in previous.outputs if previous else ():
                if path not in mine:
                    (folder / path).unlink(missing_ok=True)
                    manifest.outputs.pop(path, None)
            for path, fact in mine.items():
                manifest.outputs[path] = OutputRecord(
                    action, fact["level"], fact["size"], fact["sha256"]
                )
            manifest.actions[action] = ActionRecord(
                f"job-{job_id}",
                "succeeded",
                time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                tuple(sorted(mine)),
            )
            folder.mkdir(parents=True, exist_ok=True)
            manifest.save(folder)
            shutil.rmtree(staging, ignore_errors=True)

    def discard_staging(self, job_id: int) -> None:
        for store in (self.high, self.medium):
            shutil.rmtree(self._staging(store, job_id), ignore_errors=True)

    def keep_log(self, job_id: int, attempt: int, log: Path) -> None:
        """The action's log stays in the backend, beside the high-privacy outputs."""
        if log.is_file():
            target = self.high / "logs" / f"job-{job_id}-attempt-{attempt}.log"
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(log, target)


def _fsync(path: Path) -> None:
    with path.open("rb") as file:
        os.fsync(file.fileno())
