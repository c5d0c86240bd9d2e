"""The agent API over real HTTP against a live ``fedsafe coordinator serve`` process, driven
by the test agent client, including the attacks a stolen or buggy agent might try."""

from __future__ import annotations

import json
import threading

import httpx
import pytest

from coordinator.agent_client import AgentClient
from coordinator.live import LiveCoordinator, cli, query, seed
from fedsafe.agent_protocol.states import JobState


@pytest.fixture
def world(sqlite_url):
    database = sqlite_url
    tokens, request_id = seed(
        database, {"north": "patients,events", "south": "patients"}, actions=["a", "b"]
    )
    server = LiveCoordinator(database).start()
    agents = {name: AgentClient(server.url, token) for name, token in tokens.items()}
    yield server, agents, request_id
    server.stop()


def refusals(database: str) -> list[list]:
    rows = query(
        database,
        "SELECT actor, target, json_extract(data, '$.reason') FROM coordinator_auditevent "
        "WHERE kind = 'api.refused' ORDER BY id",
    )
    return [list(row) for row in rows]


def job_states(database: str) -> dict[str, str]:
    return {
        str(pk): state for pk, state in query(database, "SELECT id, state FROM coordinator_job")
    }


def test_agents_lease_run_and_report_and_the_public_log_shows_it(world):
    server, agents, request_id = world
    north = agents["north"].lease(max_jobs=5)
    assert sorted((j["backend"], j["action"]) for j in north) == [("north", "a"), ("north", "b")]
    assert {j["commit"] for j in north} == {"a" * 40}
    assert {j["repo_url"] for j in north} == {"https://example.org/study.git"}
    for job in north:
        assert (
            agents["north"].heartbeat(job["id"], job["lease_id"]).json()["cancel_requested"]
            is False
        )
        agents["north"].run_to(job, "succeeded", exit_code=0)
    south = agents["south"].lease(max_jobs=5)
    agents["south"].run_to(south[0], "succeeded", exit_code=0)
    agents["south"].run_to(
        south[1], "failed", exit_code=1, error_class="KeyError", message="column 'x' not found"
    )

    page = httpx.get(f"{server.url}/jobs/{request_id}/").text  # no login needed
    assert page.count('class="state">succeeded<') == 3
    assert "KeyError: column &#x27;x&#x27; not found" in page
    log = httpx.get(f"{server.url}/jobs/").text
    assert "testing" in log and "a" * 40 in log and "north, south" in log
    assert '<td class="state">failed</td>' in log


def test_a_backend_cannot_see_or_touch_another_backends_jobs(world):
    server, agents, _ = world
    [south_job] = agents["south"].lease(1)
    [north_job] = agents["north"].lease(1)
    north = agents["north"]
    attempts = [
        north.call("GET", f"/jobs/{south_job['id']}"),
        north.heartbeat(south_job["id"], south_job["lease_id"]),
        north.report(south_job["id"], south_job["lease_id"], "running"),
        north.report(south_job["id"], north_job["lease_id"], "running"),
    ]
    assert [r.status_code for r in attempts] == [404, 404, 404, 404]
    assert all("no job" in r.json()["detail"] for r in attempts)
    assert [j["id"] for j in north.jobs()] == [
        north_job["id"],
        *[j["id"] for j in north.jobs()][1:],
    ]
    assert south_job["id"] not in {j["id"] for j in north.jobs()}
    assert job_states(server.database)[str(south_job["id"])] == "leased"
    assert (
        refusals(server.database)
        == [["backend:north", f"job:{south_job['id']}", "no such job for this backend"]] * 4
    )


def test_a_revoked_token_and_an_unknown_token_are_refused_and_audited(world):
    server, agents, _ = world
    revoked = cli("revoke-backend", "north", database=server.database)
    assert revoked.returncode == 0, revoked.stderr
    response = agents["north"].call("POST", "/jobs/lease", {"max_jobs": 1})
    assert response.status_code == 401
    stranger = AgentClient(server.url, "fsb_not-a-real-token")
    assert stranger.call("GET", "/jobs").status_code == 401
    assert httpx.get(f"{server.url}/api/agent/v1/jobs").status_code == 401
    assert set(job_states(server.database).values()) == {"pending"}
    reasons = [r[2] for r in refusals(server.database)]
    assert reasons[0].startswith("revoked token fsb_")
    assert reasons[1] == "unknown token"
    token = cli("issue-token", "north", database=server.database).stdout.strip()
    assert len(AgentClient(server.url, token).lease(1)) == 1


