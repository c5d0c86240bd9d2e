"""The coordinator on a real PostgreSQL server: migrations (with the audit triggers), a live
server, concurrent leases and the public log."""

from __future__ import annotations

import threading

import httpx
import psycopg
import pytest

from coordinator.agent_client import AgentClient
from coordinator.live import LiveCoordinator, seed
from coordinator.postgres import postgres_server


@pytest.fixture(scope="module")
def postgres():
    with postgres_server() as server:
        yield server


def test_the_coordinator_runs_on_postgresql(postgres):
    url = postgres.create_database("coordinator_live")
    tokens, request_id = seed(url, {"north": "patients", "south": "patients"}, ["a", "b", "c"])
    server = LiveCoordinator(url).start()
    try:
        leased: list[dict] = []
        lock = threading.Lock()

        def agent(name: str) -> None:
            client = AgentClient(server.url, tokens[name])
            while jobs := client.lease(1):
                for job in jobs:
                    client.run_to(job, "succeeded", exit_code=0)
                with lock:
                    leased.extend(jobs)

        threads = [threading.Thread(target=agent, args=(n,)) for n in ("north", "north", "south")]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(j["id"] for j in leased) == sorted({j["id"] for j in leased})
        assert sorted((j["backend"], j["action"]) for j in leased) == [
            (b, a) for b in ("north", "south") for a in ("a", "b", "c")
        ]
        other = AgentClient(server.url, tokens["south"])
        north_job = next(j for j in leased if j["backend"] == "north")
        assert other.call("GET", f"/jobs/{north_job['id']}").status_code == 404
        page = httpx.get(f"{server.url}/jobs/{request_id}/").text
        assert page.count('class="state">succeeded<') == 6
    finally:
        server.stop()

    with psycopg.connect(url) as connection:
        states = connection.execute("SELECT DISTINCT state FROM coordinator_job").fetchall()
        assert states == [("succeeded",)]
        refused = connection.execute(
            "SELECT count(*) FROM coordinator_auditevent WHERE kind = 'api.refused'"
        ).fetchone()
        assert refused == (1,)


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE coordinator_auditevent SET kind = 'changed'",
        "DELETE FROM coordinator_auditevent",
        "TRUNCATE coordinator_auditevent",
    ],
)
def test_postgresql_refuses_to_change_the_audit_log(postgres, sql):
    url = postgres.create_database(f"coordinator_audit_{abs(hash(sql))}")
    seed(url, {"north": ""})
    with psycopg.connect(url) as connection:
        before = connection.execute("SELECT count(*) FROM coordinator_auditevent").fetchone()
        assert before[0] > 0
        with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
            connection.execute(sql)
        connection.rollback()
        after = connection.execute("SELECT count(*) FROM coordinator_auditevent").fetchone()
        assert after == before
