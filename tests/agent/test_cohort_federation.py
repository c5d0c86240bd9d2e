"""Cohort discovery across backends, over real HTTP: a live coordinator, two backends (DuckDB in
fedsafe's native tables, SQLite in OMOP form, holding the same patients) and a real
``fedsafe agent run`` process for each.

One availability query posted with a user token fans out to both; each backend answers with a
safe count that matches ``fedsafe cohort count`` run directly on it, and the combined total is
the sum, re-rounded. The attacks: a raw count in an answer body is refused and nothing stored;
one backend cannot lease or answer another's query; the coordinator's database never holds a
raw count (the population is sized so that raw counts are not multiples of 10); and a second,
overlapping query whose difference from the first is a small number is coarsened or refused
by the backend's ledger.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
from contextlib import closing
from pathlib import Path

import httpx
import pytest

from agent.world import CORE, AgentProcess
from backends.databases import write_config, write_duckdb, write_sqlite
from backends.population import core_population
from coordinator.live import FEDSAFE, LiveCoordinator, in_coordinator, query
from fedsafe.backends.mappings.omop_writer import to_omop

pytestmark = pytest.mark.slow

SRC = str(Path(__file__).resolve().parents[2] / "src")
REFERENCE = "2026-01-31"
FEMALE = {
    "reference_date": REFERENCE,
    "groups": [{"rules": [{"domain": "person", "sex": "female"}]}],
}
# The same women less the oldest few: differing from FEMALE by a handful of patients.
FEMALE_UNDER_102 = {
    "reference_date": REFERENCE,
    "groups": [
        {"rules": [{"domain": "person", "sex": "female"}]},
        {"rules": [{"domain": "person", "age": {"high": 101}}]},
    ],
}

OMOP_CONCEPT = {"groups": [{"rules": [{"domain": "condition", "codes": ["omop:201826"]}]}]}


def backends(root: Path) -> dict[str, Path]:
    """North (DuckDB, native) and south (SQLite, OMOP): the same 437 patients (158 women).
    South's cohort policy rounds to the nearest 5 (its ``[cohort]`` settings)."""
    tables = core_population(n=437, seed=5)
    north, south = root / "north", root / "south"
    north.mkdir(parents=True)
    south.mkdir(parents=True)
    write_duckdb(north / "data.duckdb", tables)
    write_sqlite(south / "omop.sqlite", to_omop(tables))
    return {
        "north": write_config(
            north / "backend.toml", f"duckdb:///{north}/data.duckdb", "native", CORE, name="north"
        ),
        "south": write_config(
            south / "backend.toml",
            f"sqlite:///{south}/omop.sqlite",
            "omop",
            CORE,
            extra="\n[cohort]\nrounding_base = 5\n",
            name="south",
        ),
    }


def seed(database: str) -> tuple[dict[str, str], str]:
    """Both backends with tokens, and a user with an API token."""
    tokens, user_token = in_coordinator(
        database,
        f"""
from fedsafe.coordinator.setup_records import add_backend
from fedsafe.coordinator.user_tokens import issue_user_token
tokens = {{n: add_backend(n, {",".join(CORE)!r}).token for n in ("north", "south")}}
User.objects.create_user("rita", password="x" * 12)
result = [tokens, issue_user_token("rita")]
""",
    )
    return tokens, user_token


def post_query(url: str, token: str, document: dict, backends: object = "all") -> httpx.Response:
    return httpx.post(
        f"{url}/api/cohort/v1/queries",
        json={"query": document, "backends": backends},
        headers={"Authorization": f"Bearer {token}"},
        timeout=60,
    )


def get_query(url: str, token: str, query_id: int) -> dict:
    response = httpx.get(
        f"{url}/api/cohort/v1/queries/{query_id}",
        headers={"Authorization": f"Bearer {token}"},
        timeout=60,
    )
    assert response.status_code == 200, response.text
    return response.json()


def run_agents(configs: dict[str, Path], url: str, tokens: dict[str, str]) -> None:
    agents = [AgentProcess(configs[n], url, tokens[n]).start() for n in configs]
    for agent in agents:
        code, out = agent.wait()
        assert code == 0, out


