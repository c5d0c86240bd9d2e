"""Attacks on linkage, each shown to fail (and each check shown able to succeed)."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac

import ibis
import pytest

from fedsafe.linkage.audit import LinkageAudit
from fedsafe.linkage.declaration import TableRequest
from fedsafe.linkage.errors import LinkageError, LinkageRefused, PayloadRejected
from fedsafe.linkage.keys import LinkageSecret, derive_job_key, pseudonymise
from fedsafe.linkage.matching import encode_pseudonyms
from fedsafe.linkage.protocol import Provider, Requester, read_ipc
from fedsafe.linkage.sealing import job_binding, seal
from fedsafe.linkage.vault import JobVault
from linkage_data import NOW, hospital_admissions, nhs_numbers

SECRET = LinkageSecret(bytes(range(7, 39)))
CANDIDATES = 1_000_000


@pytest.fixture(scope="module")
def everyone():
    """A million synthetic NHS numbers: the attacker's whole dictionary."""
    return nhs_numbers(CANDIDATES, seed=2026)


def _hits(targets: set[str], key: bytes | None, candidates: list[str]) -> int:
    if key is None:
        guesses = (hashlib.sha256(c.encode()).hexdigest() for c in candidates)
    else:
        guesses = (hmac.digest(key, c.encode(), "sha256").hex() for c in candidates)
    return sum(1 for guess in guesses if guess in targets)


@pytest.mark.slow
def test_a_dictionary_attack_finds_nothing_without_the_secret_and_everything_with_it(everyone):
    job = derive_job_key(SECRET, "heart-study", "job-1")
    cohort = everyone[::1000]  # 1,000 patients whose pseudonyms the attacker has seen
    targets = set(pseudonymise(job, cohort))
    # Without the secret: plain hashing, HMAC under the public key-check value and key id,
    # and the job key derived from a guessed secret; none finds a single patient.
    guessed = derive_job_key(LinkageSecret(bytes(32)), "heart-study", "job-1").key
    for key in (None, job.check_value.encode(), job.key_id.encode(), guessed):
        assert _hits(targets, key, everyone) == 0
    # With the secret the same search finds every one, so the test above could fail.
    assert _hits(targets, job.key, everyone) == len(cohort) == 1000


def test_the_same_patients_get_disjoint_pseudonyms_in_two_jobs_and_two_projects():
    patients = nhs_numbers(5000, seed=5)
    one = set(pseudonymise(derive_job_key(SECRET, "heart-study", "job-1"), patients))
    two = set(pseudonymise(derive_job_key(SECRET, "heart-study", "job-2"), patients))
    other = set(pseudonymise(derive_job_key(SECRET, "lung-study", "job-1"), patients))
    again = set(pseudonymise(derive_job_key(SECRET, "heart-study", "job-1"), patients))
    assert len(one) == len(two) == len(other) == 5000
    assert one.isdisjoint(two) and one.isdisjoint(other) and two.isdisjoint(other)
    assert one == again  # within a job both backends agree, which is what matching needs


POPULATION = [(100 + i, n) for i, n in enumerate(nhs_numbers(60, seed=8))]
COHORT = [(i, n) for i, (_, n) in enumerate(POPULATION[:30], start=1)]


def sides(tmp_path, declaration, permission, job="job-1", b_declaration=None):
    con = ibis.duckdb.connect()
    apcs = con.create_table("apcs", hospital_admissions(POPULATION))
    a_audit = LinkageAudit(tmp_path / "a.jsonl", "primary")
    a = Requester(
        project="heart-study",
        job_id=job,
        secret=SECRET,
        declaration=declaration,
        audit=a_audit,
        permission=permission,
        requester="primary",
    )
    b = Provider(
        project="heart-study",
        job_id=job,
        secret=SECRET,
        declaration=b_declaration or declaration,
        audit=LinkageAudit(tmp_path / "b.jsonl", "hospital"),
        permission=permission,
        population=POPULATION,
        tables={"tpp.apcs": apcs},
    )
    return a, b, a_audit


def exchange(a, b):
    opening = a.open(COHORT, now=NOW)
    answer = b.answer(opening, requester="primary", now=NOW)
    return b.send_extract(a.send_matched(answer, provider="hospital"))


