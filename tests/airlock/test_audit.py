"""The audit log's hash chain catches edits and deletions in either copy."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys

import pytest

from airlock.flows import events, reviewed
from fedsafe.airlock.audit import verify_audit
from fedsafe.airlock.errors import PolicyRefused


def _with_history(airlock):
    reviewed(airlock)
    airlock.open_file("rita", "study", "output/table.csv")
    assert verify_audit(airlock.database, airlock.log_file) == []
    return airlock


def _cli(backend):
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "fedsafe.cli",
            "airlock",
            "verify-audit",
            "--backend-dir",
            str(backend),
        ],
        capture_output=True,
        text=True,
        check=False,
    )


def test_every_state_change_vote_and_view_is_logged_in_both_copies(airlock):
    _with_history(airlock)
    kinds = {e["event"] for e in events(airlock)}
    assert {"state", "add file", "automated check", "vote", "view"} <= kinds
    lines = airlock.log_file.read_text().splitlines()
    assert [json.loads(line)["hash"] for line in lines] == [e["hash"] for e in events(airlock)]


def test_an_edited_database_row_is_detected(airlock, backend):
    _with_history(airlock)
    with sqlite3.connect(airlock.database) as db:
        db.execute("UPDATE audit SET actor = 'mallory' WHERE seq = 3")
    problems = verify_audit(airlock.database, airlock.log_file)
    assert any("database record 3" in p and "edited" in p for p in problems)
    result = _cli(backend)
    assert result.returncode == 2 and "altered" in result.stderr


def test_a_deleted_database_row_is_detected(airlock):
    _with_history(airlock)
    with sqlite3.connect(airlock.database) as db:
        db.execute("DELETE FROM audit WHERE seq = 2")
    problems = verify_audit(airlock.database, airlock.log_file)
    assert any("database record 3" in p for p in problems)


def test_a_rewritten_database_chain_is_caught_by_the_file(airlock):
    _with_history(airlock)
    from fedsafe.airlock.audit import GENESIS, record_hash

    with sqlite3.connect(airlock.database) as db:
        db.row_factory = sqlite3.Row
        rows = [dict(r) for r in db.execute("SELECT * FROM audit ORDER BY seq")]
        rows[0]["actor"] = "mallory"
        previous = GENESIS
        for row in rows:
            row["prev_hash"] = previous
            row["hash"] = previous = record_hash(row)
            db.execute(
                "UPDATE audit SET actor = ?, prev_hash = ?, hash = ? WHERE seq = ?",
                (row["actor"], row["prev_hash"], row["hash"], row["seq"]),
            )
    problems = verify_audit(airlock.database, airlock.log_file)
    assert problems and all("database record" not in p for p in problems)
    assert any("differ" in p for p in problems)


def test_an_edited_line_is_detected(airlock):
    _with_history(airlock)
    lines = airlock.log_file.read_text().splitlines()
    record = json.loads(lines[4])
    record["event"] = "nothing happened"
    lines[4] = json.dumps(record)
    airlock.log_file.write_text("\n".join(lines) + "\n")
    problems = verify_audit(airlock.database, airlock.log_file)
    assert any("audit.jsonl record 5" in p and "edited" in p for p in problems)


def test_a_deleted_line_is_detected(airlock, backend):
    _with_history(airlock)
    lines = airlock.log_file.read_text().splitlines()
    del lines[-1]
    airlock.log_file.write_text("\n".join(lines) + "\n")
    assert any("differ" in p for p in verify_audit(airlock.database, airlock.log_file))
    del lines[1]
    airlock.log_file.write_text("\n".join(lines) + "\n")
    problems = verify_audit(airlock.database, airlock.log_file)
    assert any("audit.jsonl record 3" in p for p in problems)
    assert _cli(backend).returncode == 2


def test_an_intact_log_verifies_from_the_command_line(airlock, backend):
    _with_history(airlock)
    result = _cli(backend)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "intact" in result.stderr


def test_a_refused_change_leaves_no_record_of_the_change_itself(airlock):
    request_id = airlock.add_files(
        "rita", "study", ["output/small.csv"], group="g", context="c", controls="k"
    )
    before = [e["event"] for e in events(airlock)]
    with pytest.raises(PolicyRefused):
        airlock.submit("rita", request_id)
    after = [e["event"] for e in events(airlock)]
    assert after == [*before, "refused"]
    assert verify_audit(airlock.database, airlock.log_file) == []
