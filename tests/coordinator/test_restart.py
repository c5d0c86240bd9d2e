"""kill -9 the coordinator while agents are talking to it, restart it on the same database,
and check that nothing was lost and no job was ever held by two leases at once."""

from __future__ import annotations

import itertools
import json
import threading
import time

import httpx

from coordinator.agent_client import AgentClient
from coordinator.live import LiveCoordinator, query, seed
from fedsafe.agent_protocol.states import TRANSITIONS, JobState

JOBS = 30
LEASE = 5  # seconds; short, so the leases held at the crash expire soon
GIVE_UP = 180  # seconds: a fail-safe so a broken coordinator cannot hang the suite


def trails(database: str) -> dict[str, list[tuple[str | None, str]]]:
    out: dict[str, list[tuple[str | None, str]]] = {}
    for target, data in query(
        database,
        "SELECT target, data FROM coordinator_auditevent WHERE kind = 'job.state' ORDER BY id",
    ):
        change = json.loads(data)
        out.setdefault(target, []).append((change["before"], change["after"]))
    return out


def assert_every_trail_is_a_legal_path(database: str) -> None:
    """Each job's audit trail starts at pending and every step is an allowed transition from
    where the previous one left it: so no job was leased while already leased."""
    states = dict(query(database, "SELECT 'job:' || id, state FROM coordinator_job"))
    found = trails(database)
    assert set(found) == set(states)
    for target, trail in found.items():
        assert trail[0] == (None, "pending"), target
        for (_, previous), (before, after) in itertools.pairwise(trail):
            assert before == previous, (target, trail)
            assert (JobState(before), JobState(after)) in TRANSITIONS, (target, trail)
        assert trail[-1][1] == states[target], target


def test_a_killed_coordinator_restarts_with_nothing_lost(sqlite_url):
    tokens, _ = seed(sqlite_url, {"north": ""}, [f"a{i}" for i in range(JOBS)])
    agent_token = tokens["north"]
    server = LiveCoordinator(sqlite_url, lease_seconds=LEASE).start()
    agent = AgentClient(server.url, agent_token)
    held = agent.lease(4)
    for job in held[:2]:
        assert agent.report(job["id"], job["lease_id"], "running").status_code == 200

    acknowledged: list[dict] = []  # leases the coordinator said yes to
    lock = threading.Lock()
    first_answer = threading.Event()

    def hammer() -> None:
        client = AgentClient(server.url, agent_token)
        while True:
            try:
                jobs = client.lease(1)
                for job in held[:2]:
                    client.heartbeat(job["id"], job["lease_id"])
            except (httpx.HTTPError, OSError):
                return  # the server is gone
            with lock:
                acknowledged.extend(jobs)
            first_answer.set()

    threads = [threading.Thread(target=hammer) for _ in range(3)]
    for t in threads:
        t.start()
    assert first_answer.wait(GIVE_UP)
    server.kill()  # mid-request: the other threads still have requests in flight
    for t in threads:
        t.join()

    # Every lease the coordinator acknowledged before dying is in its database and audit log.
    assert query(sqlite_url, "PRAGMA integrity_check") == [("ok",)]
    assert query(sqlite_url, "SELECT count(*) FROM coordinator_job") == [(JOBS,)]
    leased_trails = trails(sqlite_url)
    for job in acknowledged + held:
        assert ("pending", "leased") in leased_trails[f"job:{job['id']}"]
    assert_every_trail_is_a_legal_path(sqlite_url)

    # Restart: the leases held when it died expire and their jobs are offered again, with new
    # lease ids; the old ones are refused. Then every job can be finished, exactly once.
    server = LiveCoordinator(sqlite_url, lease_seconds=LEASE).start()
    agent = AgentClient(server.url, agent_token)
    try:
        old = held[0]
        finished: set[int] = set()
        deadline = time.monotonic() + GIVE_UP
        while len(finished) < JOBS:
            assert time.monotonic() < deadline, f"only {len(finished)} of {JOBS} jobs came back"
            for job in agent.lease(2):
                assert job["id"] not in finished  # a finished job is never offered again
                running = agent.report(job["id"], job["lease_id"], "running")
                done = agent.report(job["id"], job["lease_id"], "succeeded", exit_code=0)
                if running.status_code == done.status_code == 200:
                    finished.add(job["id"])
                else:  # this machine was slower than the lease: the job comes back later
                    assert done.status_code == 409, done.text
            time.sleep(0.5)
        stale = agent.report(old["id"], old["lease_id"], "failed", exit_code=1)
        assert stale.status_code == 409
    finally:
        server.stop()
    assert set(dict(query(sqlite_url, "SELECT state, 1 FROM coordinator_job"))) == {"succeeded"}
    assert_every_trail_is_a_legal_path(sqlite_url)
