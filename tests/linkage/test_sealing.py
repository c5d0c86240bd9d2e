"""Payloads open only inside the job they were sealed for; the relay cannot read them."""

from __future__ import annotations

import pytest

from fedsafe.linkage.errors import PayloadRejected
from fedsafe.linkage.sealing import JobKeyPair, job_binding, open_sealed, payload_hash, seal

SECRET_ROWS = b"pseudonym,admission_date\nab12,2021-03-01\n"


def test_the_job_opens_what_was_sealed_to_it():
    keys = JobKeyPair.generate()
    aad = job_binding("heart-study", "job-1", "extract")
    sealed = seal(keys.public_bytes, SECRET_ROWS, aad)
    assert SECRET_ROWS not in sealed
    assert open_sealed(keys, sealed, aad) == SECRET_ROWS


def test_a_relay_holding_the_bytes_and_the_public_key_cannot_open_them():
    """The coordinator stores the sealed bytes and the job's public key, and nothing else."""
    job = JobKeyPair.generate()
    aad = job_binding("heart-study", "job-1", "extract")
    stored = seal(job.public_bytes, SECRET_ROWS, aad)
    coordinator = JobKeyPair.generate()  # the best it can do: a key pair of its own
    with pytest.raises(PayloadRejected):
        open_sealed(coordinator, stored, aad)
    assert SECRET_ROWS not in stored and b"2021-03-01" not in stored
    assert open_sealed(job, stored, aad) == SECRET_ROWS  # so the refusal above can fail


def test_a_payload_replayed_into_another_job_or_project_is_rejected():
    keys = JobKeyPair.generate()
    sealed = seal(keys.public_bytes, SECRET_ROWS, job_binding("heart-study", "job-1", "extract"))
    for aad in (
        job_binding("heart-study", "job-2", "extract"),
        job_binding("lung-study", "job-1", "extract"),
        job_binding("heart-study", "job-1", "matched"),
    ):
        with pytest.raises(PayloadRejected, match="another job or project, or changed"):
            open_sealed(keys, sealed, aad)


def test_a_payload_sealed_to_another_jobs_key_is_rejected():
    mine, other = JobKeyPair.generate(), JobKeyPair.generate()
    aad = job_binding("heart-study", "job-1", "extract")
    with pytest.raises(PayloadRejected):
        open_sealed(mine, seal(other.public_bytes, SECRET_ROWS, aad), aad)


@pytest.mark.parametrize("position", [0, 5, 40, 60, -1])
def test_any_changed_byte_is_rejected(position):
    keys = JobKeyPair.generate()
    aad = job_binding("heart-study", "job-1", "extract")
    sealed = bytearray(seal(keys.public_bytes, SECRET_ROWS, aad))
    sealed[position] ^= 0x01
    with pytest.raises(PayloadRejected):
        open_sealed(keys, bytes(sealed), aad)


@pytest.mark.parametrize("junk", [b"", b"FSL1", b"x" * 100, "text"])
def test_what_is_not_a_payload_is_rejected(junk):
    with pytest.raises(PayloadRejected, match="not a sealed linkage payload"):
        open_sealed(JobKeyPair.generate(), junk, b"")  # type: ignore[arg-type]


def test_a_bad_recipient_key_is_rejected():
    with pytest.raises(PayloadRejected, match="not an X25519 key"):
        seal(b"short", SECRET_ROWS, b"")


def test_the_hash_logged_is_of_the_bytes_relayed():
    import hashlib

    sealed = seal(JobKeyPair.generate().public_bytes, SECRET_ROWS, b"")
    assert payload_hash(sealed) == hashlib.sha256(sealed).hexdigest()
    assert "private" not in repr(JobKeyPair.generate())
