"""The shared hash-chained log: appends chain, and any edit, removal or reordering is found."""

from __future__ import annotations

import json

from fedsafe.hashchain import append_record, chain_problems, read_records


def write(path, count=3):
    for n in range(count):
        append_record(path, actor="primary", event=f"e{n}", details={"n": n})


def test_records_chain_from_genesis(tmp_path):
    log = tmp_path / "log.jsonl"
    write(log)
    records, problems = read_records(log)
    assert problems == [] and chain_problems(records, "log") == []
    assert [r["seq"] for r in records] == [1, 2, 3]
    assert records[1]["prev_hash"] == records[0]["hash"]


def test_an_edited_record_is_found(tmp_path):
    log = tmp_path / "log.jsonl"
    write(log)
    lines = log.read_text().splitlines()
    record = json.loads(lines[1])
    record["details"]["n"] = 99
    lines[1] = json.dumps(record)
    log.write_text("\n".join(lines) + "\n")
    records, _ = read_records(log)
    assert chain_problems(records, "log") == [
        "log record 2: its contents do not match its hash (edited)"
    ]


def test_a_removed_record_is_found(tmp_path):
    log = tmp_path / "log.jsonl"
    write(log)
    lines = log.read_text().splitlines()
    log.write_text("\n".join([lines[0], lines[2]]) + "\n")
    records, _ = read_records(log)
    problems = chain_problems(records, "log")
    assert any("expected record 2" in p for p in problems)


def test_a_line_that_is_not_a_record_is_reported(tmp_path):
    log = tmp_path / "log.jsonl"
    write(log, 1)
    with log.open("a") as file:
        file.write("garbage\n[1]\n")
    records, problems = read_records(log)
    assert len(records) == 1
    assert problems == [
        "log.jsonl line 2: not a JSON record (edited)",
        "log.jsonl line 3: not a record (edited)",
    ]


def test_a_missing_log_is_empty(tmp_path):
    assert read_records(tmp_path / "none.jsonl") == ([], [])


def test_long_records_and_many_appends_chain_correctly(tmp_path):
    log = tmp_path / "log.jsonl"
    for n in range(40):
        append_record(log, actor="a", event="e", details={"blob": "x" * (n * 5000)})
    records, problems = read_records(log)
    assert problems == [] and chain_problems(records, "log") == []
    assert [r["seq"] for r in records] == list(range(1, 41))
