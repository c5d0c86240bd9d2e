"""Packing a crate as a BagIt zip (sha-512 manifests), and reading one back safely.

The zip holds one top-level folder, the bag, whose ``data/`` is the RO-Crate root, as the
Five Safes profile asks. Reading refuses anything that could escape the folder it is unpacked
into, oversized archives, and any checksum that does not match.
"""

from __future__ import annotations

import io
import json
import shutil
import tempfile
import threading
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import bagit

from fedsafe.provenance.build import CrateError

__all__ = ["OpenedBag", "open_bag", "pack_bag"]

MAX_UNPACKED_BYTES = 200 * 1024 * 1024
MAX_MEMBERS = 10_000

# bagit's make_bag and Bag.save change the process's working directory while they write
# manifests; two at once in a threaded server would write into each other's folders.
_CHDIR_LOCK = threading.Lock()


def pack_bag(crate_root: Path, external_id: str, name: str) -> bytes:
    """Turn the folder holding ``data/`` (the crate) into a bag and zip it under ``name/``.

    ``external_id`` is the request's ``urn:uuid:...``, written to bag-info.txt.
    """
    bag_dir = crate_root.parent
    payload = list(bag_dir.iterdir())
    if [p.name for p in payload] != ["data"]:
        raise CrateError(f"{bag_dir} must hold only data/ before it becomes a bag")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp) / name
        shutil.copytree(crate_root, work)
        with _CHDIR_LOCK:
            _make_bag(work, external_id)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(work.rglob("*")):
                if path.is_file():
                    archive.write(path, f"{name}/{path.relative_to(work).as_posix()}")
        return buffer.getvalue()


def _make_bag(work: Path, external_id: str) -> None:
    bagit.make_bag(
        str(work),
        {"External-Identifier": external_id, "Source-Organization": "fedsafe coordinator"},
        checksums=["sha512"],
    )
    # bagit-python writes "BagIt-Version: 0.97"; the profile asks for 1.0 or later, and the
    # bag already follows 1.0's rules, so declare it and re-hash the tag files.
    (work / "bagit.txt").write_text(
        "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n", "utf-8"
    )
    bagit.Bag(str(work)).save()


@dataclass(frozen=True)
class OpenedBag:
    """A checked bag: its bag-info fields, its crate metadata, and its payload file names."""

    info: dict[str, str]
    metadata: dict[str, Any]
    payload: frozenset[str]  # paths relative to data/
    tag_manifests: frozenset[str]


def open_bag(data: bytes, workdir: Path) -> OpenedBag:
    """Unpack a BagIt zip into ``workdir`` and check it: one top folder, safe paths, BagIt 1.0
    with a sha-512 payload manifest whose every checksum matches, and a metadata file."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise CrateError("the crate is not a zip file") from None
    with archive:
        members = archive.infolist()
        if len(members) > MAX_MEMBERS:
            raise CrateError(f"the crate has more than {MAX_MEMBERS} files")
        if sum(m.file_size for m in members) > MAX_UNPACKED_BYTES:
            raise CrateError(f"the crate unpacks to more than {MAX_UNPACKED_BYTES} bytes")
        tops = set()
        for member in members:
            pure = PurePosixPath(member.filename)
            if pure.is_absolute() or ".." in pure.parts or "\\" in member.filename:
                raise CrateError(f"zip entry {member.filename!r} escapes the bag")
            if (member.external_attr >> 16) & 0o170000 == 0o120000:
                raise CrateError(f"zip entry {member.filename!r} is a symbolic link")
            tops.add(pure.parts[0])
        if len(tops) != 1:
            raise CrateError(
                f"the zip must hold exactly one top-level folder (the bag), found {sorted(tops)}"
            )
        archive.extractall(workdir)
    bag_dir = workdir / tops.pop()
    if not (bag_dir / "bagit.txt").is_file():
        raise CrateError("the bag has no bagit.txt")
    if not (bag_dir / "manifest-sha512.txt").is_file():
        raise CrateError("the bag has no sha-512 payload manifest (manifest-sha512.txt)")
    try:
        bag = bagit.Bag(str(bag_dir))
        bag.validate(processes=1)
    except bagit.BagValidationError as exc:
        details = "; ".join(str(d) for d in getattr(exc, "details", [])[:5]) or str(exc)
        raise CrateError(f"the bag's checksums do not match: {details}") from None
    except bagit.BagError as exc:
        raise CrateError(f"not a valid bag: {exc}") from None
    version = tuple(bag.version_info)
    if version < (1, 0):
        raise CrateError(
            f"the bag declares BagIt {bag.version_info}; version 1.0 or later is needed"
        )
    metadata_path = bag_dir / "data" / "ro-crate-metadata.json"
    if not metadata_path.is_file():
        raise CrateError("the bag's data/ has no ro-crate-metadata.json")
    try:
        metadata = json.loads(metadata_path.read_text("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CrateError(f"data/ro-crate-metadata.json is not JSON: {exc}") from None
    info = {k: v if isinstance(v, str) else "; ".join(v) for k, v in bag.info.items()}
    payload = frozenset(
        p.relative_to(bag_dir / "data").as_posix()
        for p in (bag_dir / "data").rglob("*")
        if p.is_file()
    )
    tags = frozenset(p.name for p in bag_dir.glob("tagmanifest-*.txt"))
    return OpenedBag(info=info, metadata=metadata, payload=payload, tag_manifests=tags)
