"""Linked rows live only encrypted, and after every ending nothing readable is left on disk.

Each test writes known values, ends the job one way (success, failure, cancel, expiry, and a
real ``kill -9`` of a separate process mid-job), then scans every file under the test's folder
for those values and tries to decrypt whatever is left with every key-sized window of every
file left (the only place a key could be hiding).
"""

from __future__ import annotations

import datetime
import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from fedsafe.linkage.audit import LinkageAudit, verify_log
from fedsafe.linkage.errors import VaultError
from fedsafe.linkage.vault import JobVault, sweep

SRC = Path(__file__).resolve().parents[2] / "src"
KNOWN = [b"9434765919", b"I21.4-SECRET-DIAGNOSIS", b"2021-03-17"]
PAYLOAD = b"patient_id,nhs,diagnosis,date\n1," + b",".join(KNOWN) + b"\n"
LATER = datetime.datetime.now(datetime.UTC) + datetime.timedelta(hours=1)


def all_bytes(root: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in root.rglob("*") if p.is_file()}


def assert_no_plaintext(root: Path) -> None:
    for path, data in all_bytes(root).items():
        for value in KNOWN:
            assert value not in data, f"{value!r} found in {path}"


def openable(root: Path) -> bool:
    """Whether any key-sized window of any file left opens any encrypted file left."""
    files = all_bytes(root)
    windows = {data[i : i + 32] for data in files.values() for i in range(max(len(data) - 31, 0))}
    for path, ciphertext in files.items():
        if path.suffix != ".enc":
            continue
        manifest = json.loads((path.parent / "manifest.json").read_text())
        binding = json.dumps(
            ["fedsafe-linkage-vault", manifest["project"], manifest["job_id"], path.stem]
        ).encode()
        for key in windows:
            try:
                AESGCM(key).decrypt(ciphertext[:12], ciphertext[12:], binding)
            except InvalidTag:
                continue
            return True
    return False


def assert_undecryptable(root: Path) -> None:
    assert not openable(root)


@pytest.fixture
def audit(tmp_path):
    return LinkageAudit(tmp_path / "audit" / "linkage.jsonl", backend="primary")


def events(audit: LinkageAudit) -> list[dict]:
    return [json.loads(line) for line in audit.log_file.read_text().splitlines()]


def make(tmp_path: Path, audit: LinkageAudit, job: str = "job-1") -> JobVault:
    return JobVault.create(
        tmp_path / "vault",
        project="heart-study",
        job_id=job,
        expires_at=LATER,
        on_deleted=audit.deleted,
    )


def test_rows_are_on_disk_only_encrypted_while_the_job_runs(tmp_path, audit):
    vault = make(tmp_path, audit)
    vault.put("tpp.apcs", PAYLOAD)
    assert vault.get("tpp.apcs") == PAYLOAD
    assert_no_plaintext(tmp_path)
    assert_undecryptable(tmp_path)  # the key is not on disk, even while the job runs
    # the check can fail: a key file next to the store (what this design avoids) opens it
    (tmp_path / "job.key").write_bytes(b"header" + bytes(vault._key or b"") + b"trailer")
    assert openable(tmp_path)
    vault.destroy("success")


@pytest.mark.parametrize(
    ("ending", "reason"),
    [("success", "success"), ("failure", "failure"), ("cancel", "cancelled")],
)
def test_every_ending_destroys_the_store_and_records_the_deletion(tmp_path, audit, ending, reason):
    vault = make(tmp_path, audit)
    try:
        with vault:
            vault.put("tpp.apcs", PAYLOAD)
            if ending == "failure":
                raise RuntimeError("the action failed")
            if ending == "cancel":
                raise KeyboardInterrupt
    except (RuntimeError, KeyboardInterrupt):
        pass
    assert not vault.directory.exists()
    assert_no_plaintext(tmp_path)
    (deleted,) = [e for e in events(audit) if e["event"] == "deleted"]
    assert deleted["details"]["reason"] == reason
    assert deleted["details"]["job_id"] == "job-1"
    assert deleted["details"]["files"] == 2  # the manifest and one encrypted table
    assert deleted["details"]["data_key_id"] == vault.data_key_id
    with pytest.raises(VaultError, match="destroyed"):
        vault.get("tpp.apcs")  # the key is gone from memory too
    assert verify_log(audit.log_file) == []


