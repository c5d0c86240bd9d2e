"""``fedsafe linkage``: new-secret, verify-log and the sweep watchdog."""

from __future__ import annotations

import datetime
import json
import stat

from typer.testing import CliRunner

from fedsafe.cli.main import app
from fedsafe.linkage.audit import LinkageAudit
from fedsafe.linkage.keys import load_secret
from fedsafe.linkage.vault import JobVault

runner = CliRunner()


def run(*args):
    return runner.invoke(app, ["linkage", *map(str, args)])


def test_new_secret_writes_a_private_secret_and_never_overwrites(tmp_path):
    path = tmp_path / "linkage.secret"
    result = run("new-secret", path)
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    first = load_secret(path)
    assert len(first.value) == 32
    again = run("new-secret", path)
    assert again.exit_code == 1 and "never overwritten" in again.output
    assert load_secret(path) == first


def test_verify_log_passes_a_sound_log_and_fails_an_open_transfer(tmp_path):
    audit = LinkageAudit(tmp_path / "linkage.jsonl", "primary")
    audit.transferred("job-1", "p", direction="received", payload_hash="ab", rows=3)
    result = run("verify-log", audit.log_file)
    assert result.exit_code == 1
    assert "job job-1: linkage received" in result.output
    vault = JobVault.create(
        tmp_path / "vault",
        project="p",
        job_id="job-1",
        expires_at=datetime.datetime.now(datetime.UTC) + datetime.timedelta(hours=1),
        on_deleted=audit.deleted,
    )
    vault.destroy("success")
    result = run("verify-log", audit.log_file)
    assert result.exit_code == 0, result.output
    assert "intact" in result.output
    assert run("verify-log", tmp_path / "missing.jsonl").exit_code == 1


def test_sweep_removes_expired_stores_and_records_them(tmp_path):
    audit_log = tmp_path / "linkage.jsonl"
    JobVault.create(
        tmp_path / "vault",
        project="p",
        job_id="job-7",
        expires_at=datetime.datetime.now(datetime.UTC) - datetime.timedelta(seconds=1),
        on_deleted=lambda deletion: None,
    ).put("tpp.apcs", b"secret rows")
    result = run("sweep", tmp_path / "vault", "--audit-log", audit_log, "--backend", "primary")
    assert result.exit_code == 0, result.output
    assert "deleted job job-7's linked data (expired)" in result.output
    assert not (tmp_path / "vault" / "job-7").exists()
    (record,) = [json.loads(line) for line in audit_log.read_text().splitlines()]
    assert record["event"] == "deleted" and record["details"]["reason"] == "expired"
