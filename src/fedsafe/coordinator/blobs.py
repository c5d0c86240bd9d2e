"""The coordinator's content-addressed file store: ``DATA_DIR/blobs/<ab>/<sha256>``.

Released files and combined results are kept by the SHA-256 of their bytes, so a file released
twice is stored once, a stored file can be checked against its name at any time, and nothing a
backend sends can choose where on disk it lands (the name is the hash, never the path it gave).
Incoming bytes go to ``DATA_DIR/incoming`` first and are moved into place only once their hash
is known and accepted, so a refused upload leaves nothing in the store.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fedsafe.coordinator.errors import CoordinatorError

__all__ = ["DEFAULT_DATA_DIR", "BlobStore", "Incoming", "TooLarge", "data_dir"]

DEFAULT_DATA_DIR = "fedsafe-coordinator-data"
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_CHUNK = 1 << 16


class TooLarge(CoordinatorError):
    """More bytes arrived than the limit allows; nothing was kept."""


def data_dir(explicit: str | None, database: Mapping[str, Any], default: str) -> Path:
    """The data folder: as configured, else beside a SQLite database file (so one database
    and its files travel together), else ``default`` in the current folder."""
    if explicit:
        return Path(explicit)
    name = str(database.get("NAME", ""))
    if database.get("ENGINE", "").endswith("sqlite3") and name and name != ":memory:":
        path = Path(name)
        return path.with_name(path.stem + "-data")
    return Path(default)


@dataclass(frozen=True)
class Incoming:
    """Bytes received into a temporary file, with their hash and size, not yet in the store."""

    path: Path
    sha256: str
    size: int

    def discard(self) -> None:
        self.path.unlink(missing_ok=True)


@dataclass(frozen=True)
class BlobStore:
    root: Path

    @property
    def blobs(self) -> Path:
        return self.root / "blobs"

    def path(self, sha256: str) -> Path:
        if not _SHA256.match(sha256):
            raise CoordinatorError(f"not a SHA-256 in hex: {sha256!r}")
        return self.blobs / sha256[:2] / sha256

    def has(self, sha256: str) -> bool:
        return self.path(sha256).is_file()

    def read(self, sha256: str) -> bytes:
        return self.path(sha256).read_bytes()

    def receive(self, read: Callable[[int], bytes], limit: int) -> Incoming:
        """Copy a stream into a temporary file while hashing it; more than ``limit`` bytes
        raise TooLarge and leave nothing behind."""
        folder = self.root / "incoming"
        folder.mkdir(parents=True, exist_ok=True)
        temporary = folder / secrets.token_hex(16)
        digest = hashlib.sha256()
        size = 0
        try:
            with temporary.open("xb") as out:
                while chunk := read(_CHUNK):
                    size += len(chunk)
                    if size > limit:
                        raise TooLarge(f"more than {limit} bytes")
                    digest.update(chunk)
                    out.write(chunk)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
        return Incoming(temporary, digest.hexdigest(), size)

    def keep(self, incoming: Incoming) -> Path:
        """Move received bytes into the store under their hash (once; a second copy of the
        same bytes is dropped)."""
        target = self.path(incoming.sha256)
        if target.is_file():
            incoming.discard()
            return target
        target.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(incoming.path, 0o444)
        os.replace(incoming.path, target)
        return target

    def put(self, data: bytes) -> str:
        """Store bytes made by the coordinator itself (combined results); returns the hash."""
        chunks = iter([data, b""])
        incoming = self.receive(lambda _n: next(chunks), len(data))
        self.keep(incoming)
        return incoming.sha256

    def stored(self) -> list[str]:
        """Every hash in the store (for tests and audits)."""
        if not self.blobs.is_dir():
            return []
        return sorted(p.name for p in self.blobs.glob("*/*") if p.is_file())