def audit_records(config: Path) -> list[dict]:
    path = config.parent / "agent" / "cohort-audit.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def direct_count(config: Path, document: dict, tmp_path: Path) -> int:
    """``fedsafe cohort count --backend`` on the backend itself, with its own throwaway log."""
    query_file = tmp_path / "direct-query.json"
    query_file.write_text(json.dumps(document))
    env = {**os.environ, "PYTHONPATH": SRC}
    done = subprocess.run(
        [FEDSAFE, "cohort", "count", str(query_file), "--backend", str(config),
         "--audit-log", str(tmp_path / f"direct-{config.parent.name}.jsonl")],
        capture_output=True, text=True, env=env, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(done.stdout)["count"]


def raw_count_cells(database: str, raw: set[int]) -> list[str]:
    """Every cell of every table in the coordinator's database holding one of ``raw``: as a
    number, or as a number standing alone in text (not part of a longer number or a time)."""
    path = database.removeprefix("sqlite:///")
    pattern = re.compile(r"(?<![\d.:])(" + "|".join(str(r) for r in raw) + r")(?![\d.:])")
    found = []
    with closing(sqlite3.connect(path)) as db:
        names = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for table in names:
            cursor = db.execute(f'SELECT * FROM "{table}"')
            columns = [c[0] for c in cursor.description]
            for row in cursor:
                for column, value in zip(columns, row, strict=True):
                    if isinstance(value, int) and not isinstance(value, bool) and value in raw:
                        found.append(f"{table}.{column}={value}")
                    elif isinstance(value, str | bytes) and pattern.search(
                        value if isinstance(value, str) else value.decode("latin-1")
                    ):
                        found.append(f"{table}.{column}={value!r}"[:200])
    return found


def test_one_query_fans_out_answers_safely_and_the_ledger_stops_differencing(
    coordinator_db, tmp_path: Path
):
    database = coordinator_db
    configs = backends(tmp_path)
    tokens, user_token = seed(database)
    server = LiveCoordinator(database).start()
    try:
        posted = post_query(server.url, user_token, FEMALE)
        assert posted.status_code == 201, posted.text
        first = posted.json()["id"]
        assert {a["backend"]: a["status"] for a in posted.json()["answers"]} == {
            "north": "pending",
            "south": "pending",
        }
        assert posted.json()["total"] is None

        run_agents(configs, server.url, tokens)
        answered = get_query(server.url, user_token, first)
        counts = {a["backend"]: a["safe_count"] for a in answered["answers"]}
        assert {a["status"] for a in answered["answers"]} == {"answered"}
        assert answered["complete"] is True
        # Each backend's answer is what `fedsafe cohort count` says on that backend directly.
        for name, config in configs.items():
            assert counts[name] == direct_count(config, FEMALE, tmp_path), name
        assert counts["north"] > 0 and counts["north"] % 10 == 0
        assert answered["total"] == counts["north"] + counts["south"]
        rules = {a["backend"]: a["rule"] for a in answered["answers"]}
        assert rules == {
            "north": "counts below 10 -> 0; others rounded to the nearest 10, halves up",
            "south": "counts below 10 -> 0; others rounded to the nearest 5, halves up",
        }

        # The differencing attempt, the same women less the oldest few, from the command line:
        # `fedsafe cohort submit` waits and prints the answers as the agents send them.
        query_file = tmp_path / "under-102.json"
        query_file.write_text(json.dumps(FEMALE_UNDER_102))
        submitter = subprocess.Popen(
            [FEDSAFE, "cohort", "submit", str(query_file), "--coordinator", server.url,
             "--poll-seconds", "0.2", "--wait", "300"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env={**os.environ, "FEDSAFE_USER_TOKEN": user_token, "PYTHONPATH": SRC},
        )  # fmt: skip
        run_agents(configs, server.url, tokens)
        printed, errors = submitter.communicate(timeout=300)
        assert submitter.returncode == 0, errors
        second = int(re.match(r"cohort query (\d+): asked 2 backend", printed).group(1))
        differenced = get_query(server.url, user_token, second)

        # A query the backends cannot compile (OMOP concept ids on the core tables) is refused
        # by each, with the class of reason only, and adds nothing to the total.
        third = post_query(server.url, user_token, OMOP_CONCEPT).json()["id"]
        run_agents(configs, server.url, tokens)
        refused = get_query(server.url, user_token, third)
    finally:
        server.stop()

    raw = set()
    for name, config in configs.items():
        records = audit_records(config)
        by_decision = [r["decision"] for r in records]
        assert by_decision == ["answered", "coarsened"], name
        r1, r2 = records[0]["raw_count"], records[1]["raw_count"]
        # The attack's premise holds: the two raw counts differ by a small number, so the two
        # answers given on their own (160 and 150) would have revealed it.
        assert 0 < r1 - r2 < 10
        base = records[0]["policy"]["rounding_base"]
        assert records[0]["safe_count"] != (2 * r2 + base) // (2 * base) * base
        assert r1 % 10 and r2 % 10  # distinctive: not what any safe count could be
        raw |= {r1, r2}
    for answer in differenced["answers"]:
        # Coarsened: the earlier answer is given again, which reveals nothing new.
        assert answer["status"] == "answered"
        assert answer["safe_count"] == counts[answer["backend"]]
    assert differenced["total"] == answered["total"]
    assert [(a["status"], a["refused"], a["safe_count"]) for a in refused["answers"]] == [
        ("refused", "CohortQueryError", None)
    ] * 2
    assert refused["total"] is None and refused["complete"]
    lines = printed.splitlines()
    assert sorted(lines[1:3]) == [f"{n}: {counts[n]} ({rules[n]})" for n in ("north", "south")]
    assert lines[3].startswith(f"total: {answered['total']} (sum of the backends' safe counts")

    # No raw count anywhere in the coordinator's database; the scan can find them where they
    # rightly are, in each backend's own audit log.
    assert raw_count_cells(database, raw) == []
    # The scan can fail: a raw count as a number or inside JSON text is found.
    r = min(raw)
    planted = tmp_path / "planted.sqlite3"
    with closing(sqlite3.connect(planted)) as db:
        db.execute("CREATE TABLE t (n INTEGER, data TEXT)")
        db.execute("INSERT INTO t VALUES (?, ?), (1, ?)", (r, "{}", json.dumps({"raw": r})))
        db.commit()
    assert len(raw_count_cells(f"sqlite:///{planted}", raw)) == 2
    assert all(
        str(records["raw_count"]) in (config.parent / "agent" / "cohort-audit.jsonl").read_text()
        for config in configs.values()
        for records in audit_records(config)
    )


def test_answers_carry_no_raw_count_and_backends_stay_apart(coordinator_db, tmp_path: Path):
    database = coordinator_db
    tokens, user_token = seed(database)
    server = LiveCoordinator(database).start()
    try:
        north_only = post_query(server.url, user_token, FEMALE, ["north"]).json()["id"]
        agent = {
            name: httpx.Client(
                base_url=f"{server.url}/api/agent/v1/cohort",
                headers={"Authorization": f"Bearer {token}"},
                timeout=60,
            )
            for name, token in tokens.items()
        }
        before = query(database, "SELECT * FROM coordinator_cohortanswer ORDER BY id")
        # The OpenAPI document says what an answer may hold: two closed shapes, no other key.
        document = agent["north"].get("/openapi.json").json()
        body = document["paths"]["/api/agent/v1/cohort/{query_id}/answer"]["post"]["requestBody"]
        shapes = body["content"]["application/json"]["schema"]["oneOf"]
        assert [sorted(s["properties"]) for s in shapes] == [["rule", "safe_count"], ["refused"]]
        assert all(s["additionalProperties"] is False for s in shapes)

        # South cannot see north's query, nor answer it.
        assert agent["south"].post("/lease", json={}).json() == []
        stolen = agent["south"].post(f"/{north_only}/answer", json={"safe_count": 0, "rule": "x"})
        assert stolen.status_code == 404
        assert query(database, "SELECT * FROM coordinator_cohortanswer ORDER BY id") == before

        # North leases it, then tries to send a raw count alongside the safe one, or alone.
        [leased] = agent["north"].post("/lease", json={"max_queries": 5}).json()
        assert leased["id"] == north_only and leased["query"] == FEMALE
        leased_rows = query(database, "SELECT state, safe_count FROM coordinator_cohortanswer")
        for body in (
            {"safe_count": 160, "rule": "rounded", "raw_count": 158},
            {"raw_count": 158},
            {"safe_count": 160, "rule": "rounded", "refused": "x"},
            {"safe_count": True, "rule": "rounded"},
            {"safe_count": -1, "rule": "rounded"},
        ):
            refused = agent["north"].post(f"/{north_only}/answer", json=body)
            assert refused.status_code == 422, (body, refused.text)
        for content, status in ((b"not json", 422), (b'{"rule": "' + b"x" * 2000 + b'"}', 413)):
            refused = agent["north"].post(f"/{north_only}/answer", content=content)
            assert refused.status_code == status, refused.text
        assert query(database, "SELECT state, safe_count FROM coordinator_cohortanswer") == (
            leased_rows
        )
        assert leased_rows == [("pending", None)]

        # A proper answer is stored, once.
        ok = agent["north"].post(f"/{north_only}/answer", json={"safe_count": 160, "rule": "r"})
        assert ok.status_code == 200, ok.text
        again = agent["north"].post(f"/{north_only}/answer", json={"safe_count": 170, "rule": "r"})
        assert again.status_code == 409
        result = get_query(server.url, user_token, north_only)
        assert [(a["backend"], a["safe_count"]) for a in result["answers"]] == [("north", 160)]

        # No token, no query; a malformed query is refused with its JSON path.
        assert httpx.get(f"{server.url}/api/cohort/v1/queries/{north_only}").status_code == 401
        bad = post_query(server.url, user_token, {"groups": []})
        assert bad.status_code == 400 and "$.groups" in bad.json()["detail"]
    finally:
        server.stop()
    audit = query(database, "SELECT data FROM coordinator_auditevent WHERE kind='api.refused'")
    assert len(audit) >= 6
