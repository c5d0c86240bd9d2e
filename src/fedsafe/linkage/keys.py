"""The shared linkage secret, per-job keys, pseudonyms, and the key check done first.

The two backends hold the same secret (configured on each; the coordinator never sees it).
Each job derives its own key from it with HKDF-SHA256 over the project and the job id, so a
pseudonym (HMAC-SHA256 of the normalised identifier under that key) means nothing outside its
job: the same patient has unrelated pseudonyms in two jobs, and without the secret no one can
compute a pseudonym from an identifier, however few identifiers there are to try.

Before anything else moves, each side shows the other a key-check value (an HMAC of a fixed
label under the job key). Equal values mean equal keys; unequal values mean the secrets differ,
and the linkage stops with a clear error instead of matching nobody. The value reveals nothing
about the key, and a secret must be at least 32 random bytes, so it cannot be guessed from it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from fedsafe.linkage.errors import SecretError, SecretMismatch

__all__ = [
    "JobKey",
    "LinkageSecret",
    "confirm_same_key",
    "derive_job_key",
    "load_secret",
    "pseudonymise",
]

SECRET_MIN_BYTES = 32
_SALT = b"fedsafe linkage v1"
_CHECK_LABEL = b"fedsafe linkage key check v1"
_ID_LABEL = b"fedsafe linkage key id v1"


@dataclass(frozen=True)
class LinkageSecret:
    """The secret two backends share. Never printed: its repr hides it."""

    value: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if len(self.value) < SECRET_MIN_BYTES:
            raise SecretError(
                f"a linkage secret must be at least {SECRET_MIN_BYTES} random bytes "
                f"({2 * SECRET_MIN_BYTES} hex digits); this one has {len(self.value)}"
            )

    @classmethod
    def generate(cls) -> LinkageSecret:
        return cls(os.urandom(SECRET_MIN_BYTES))

    def to_hex(self) -> str:
        return self.value.hex()


def load_secret(path: Path | str) -> LinkageSecret:
    """Read a secret file (hex digits), refusing one that other users can read."""
    path = Path(path)
    try:
        mode = path.stat().st_mode
        text = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        raise SecretError(f"linkage secret file {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SecretError(f"cannot read linkage secret file {path}: {exc}") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise SecretError(
            f"linkage secret file {path} can be read by other users (mode {oct(mode & 0o777)}); "
            "make it readable by its owner only (chmod 600)"
        )
    try:
        value = bytes.fromhex(text)
    except ValueError:
        raise SecretError(f"linkage secret file {path} must hold hex digits only") from None
    return LinkageSecret(value)


@dataclass(frozen=True)
class JobKey:
    """One job's linkage key. ``key_id`` and ``check_value`` may be logged; ``key`` never."""

    project: str
    job_id: str
    key: bytes = field(repr=False)

    @property
    def key_id(self) -> str:
        return hmac.new(self.key, _ID_LABEL, hashlib.sha256).hexdigest()[:16]

    @property
    def check_value(self) -> str:
        return hmac.new(self.key, _CHECK_LABEL, hashlib.sha256).hexdigest()[:32]


def derive_job_key(secret: LinkageSecret, project: str, job_id: str) -> JobKey:
    """HKDF-SHA256 of the secret, bound to the project and the job id."""
    if not project or not job_id:
        raise ValueError("a job key needs a project and a job id")
    info = json.dumps(["fedsafe-linkage-job-key", project, job_id]).encode()
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=_SALT, info=info).derive(secret.value)
    return JobKey(project, job_id, key)


def confirm_same_key(mine: JobKey, their_check_value: str, *, their_backend: str) -> None:
    """Raise SecretMismatch unless the other side derived the same key for this job."""
    if not isinstance(their_check_value, str) or not hmac.compare_digest(
        mine.check_value.encode(), their_check_value.encode()
    ):
        raise SecretMismatch(
            f"backend {their_backend!r} derived a different linkage key for job {mine.job_id} "
            "(key-check values differ): the two backends' linkage secrets are not the same. "
            "Nothing was transferred; the data controllers must configure the same secret."
        )


def pseudonymise(key: JobKey, identifiers: Iterable[str]) -> list[str]:
    """HMAC-SHA256 of each normalised identifier under the job key, as hex."""
    digest = hmac.digest
    k = key.key
    return [digest(k, value.encode(), "sha256").hex() for value in identifiers]
