"""schemathesis against the agent API's served OpenAPI document, on a live coordinator.

It generates valid and invalid requests for every operation (and follows the document's links
from a lease to its heartbeat and report) and checks every response against the document: no
server errors, only documented status codes and bodies, invalid input refused, auth enforced.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from coordinator.live import LiveCoordinator, query, seed

SCHEMATHESIS = str(Path(sys.executable).with_name("schemathesis"))

# An oversized body is refused with 413 before it is parsed: that is a rejection too.
CONFIG = """
[checks.negative_data_rejection]
expected-statuses = ["400", "401", "404", "409", "413", "422"]
"""


def test_the_agent_api_conforms_to_its_openapi_document(sqlite_url, tmp_path):
    tokens, _ = seed(sqlite_url, {"north": "patients", "south": ""}, [f"a{i}" for i in range(50)])
    server = LiveCoordinator(sqlite_url, lease_seconds=5).start()
    try:
        config = tmp_path / "schemathesis.toml"
        config.write_text(CONFIG)
        run = subprocess.run(
            [
                SCHEMATHESIS,
                "--config-file",
                str(config),
                "run",
                f"{server.url}/api/agent/v1/openapi.json",
                "--header",
                f"Authorization: Bearer {tokens['north']}",
                "--checks",
                "all",
                "--max-examples",
                "25",
                "--seed",
                "7",
                "--workers",
                "1",
                "--no-shrink",
                "--report-dir",
                str(tmp_path / "report"),
            ],
            capture_output=True,
            text=True,
            check=False,
            cwd=tmp_path,  # its cache goes there, not into the repository
        )
    finally:
        server.stop()
    assert run.returncode == 0, run.stdout[-8000:] + run.stderr[-2000:]
    assert "Schemathesis" in run.stdout and " passed" in run.stdout

    # Whatever it tried, every job's state is the one its audit trail ends in, and the other
    # backend's jobs were never touched.
    last = {}
    for target, data in query(
        sqlite_url,
        "SELECT target, data FROM coordinator_auditevent WHERE kind = 'job.state' ORDER BY id",
    ):
        last[target] = json.loads(data)["after"]
    jobs = query(
        sqlite_url,
        "SELECT j.id, j.state, b.name FROM coordinator_job j "
        "JOIN coordinator_backend b ON b.id = j.backend_id",
    )
    assert {f"job:{pk}": state for pk, state, _ in jobs} == last
    assert {state for _, state, name in jobs if name == "south"} == {"pending"}
    assert {state for _, state, name in jobs if name == "north"} != {"pending"}
