"""The job's encrypted store for linked rows, its destruction, and the watchdog.

Linked rows are written only encrypted (AES-256-GCM) under a data key made for the job. The key
lives in the job process's memory and is never written to disk: a key file would survive a
``kill -9`` next to the ciphertext it opens, whereas a key in memory dies with the process, so
whatever a crash leaves behind is undecryptable by construction. Ending a job (success, failure,
cancel) destroys the store: the files are overwritten and removed, the in-memory key is zeroed
and dropped, and a ``deleted`` record is handed to the audit log.

A crashed job cannot clean up after itself, so :func:`sweep` (the watchdog, run by the agent on
start and on a timer) removes every store whose owner process is gone or whose lifetime has
expired, and reports a ``deleted`` record for each.

Each store's ``manifest.json`` holds no secret: the job, the project, the owner process and its
start time (so a reused process id is not mistaken for the owner), and the expiry.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import resource
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from fedsafe.linkage.errors import VaultError

__all__ = ["Deletion", "JobVault", "no_core_dumps", "sweep"]

MANIFEST = "manifest.json"
_SUFFIX = ".enc"


@dataclass(frozen=True)
class Deletion:
    """What the audit log records when a store is destroyed."""

    project: str
    job_id: str
    reason: str  # success, failure, cancelled, expired, owner gone, damaged
    files: int
    bytes: int
    data_key_id: str
    at: datetime.datetime


OnDeleted = Callable[[Deletion], None]


def no_core_dumps() -> None:
    """Stop this process from writing a core dump (which would hold the key and rows)."""
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _process_start(pid: int) -> str | None:
    """The kernel's start time of ``pid`` (field 22 of /proc/PID/stat), or None if gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    after_name = stat.rsplit(")", 1)[-1].split()
    # after the ")" come field 3 (state) onwards; the start time is field 22
    return after_name[19] if len(after_name) > 19 else None


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


class JobVault:
    """One job's encrypted store. Use as a context manager so every ending destroys it."""

    def __init__(
        self,
        directory: Path,
        *,
        project: str,
        job_id: str,
        key: bytearray,
        on_deleted: OnDeleted,
    ) -> None:
        self.directory = directory
        self.project = project
        self.job_id = job_id
        self._key: bytearray | None = key
        self._on_deleted = on_deleted
        self.data_key_id = hashlib.sha256(bytes(key)).hexdigest()[:16]

    @classmethod
    def create(
        cls,
        root: Path,
        *,
        project: str,
        job_id: str,
        expires_at: datetime.datetime,
        on_deleted: OnDeleted,
    ) -> JobVault:
        if expires_at.tzinfo is None:
            raise ValueError("expires_at must be timezone-aware")
        directory = Path(root) / _safe_name(job_id)
        Path(root).mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            directory.mkdir(mode=0o700)
        except FileExistsError:
            raise VaultError(
                f"job {job_id} already has a store for linked data; a job links once"
            ) from None
        manifest = {
            "project": project,
            "job_id": job_id,
            "owner_pid": os.getpid(),
            "owner_start": _process_start(os.getpid()),
            "expires_at": expires_at.isoformat(),
        }
        _write_atomic(directory / MANIFEST, json.dumps(manifest).encode())
        key = bytearray(AESGCM.generate_key(bit_length=256))
        return cls(directory, project=project, job_id=job_id, key=key, on_deleted=on_deleted)

    def __enter__(self) -> JobVault:
        return self

    def __exit__(self, kind: type | None, *_: Any) -> None:
        if self._key is None:
            return
        if kind is None:
            self.destroy("success")
        elif issubclass(kind, KeyboardInterrupt):
            self.destroy("cancelled")
        else:
            self.destroy("failure")

    def _aead(self) -> AESGCM:
        if self._key is None:
            raise VaultError(f"job {self.job_id}'s linked data has been destroyed")
        if not self.directory.is_dir():
            raise VaultError(f"job {self.job_id}'s linked data was removed (expired?)")
        return AESGCM(bytes(self._key))

    def _binding(self, name: str) -> bytes:
        return json.dumps(["fedsafe-linkage-vault", self.project, self.job_id, name]).encode()

    def put(self, name: str, data: bytes) -> None:
        aead = self._aead()
        nonce = os.urandom(12)
        sealed = nonce + aead.encrypt(nonce, data, self._binding(name))
        _write_atomic(self.directory / (_safe_name(name) + _SUFFIX), sealed)

    def get(self, name: str) -> bytes:
        aead = self._aead()
        path = self.directory / (_safe_name(name) + _SUFFIX)
        try:
            sealed = path.read_bytes()
        except FileNotFoundError:
            raise VaultError(f"job {self.job_id} has no linked data named {name!r}") from None
        try:
            return aead.decrypt(sealed[:12], sealed[12:], self._binding(name))
        except InvalidTag:
            raise VaultError(f"job {self.job_id}'s linked data {name!r} is damaged") from None

    def destroy(self, reason: str) -> Deletion:
        """Zero the key, overwrite and remove the files, and report the deletion."""
        if self._key is not None:
            for index in range(len(self._key)):
                self._key[index] = 0
            self._key = None
        deletion = _remove(
            self.directory, self.project, self.job_id, reason, self.data_key_id, _now()
        )
        self._on_deleted(deletion)
        return deletion


def _safe_name(name: str) -> str:
    if not name or not all(c.isalnum() or c in "-_." for c in name) or name.startswith("."):
        raise VaultError(f"{name!r} cannot name a file in the vault (letters, digits, - _ .)")
    return name


def _write_atomic(path: Path, data: bytes) -> None:
    temporary = path.with_name(path.name + ".part")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(data)
        file.flush()
        os.fsync(file.fileno())
    os.replace(temporary, path)


def _remove(
    directory: Path,
    project: str,
    job_id: str,
    reason: str,
    key_id: str,
    at: datetime.datetime,
) -> Deletion:
    files = size = 0
    if directory.is_dir():
        for path in sorted(directory.iterdir()):
            if path.is_file() and not path.is_symlink():
                length = path.stat().st_size
                with path.open("r+b") as file:  # overwrite first: cheap, and defeats undelete
                    file.write(b"\0" * length)
                    file.flush()
                    os.fsync(file.fileno())
                files += 1
                size += length
        shutil.rmtree(directory)
    return Deletion(project, job_id, reason, files, size, key_id, at)


def _stores(root: Path) -> Iterator[Path]:
    if root.is_dir():
        yield from sorted(p for p in root.iterdir() if p.is_dir())


def sweep(root: Path | str, now: datetime.datetime, on_deleted: OnDeleted) -> list[Deletion]:
    """The watchdog: destroy every store whose owner is gone or whose lifetime has ended."""
    found = []
    for directory in _stores(Path(root)):
        try:
            manifest = json.loads((directory / MANIFEST).read_text())
            project, job_id = str(manifest["project"]), str(manifest["job_id"])
            expires_at = datetime.datetime.fromisoformat(manifest["expires_at"])
            pid, start = int(manifest["owner_pid"]), manifest["owner_start"]
        except (OSError, ValueError, KeyError, TypeError):
            # A store with no readable manifest holds only ciphertext whose key is gone.
            project, job_id, reason = "", directory.name, "damaged"
        else:
            if now >= expires_at:
                reason = "expired"
            elif _process_start(pid) is None or _process_start(pid) != start:
                reason = "owner gone"
            else:
                continue
        deletion = _remove(directory, project, job_id, reason, "", now)
        on_deleted(deletion)
        found.append(deletion)
    return found