def test_the_watchdog_removes_an_expired_store_even_while_its_owner_runs(tmp_path, audit):
    vault = make(tmp_path, audit)
    vault.put("tpp.apcs", PAYLOAD)
    assert sweep(tmp_path / "vault", datetime.datetime.now(datetime.UTC), audit.deleted) == []
    (deletion,) = sweep(tmp_path / "vault", LATER, audit.deleted)
    assert (deletion.job_id, deletion.reason) == ("job-1", "expired")
    assert not vault.directory.exists()
    assert_no_plaintext(tmp_path)
    with pytest.raises(VaultError, match="removed"):
        vault.get("tpp.apcs")


def test_the_watchdog_removes_a_store_with_a_damaged_manifest(tmp_path, audit):
    vault = make(tmp_path, audit)
    vault.put("tpp.apcs", PAYLOAD)
    (vault.directory / "manifest.json").write_text("{not json")
    (deletion,) = sweep(tmp_path / "vault", datetime.datetime.now(datetime.UTC), audit.deleted)
    assert deletion.reason == "damaged" and not vault.directory.exists()


CHILD = """
import datetime, sys, time
from pathlib import Path
from fedsafe.linkage.vault import JobVault, no_core_dumps

no_core_dumps()
vault = JobVault.create(
    Path(sys.argv[1]), project="heart-study", job_id="job-9",
    expires_at=datetime.datetime.now(datetime.UTC) + datetime.timedelta(hours=1),
    on_deleted=lambda deletion: None,
)
vault.put("tpp.apcs", sys.argv[2].encode())
assert vault.get("tpp.apcs") == sys.argv[2].encode()
print("ready", flush=True)
time.sleep(600)
"""


def test_kill_9_mid_job_leaves_nothing_readable_and_the_watchdog_cleans_up(tmp_path, audit):
    script = tmp_path / "job.py"
    script.write_text(textwrap.dedent(CHILD))
    job = subprocess.Popen(
        [sys.executable, str(script), str(tmp_path / "vault"), PAYLOAD.decode()],
        stdout=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(SRC)},
        cwd=tmp_path,
    )
    try:
        assert job.stdout is not None
        assert job.stdout.readline().strip() == b"ready"
        store = tmp_path / "vault" / "job-9"
        assert any(p.suffix == ".enc" for p in store.iterdir())
        # the watchdog leaves a live job alone
        assert sweep(tmp_path / "vault", datetime.datetime.now(datetime.UTC), audit.deleted) == []
        os.kill(job.pid, signal.SIGKILL)
        job.wait(timeout=30)
    finally:
        if job.poll() is None:
            job.kill()
    assert job.returncode == -signal.SIGKILL
    script.unlink()  # the test's own script holds no secrets, but its argv did: drop it anyway
    # the crash left the store behind: no plaintext in it, and nothing on disk opens it
    assert any(p.suffix == ".enc" for p in store.iterdir())
    assert_no_plaintext(tmp_path)
    assert_undecryptable(tmp_path)
    (deletion,) = sweep(tmp_path / "vault", datetime.datetime.now(datetime.UTC), audit.deleted)
    assert (deletion.job_id, deletion.reason) == ("job-9", "owner gone")
    assert not store.exists()
    assert [e["event"] for e in events(audit)] == ["deleted"]


@pytest.mark.parametrize("name", ["../escape", ".hidden", "a/b", ""])
def test_names_that_could_leave_the_store_are_refused(tmp_path, audit, name):
    vault = make(tmp_path, audit)
    with pytest.raises(VaultError, match="cannot name a file"):
        vault.put(name, PAYLOAD)
    vault.destroy("failure")


def test_a_changed_file_is_reported_as_damaged(tmp_path, audit):
    vault = make(tmp_path, audit)
    vault.put("tpp.apcs", PAYLOAD)
    path = vault.directory / "tpp.apcs.enc"
    data = bytearray(path.read_bytes())
    data[-1] ^= 1
    path.write_bytes(bytes(data))
    with pytest.raises(VaultError, match="damaged"):
        vault.get("tpp.apcs")
    vault.destroy("failure")


def test_one_job_cannot_reuse_another_jobs_store(tmp_path, audit):
    make(tmp_path, audit, "job-1")
    with pytest.raises(VaultError, match="already has a store"):
        make(tmp_path, audit, "job-1")
