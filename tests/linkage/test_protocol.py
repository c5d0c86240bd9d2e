"""One job's linkage between two backends, through a relay that stores every message.

Backend A (primary care) holds the cohort; backend B (hospital) holds admissions in its own
database and numbers its patients differently. The relay stands in for the coordinator: it
keeps every byte it carries, and the tests check it can read none of what matters.
"""

from __future__ import annotations

import dataclasses
import datetime
from dataclasses import astuple

import ibis
import pytest

from fedsafe.linkage.audit import LinkageAudit, verify_log
from fedsafe.linkage.errors import LinkageRefused, SecretMismatch
from fedsafe.linkage.keys import LinkageSecret
from fedsafe.linkage.protocol import Provider, Requester, read_ipc
from fedsafe.linkage.vault import JobVault
from linkage_data import NOW, hospital_admissions, nhs_numbers

SECRET = LinkageSecret(bytes(range(100, 132)))
NUMBERS = nhs_numbers(300, seed=11)
# B: 200 patients, ids 5000.. ; A's cohort: 80 of B's patients, 40 B lacks, 5 invalid numbers
POPULATION = [(5000 + i, n) for i, n in enumerate(NUMBERS[:200])]
COHORT = [(i, n) for i, n in enumerate(NUMBERS[120:240], start=1)] + [
    (900 + i, bad) for i, bad in enumerate(["123", None, "9434765918", "abc", ""])
]
SHARED = {n for _, n in POPULATION} & {n for _, n in COHORT}


class Relay:
    """What the coordinator would store: every message, as bytes."""

    def __init__(self) -> None:
        self.stored: list[bytes] = []

    def carry(self, message):  # type: ignore[no-untyped-def]
        for part in astuple(message) if hasattr(message, "__dataclass_fields__") else (message,):
            if isinstance(part, bytes):
                self.stored.append(part)
            elif part is not None:
                self.stored.append(str(part).encode())
        return message


@pytest.fixture
def world(tmp_path, declaration, permission):
    con = ibis.duckdb.connect()
    admissions = hospital_admissions(POPULATION)
    apcs = con.create_table("apcs", admissions)
    a_audit = LinkageAudit(tmp_path / "a" / "audit.jsonl", "primary")
    b_audit = LinkageAudit(tmp_path / "b" / "audit.jsonl", "hospital")

    def requester(job="job-1", secret=SECRET, use_psi=True, permission=permission):
        return Requester(
            project="heart-study",
            job_id=job,
            secret=secret,
            declaration=declaration,
            audit=a_audit,
            permission=permission,
            requester="primary",
            use_psi=use_psi,
        )

    def provider(job="job-1", secret=SECRET, declaration=declaration, permission=permission):
        return Provider(
            project="heart-study",
            job_id=job,
            secret=secret,
            declaration=declaration,
            audit=b_audit,
            permission=permission,
            population=POPULATION,
            tables={"tpp.apcs": apcs},
        )

    def vault(job="job-1"):
        return JobVault.create(
            tmp_path / "a" / "vault",
            project="heart-study",
            job_id=job,
            expires_at=NOW + datetime.timedelta(days=3650),
            on_deleted=a_audit.deleted,
        )

    class World:
        pass

    w = World()
    w.requester, w.provider, w.vault = requester, provider, vault
    w.a_audit, w.b_audit, w.admissions, w.relay = a_audit, b_audit, admissions, Relay()
    return w


def run(world, job="job-1", use_psi=True, a=None, b=None):
    a = a or world.requester(job, use_psi=use_psi)
    b = b or world.provider(job)
    relay = world.relay
    opening = relay.carry(a.open(COHORT, now=NOW))
    answer = relay.carry(b.answer(opening, requester="primary", now=NOW))
    matched = relay.carry(a.send_matched(answer, provider="hospital"))
    payload = relay.carry(b.send_extract(matched))
    return a, payload


def expected_rows(declaration) -> list[tuple]:
    a_id = {n: i for i, n in COHORT if isinstance(n, str)}
    b_nhs = dict(POPULATION)
    rows = []
    for row in hospital_admissions(POPULATION).to_pylist():
        nhs = b_nhs[row["patient_id"]]
        day = row["admission_date"]
        if nhs in SHARED and declaration.date_range.start <= day <= declaration.date_range.end:
            rows.append((a_id[nhs], day.replace(day=1), row["primary_diagnosis"]))
    return sorted(rows)