def vault(tmp_path, audit, job="job-1"):
    return JobVault.create(
        tmp_path / "vault",
        project="heart-study",
        job_id=job,
        expires_at=NOW.replace(year=2100),
        on_deleted=audit.deleted,
    )


def test_an_undeclared_column_gets_nothing(tmp_path, declaration, permission):
    a, b, audit = sides(tmp_path, declaration, permission)
    payload = exchange(a, b)
    with vault(tmp_path, audit) as store:
        a.receive(payload, store)
        table = read_ipc(store.get("tpp.apcs"))
        assert "all_diagnoses" not in table.column_names
        assert "discharge_date" not in table.column_names  # permitted, but not declared
        assert b"UNDECLARED" not in store.get("tpp.apcs")
    assert len(table) > 0  # the declared columns did arrive


def test_asking_b_for_a_column_the_permission_does_not_cover_is_refused_by_b(
    tmp_path, declaration, permission
):
    greedy = dataclasses.replace(
        declaration,
        tables=(TableRequest("tpp.apcs", ("admission_date", "all_diagnoses"), "admission_date"),),
    )
    a, b, _ = sides(tmp_path, declaration, permission, b_declaration=greedy)
    opening = a.open(COHORT, now=NOW)
    with pytest.raises(LinkageRefused, match="all_diagnoses are not covered"):
        b.answer(opening, requester="primary", now=NOW)


def test_a_payload_replayed_into_another_job_is_rejected_and_nothing_is_kept(
    tmp_path, declaration, permission
):
    a1, b1, _ = sides(tmp_path / "1", declaration, permission, job="job-1")
    payload = exchange(a1, b1)
    a2, b2, audit2 = sides(tmp_path / "2", declaration, permission, job="job-2")
    exchange(a2, b2)  # job-2 runs its own linkage; the relay swaps in job-1's payload
    with vault(tmp_path / "2", audit2, "job-2") as store:
        with pytest.raises(PayloadRejected, match="another job"):
            a2.receive(payload, store)
        assert not list(store.directory.glob("*.enc"))  # nothing of it was kept


def test_a_tampered_payload_is_rejected(tmp_path, declaration, permission):
    a, b, audit = sides(tmp_path, declaration, permission)
    payload = bytearray(exchange(a, b))
    payload[len(payload) // 2] ^= 0x40
    with vault(tmp_path, audit) as store:
        with pytest.raises(PayloadRejected):
            a.receive(bytes(payload), store)
        assert not list(store.directory.glob("*.enc"))
    events = [line for line in audit.log_file.read_text().splitlines() if "received" in line]
    assert events == []


def test_a_job_keeps_nothing_undeclared_even_if_b_sends_it(tmp_path, declaration, permission):
    """A misconfigured B that ignores the declaration: A refuses the payload and keeps nothing."""
    wide = dataclasses.replace(
        declaration,
        tables=(TableRequest("tpp.apcs", ("admission_date", "discharge_date"), "admission_date"),),
    )
    a, b, audit = sides(tmp_path, declaration, permission, b_declaration=wide)
    payload = exchange(a, b)
    with vault(tmp_path, audit) as store:
        with pytest.raises(LinkageError, match="undeclared: discharge_date"):
            a.receive(payload, store)
        assert not list(store.directory.glob("*.enc"))


def test_a_job_keeps_nothing_when_b_sends_rows_for_patients_it_did_not_ask_for(
    tmp_path, declaration, permission
):
    a, b, audit = sides(tmp_path, declaration, permission)
    opening = a.open(COHORT, now=NOW)
    answer = b.answer(opening, requester="primary", now=NOW)
    a.send_matched(answer, provider="hospital")
    # B answers for its whole population instead of the matched patients
    everyone = list(b._ids)
    b_keys_matched = seal(
        b._keys.public_bytes,
        encode_pseudonyms(everyone),
        job_binding("heart-study", "job-1", "matched"),
    )
    payload = b.send_extract(b_keys_matched)
    with vault(tmp_path, audit) as store:
        with pytest.raises(LinkageError, match="did not ask for; nothing from it was kept"):
            a.receive(payload, store)
        assert not list(store.directory.glob("*.enc"))
