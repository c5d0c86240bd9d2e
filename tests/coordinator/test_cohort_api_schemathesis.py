"""schemathesis against the agent cohort API's served OpenAPI document, on a live coordinator:
valid and invalid leases and answers, every response checked against the document (no server
errors, only documented statuses, invalid bodies refused). Whatever it sent, the other
backend's queries were never touched and no answer holds anything but a safe count and rule
or a refusal's class."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from coordinator.live import LiveCoordinator, in_coordinator, query

SCHEMATHESIS = str(Path(sys.executable).with_name("schemathesis"))

CONFIG = """
[checks.negative_data_rejection]
expected-statuses = ["400", "401", "404", "409", "413", "422"]
"""


def test_the_cohort_agent_api_conforms_to_its_openapi_document(sqlite_url, tmp_path):
    tokens = in_coordinator(
        sqlite_url,
        """
from fedsafe.coordinator.setup_records import add_backend
from fedsafe.coordinator.cohort_queries import submit_query
tokens = {n: add_backend(n, "patients").token for n in ("north", "south")}
user = User.objects.create_user("rita", password="x" * 12)
women = {"groups": [{"rules": [{"domain": "person", "sex": "female"}]}]}
for _ in range(30):
    submit_query(user, women)
result = tokens
""",
    )
    server = LiveCoordinator(sqlite_url).start()
    try:
        config = tmp_path / "schemathesis.toml"
        config.write_text(CONFIG)
        run = subprocess.run(
            [
                SCHEMATHESIS, "--config-file", str(config), "run",
                f"{server.url}/api/agent/v1/cohort/openapi.json",
                "--header", f"Authorization: Bearer {tokens['north']}",
                "--checks", "all", "--max-examples", "25", "--seed", "7", "--workers", "1",
                "--no-shrink", "--report-dir", str(tmp_path / "report"),
            ],
            capture_output=True, text=True, check=False, cwd=tmp_path,
        )  # fmt: skip
    finally:
        server.stop()
    assert run.returncode == 0, run.stdout[-8000:] + run.stderr[-2000:]
    assert "Schemathesis" in run.stdout and " passed" in run.stdout

    rows = query(
        sqlite_url,
        "SELECT b.name, a.state, a.leased_at, a.safe_count, a.rule, a.refused "
        "FROM coordinator_cohortanswer a JOIN coordinator_backend b ON b.id = a.backend_id",
    )
    assert {(state, leased) for name, state, leased, *_ in rows if name == "south"} == {
        ("pending", None)
    }
    for _, state, _, safe_count, rule, refused in rows:
        if state == "answered":
            assert safe_count is not None and safe_count >= 0 and rule and not refused
        elif state == "refused":
            assert safe_count is None and refused
        else:
            assert state == "pending" and safe_count is None and not rule and not refused