@pytest.mark.parametrize("use_psi", [True, False], ids=["psi", "fallback"])
def test_a_job_receives_exactly_the_declared_rows_of_its_matched_cohort(
    world, declaration, use_psi
):
    a, payload = run(world, use_psi=use_psi)
    with world.vault() as vault:
        counts = a.receive(payload, vault)
        table = read_ipc(vault.get("tpp.apcs"))
    assert table.column_names == ["patient_id", "admission_date", "primary_diagnosis"]
    got = sorted(tuple(r.values()) for r in table.to_pylist())
    assert got == expected_rows(declaration)
    assert counts["rows"] == len(got) and counts["patients"] <= len(SHARED) == 80
    assert verify_log(world.a_audit.log_file) == []
    assert verify_log(world.b_audit.log_file) == []


def test_the_relay_can_read_nothing_that_matters(world):
    a, _ = run(world)
    stored = b"".join(world.relay.stored)
    pseudonyms = [p.encode() for p in a._pseudonyms] + [bytes.fromhex(p) for p in a._pseudonyms]
    assert len(pseudonyms) == 240
    for value in [n.encode() for _, n in POPULATION] + pseudonyms:
        assert value not in stored
    # the extract's own column names are in its plaintext; the relay has only ciphertext
    assert b"admission_date" not in stored and b"pseudonym" not in stored
    assert b"UNDECLARED" not in stored


def test_failed_identifiers_are_counted_in_the_audit_and_never_sent(world):
    a, _ = run(world)
    assert a.normalised is not None and a.normalised.failed == 5
    matched = next(r for r in _events(world.a_audit) if r["event"] == "linkage matched")
    assert matched["details"]["failed_normalisation"] == 5
    assert matched["details"]["cohort"] == 120
    assert b"9434765918" not in b"".join(world.relay.stored)


def test_mismatched_secrets_stop_b_before_it_computes_or_sends_anything(world):
    a = world.requester(secret=LinkageSecret(bytes(32)))
    opening = world.relay.carry(a.open(COHORT, now=NOW))
    with pytest.raises(SecretMismatch, match="linkage secrets are not the same"):
        world.provider().answer(opening, requester="primary", now=NOW)
    events = [r["event"] for r in _events(world.b_audit)]
    assert "linkage sent" not in events and "linkage keys confirmed" not in events


def test_mismatched_secrets_stop_a_before_it_sends_its_matches(world):
    a = world.requester()
    opening = a.open(COHORT, now=NOW)
    answer = world.provider().answer(opening, requester="primary", now=NOW)
    # a B configured with another secret (which skipped its own check) answers with its value
    other = world.provider(secret=LinkageSecret(bytes(32)))._job_key.check_value
    with pytest.raises(SecretMismatch, match="'hospital'"):
        a.send_matched(dataclasses.replace(answer, check_value=other), provider="hospital")
    assert "linkage matched" not in [r["event"] for r in _events(world.a_audit)]


def test_without_a_permission_neither_side_starts(world):
    a = world.requester(permission=None)
    with pytest.raises(LinkageRefused, match="no linkage permission"):
        a.open(COHORT, now=NOW)
    assert [r["event"] for r in _events(world.a_audit)] == ["linkage requested", "linkage refused"]
    opening = world.requester().open(COHORT, now=NOW)
    with pytest.raises(LinkageRefused):
        world.provider(permission=None).answer(opening, requester="primary", now=NOW)


def test_an_expired_permission_stops_both_sides(world, permission):
    later = permission.expires_at
    with pytest.raises(LinkageRefused, match="expired"):
        world.requester().open(COHORT, now=later)
    opening = world.requester().open(COHORT, now=NOW)
    with pytest.raises(LinkageRefused, match="expired"):
        world.provider().answer(opening, requester="primary", now=later)


def _events(audit):
    import json

    return [json.loads(line) for line in audit.log_file.read_text().splitlines()]


def test_only_b_patients_with_rows_to_send_take_part_in_matching(world, declaration):
    extra = [(90_000 + i, n) for i, n in enumerate(nhs_numbers(350, seed=11)[300:])]  # no rows
    b = world.provider()
    b.population = POPULATION + extra
    a, payload = run(world, b=b)
    in_range = {
        r["patient_id"]
        for r in world.admissions.to_pylist()
        if declaration.date_range.start <= r["admission_date"] <= declaration.date_range.end
    }
    assert 0 < len(in_range) <= len(POPULATION)
    assert b.considered == len(in_range)
    with world.vault() as vault:
        a.receive(payload, vault)  # and the linked rows are still exactly the expected ones
        table = read_ipc(vault.get("tpp.apcs"))
    assert sorted(tuple(r.values()) for r in table.to_pylist()) == expected_rows(declaration)
