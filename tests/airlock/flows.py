"""Steps shared by airlock tests: a submitted request and a fully reviewed one."""

from __future__ import annotations

from fedsafe.airlock.service import Airlock

FILES = ["output/table.csv"]


def submitted(airlock: Airlock, files: list[str] = FILES) -> str:
    request_id = airlock.add_files(
        "rita", "study", files, group="main", context="Counts by group", controls="Rounded to 5"
    )
    airlock.submit("rita", request_id)
    return request_id


def reviewed(airlock: Airlock, files: list[str] = FILES) -> str:
    request_id = submitted(airlock, files)
    for checker in ("carl", "cora"):
        for path in files:
            airlock.vote(checker, request_id, path, "approve")
    return request_id


def events(airlock: Airlock, event: str | None = None) -> list[dict]:
    from fedsafe.airlock.service import read_audit

    return [r for r in read_audit(airlock.database) if event is None or r["event"] == event]


def last_refusal(airlock: Airlock) -> dict:
    refusals = events(airlock, "refused")
    assert refusals, "the refusal was not logged"
    return refusals[-1]
