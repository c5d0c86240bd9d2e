"""Payloads sealed to a key that exists only inside one job.

A's job makes an X25519 key pair in memory and publishes only the public half (through the
coordinator). B seals its extract to it: a fresh ephemeral X25519 key, ECDH, HKDF-SHA256 to an
AES-256-GCM key, and associated data that names the project and the job. The coordinator relays
the sealed bytes and cannot open them (it has no private key); a payload sealed for one job
fails to open in another (the associated data differs), and any changed byte fails the GCM tag.
This is HPKE's base mode in outline (RFC 9180), built from ``cryptography``'s primitives.

Layout: ``b"FSL1" | ephemeral public key (32) | nonce (12) | ciphertext+tag``.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from fedsafe.linkage.errors import PayloadRejected

__all__ = ["JobKeyPair", "job_binding", "open_sealed", "payload_hash", "seal"]

MAGIC = b"FSL1"
_RAW = serialization.Encoding.Raw
_HEADER = len(MAGIC) + 32 + 12


def job_binding(project: str, job_id: str, purpose: str) -> bytes:
    """The associated data: which project, job and step a payload belongs to."""
    return json.dumps(["fedsafe-linkage", purpose, project, job_id]).encode()


@dataclass(frozen=True)
class JobKeyPair:
    """A key pair made in a job's memory; only ``public_bytes`` ever leaves it."""

    private: X25519PrivateKey = field(repr=False)

    @classmethod
    def generate(cls) -> JobKeyPair:
        return cls(X25519PrivateKey.generate())

    @property
    def public_bytes(self) -> bytes:
        return self.private.public_key().public_bytes(_RAW, serialization.PublicFormat.Raw)

    @property
    def key_id(self) -> str:
        return hashlib.sha256(self.public_bytes).hexdigest()[:16]


def _aead_key(shared: bytes, ephemeral: bytes, recipient: bytes, aad: bytes) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(),
        length=32,
        salt=ephemeral + recipient,
        info=b"fedsafe linkage seal v1" + hashlib.sha256(aad).digest(),
    ).derive(shared)


def seal(recipient_public: bytes, plaintext: bytes, aad: bytes) -> bytes:
    try:
        recipient = X25519PublicKey.from_public_bytes(recipient_public)
    except ValueError:
        raise PayloadRejected("the recipient's public key is not an X25519 key") from None
    ephemeral = X25519PrivateKey.generate()
    ephemeral_public = ephemeral.public_key().public_bytes(_RAW, serialization.PublicFormat.Raw)
    key = _aead_key(ephemeral.exchange(recipient), ephemeral_public, recipient_public, aad)
    nonce = os.urandom(12)
    return MAGIC + ephemeral_public + nonce + AESGCM(key).encrypt(nonce, plaintext, aad)


def open_sealed(keys: JobKeyPair, sealed: bytes, aad: bytes) -> bytes:
    """The plaintext, or PayloadRejected if the payload is for another job or was changed."""
    if not isinstance(sealed, bytes) or len(sealed) < _HEADER + 16 or sealed[:4] != MAGIC:
        raise PayloadRejected("this is not a sealed linkage payload")
    ephemeral_public = sealed[4:36]
    nonce = sealed[36:48]
    try:
        shared = keys.private.exchange(X25519PublicKey.from_public_bytes(ephemeral_public))
    except ValueError:
        raise PayloadRejected("the payload's ephemeral key is not valid") from None
    key = _aead_key(shared, ephemeral_public, keys.public_bytes, aad)
    try:
        return AESGCM(key).decrypt(nonce, sealed[_HEADER:], aad)
    except InvalidTag:
        raise PayloadRejected(
            "the payload does not open with this job's key and binding: it was sealed for "
            "another job or project, or changed on the way; nothing from it was used"
        ) from None


def payload_hash(sealed: bytes) -> str:
    """What both backends and the coordinator log: the hash of the bytes relayed."""
    return hashlib.sha256(sealed).hexdigest()