def test_an_impossible_transition_is_refused_and_audited(world):
    server, agents, _ = world
    [job] = agents["north"].lease(1)
    response = agents["north"].report(job["id"], job["lease_id"], "succeeded")
    assert response.status_code == 409
    assert "cannot move a job from leased to succeeded" in response.json()["detail"]
    assert job_states(server.database)[str(job["id"])] == "leased"
    assert refusals(server.database) == [
        ["backend:north", f"job:{job['id']}", "an agent cannot move a job from leased to succeeded"]
    ]


@pytest.mark.parametrize(
    ("facts", "field"),
    [
        ({"message": "line one\nTraceback (most recent call last):"}, "message"),
        ({"message": "x" * 201}, "message"),
        ({"message": "tab\there"}, "message"),
        ({"error_class": "not a class"}, "error_class"),
        ({"exit_code": 100000}, "exit_code"),
        ({"log": "patient 123 has diabetes"}, "log"),
        ({"outputs": ["output/dataset.csv"]}, "outputs"),
        ({"state": "exploded"}, "state"),
    ],
)
def test_reports_that_could_carry_logs_or_data_are_refused_naming_the_field(world, facts, field):
    server, agents, _ = world
    [job] = agents["north"].lease(1)
    agents["north"].report(job["id"], job["lease_id"], "running").raise_for_status()
    body = {"lease_id": job["lease_id"], "state": "failed", **facts}
    response = agents["north"].call("POST", f"/jobs/{job['id']}/state", body)
    assert response.status_code == 422
    assert [d["loc"][-1] for d in response.json()["detail"]] == [field]
    assert job_states(server.database)[str(job["id"])] == "running"


def test_oversized_bodies_are_refused_before_they_are_read(world):
    server, agents, _ = world
    [job] = agents["north"].lease(1)
    big = {"lease_id": job["lease_id"], "state": "running", "padding": "x" * 5000}
    response = agents["north"].call("POST", f"/jobs/{job['id']}/state", big)
    assert response.status_code == 413
    assert "at most 4096 bytes" in response.json()["detail"]
    assert job_states(server.database)[str(job["id"])] == "leased"


def test_concurrent_leases_never_hand_out_a_job_twice(sqlite_url):
    database = sqlite_url
    tokens, _ = seed(database, {"north": ""}, actions=[f"action{i}" for i in range(24)])
    token = tokens["north"]
    server = LiveCoordinator(database).start()
    try:
        leased: list[int] = []
        lock = threading.Lock()

        def agent() -> None:
            client = AgentClient(server.url, token)
            while jobs := client.lease(max_jobs=2):
                with lock:
                    leased.extend(j["id"] for j in jobs)

        threads = [threading.Thread(target=agent) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(leased) == 24
        assert len(set(leased)) == 24
    finally:
        server.stop()


def test_a_backend_declares_the_tables_it_provides(world):
    server, agents, _ = world
    response = agents["south"].call("PUT", "/backend/provides", {"tables": ["patients", "events"]})
    assert response.json() == {"name": "south", "provides": ["events", "patients"]}
    bad = agents["south"].call("PUT", "/backend/provides", {"tables": ["Robert'); DROP"]})
    assert bad.status_code == 422
    assert agents["south"].call("GET", "/backend").json()["provides"] == ["events", "patients"]
    audited = query(
        server.database, "SELECT data FROM coordinator_auditevent WHERE kind = 'backend.provides'"
    )
    assert [json.loads(d) for (d,) in audited] == [
        {"before": ["patients"], "after": ["events", "patients"]}
    ]


def test_the_openapi_document_is_served_with_the_contract(world):
    server, _, _ = world
    document = httpx.get(f"{server.url}/api/agent/v1/openapi.json").json()
    assert set(document["paths"]) == {
        "/api/agent/v1/backend",
        "/api/agent/v1/backend/provides",
        "/api/agent/v1/jobs/lease",
        "/api/agent/v1/jobs",
        "/api/agent/v1/jobs/{job_id}",
        "/api/agent/v1/jobs/{job_id}/heartbeat",
        "/api/agent/v1/jobs/{job_id}/state",
    }
    schemes = document["components"]["securitySchemes"]
    assert [s["scheme"] for s in schemes.values()] == ["bearer"]
    report = document["components"]["schemas"]["StateReport"]
    assert report["additionalProperties"] is False
    assert set(report["properties"]) == {
        "lease_id",
        "state",
        "started_at",
        "finished_at",
        "exit_code",
        "error_class",
        "message",
    }
    states = document["components"]["schemas"]["JobState"]["enum"]
    assert states == [s.value for s in JobState]
