"""A request's crate served by a coordinator on a real PostgreSQL server (the crate reads the
audit log's JSON, which each database queries its own way)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import httpx
import pytest

from coordinator.agent_client import AgentClient
from coordinator.live import LiveCoordinator, seed
from coordinator.postgres import postgres_server
from fedsafe.provenance import vocabulary as v
from fedsafe.provenance.bag import open_bag
from fedsafe.provenance.conformance import check, entities


@pytest.fixture(scope="module")
def postgres():
    with postgres_server() as server:
        yield server


def test_crate_download_on_postgresql(postgres):
    url = postgres.create_database("coordinator_crates")
    tokens, request_id = seed(url, {"north": "patients", "south": "patients"}, ["a"])
    server = LiveCoordinator(url).start()
    try:
        agent = AgentClient(server.url, tokens["north"])
        [job] = agent.lease()
        agent.run_to(job, "succeeded", exit_code=0)
        response = httpx.get(f"{server.url}/jobs/{request_id}/crate.zip", timeout=60)
        assert response.status_code == 200
        with tempfile.TemporaryDirectory() as tmp:
            bag = open_bag(response.content, Path(tmp))
        # The seeded workspace's repository (example.org) cannot be reached here, so the
        # crate has no code archive: exactly the two SHOULDs that depend on it are reported.
        findings = check(bag.metadata, bag)
        assert {(f.rule, f.level) for f in findings} == {
            ("bag.payload", "SHOULD"),
            ("main.distribution", "SHOULD"),
        }
        signoffs = {
            e["name"]: e["actionStatus"]
            for e in entities(bag.metadata).values()
            if e.get("additionalType") == {"@id": v.SHP + "SignOff"}
        }
        assert signoffs == {
            "Sign-off by backend north's policy: approved": v.COMPLETED,
            "Sign-off by backend south's policy: not reached": v.POTENTIAL,
        }
        one = httpx.get(f"{server.url}/jobs/{request_id}/crate.zip?backend=west", timeout=60)
        assert one.status_code == 404 and "did not run on backend 'west'" in one.json()["detail"]
    finally:
        server.stop()
