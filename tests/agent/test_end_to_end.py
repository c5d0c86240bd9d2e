"""Federation end to end, over real HTTP: a live coordinator, two backends (DuckDB in fedsafe's
native tables and SQLite in OMOP form, holding the same patients), one real agent process for
each. One request to "all" runs on both; the public log shows it; one backend's token cannot
touch the other's jobs; and nothing the coordinator stored holds a log line, an output's
content or name, or a patient's value."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from agent.scan import leaks
from agent.world import (
    CONTENT_MARKER,
    LOG_MARKER,
    OUTPUT_NAME,
    PATIENT_BIRTH,
    PATIENT_VALUE,
    SECRET_NAME,
    AgentProcess,
    duckdb_backend,
    request,
    seed_coordinator,
    sqlite_omop_backend,
    study_repo,
)
from coordinator.agent_client import AgentClient
from coordinator.live import LiveCoordinator, query

pytestmark = pytest.mark.slow

MARKERS = [
    LOG_MARKER,
    CONTENT_MARKER,
    OUTPUT_NAME,
    SECRET_NAME,
    "dataset.arrow",
    str(PATIENT_VALUE),
    PATIENT_BIRTH.isoformat(),
]

LEAKY_ANALYSIS = f"""
from fedsafe_analysis import read_dataset

data = read_dataset("output/dataset.arrow")
print("{LOG_MARKER}", data.to_string())
raise KeyError(str(data["top_value"].max()) + " {CONTENT_MARKER} output/{OUTPUT_NAME}.csv")
"""


def jobs_on_page(html: str) -> dict[tuple[str, str], str]:
    rows = re.findall(
        r'data-backend="([^"]+)">\s*<td>\d+</td><td>[^<]+</td><td>([^<]+)</td>'
        r'<td class="state">([^<]+)</td>',
        html,
    )
    return {(backend, action): state for backend, action, state in rows}


def test_one_request_to_all_runs_on_both_backends_and_leaks_nothing(coordinator_db, tmp_path: Path):
    database = coordinator_db
    url, commit, work = study_repo(tmp_path)
    configs = {
        "north": duckdb_backend(tmp_path / "north", "north"),
        "south": sqlite_omop_backend(tmp_path / "south", "south"),
    }
    tokens = seed_coordinator(database, ["north", "south"], url)
    server = LiveCoordinator(database).start()
    try:
        request_id = request(database, ["generate_dataset", "analyse"], commit, "all")
        agents = {n: AgentProcess(configs[n], server.url, tokens[n]) for n in configs}
        for agent in agents.values():
            agent.start()
        outputs = {name: agent.wait() for name, agent in agents.items()}
        for code, out in outputs.values():
            assert code == 0, out

        # The public log, read without logging in, shows both backends succeeded.
        page = httpx.get(f"{server.url}/jobs/{request_id}/").text
        assert jobs_on_page(page) == {
            (backend, action): "succeeded"
            for backend in ("north", "south")
            for action in ("generate_dataset", "analyse")
        }
        log = httpx.get(f"{server.url}/jobs/").text
        row = re.search(rf'data-request="{request_id}">(.*?)</tr>', log, re.S).group(1)
        assert "north, south" in row and commit in row
        assert '<td class="state">succeeded</td>' in row

        # Each backend ran on its own real data: the dataset holds the distinctive patient.
        for name, config in configs.items():
            high = config.parent / "agent" / "high" / "workspaces" / "hba1c" / "output"
            rows = (high / f"{SECRET_NAME}.csv").read_text()
            assert PATIENT_BIRTH.isoformat() in rows and str(PATIENT_VALUE) in rows, name
            medium = config.parent / "agent" / "medium" / "workspaces" / "hba1c" / "output"
            assert sorted(p.name for p in medium.iterdir()) == [f"{OUTPUT_NAME}.csv"]

        # A second request whose analysis fails with patient data in its exception and log.
        (work / "analysis" / "leaky.py").write_text(LEAKY_ANALYSIS)
        yaml = (work / "project.yaml").read_text()
        (work / "project.yaml").write_text(
            yaml + "  leaky:\n    run: python:v1 analysis/leaky.py\n    needs: [generate_dataset]\n"
            "    outputs:\n      moderately_sensitive:\n        x: output/never.csv\n"
        )
        from agent.world import git

        git("add", ".", cwd=work)
        git("commit", "-qm", "leaky", cwd=work)
        git("push", "-q", url.removeprefix("file://"), "main", cwd=work)
        leaky_commit = git("rev-parse", "HEAD", cwd=work).strip()
        failing = request(database, ["leaky"], leaky_commit, ["north"])
        code, out = AgentProcess(configs["north"], server.url, tokens["north"]).run()
        assert code == 0, out
        [(state, exit_code, error_class, message)] = query(
            database,
            "SELECT state, exit_code, error_class, message FROM coordinator_job "
            "WHERE job_request_id = ?",
            failing,
        )
        assert (state, exit_code, error_class) == ("failed", 1, "ActionFailed")
        assert message == "the action exited with status 1; its log stays in the backend"
        kept_log = (configs["north"].parent / "agent" / "high" / "logs").glob("job-*.log")
        assert any(str(PATIENT_VALUE) in p.read_text() for p in kept_log)  # stays in backend
    finally:
        server.stop()

    # Nothing the coordinator holds contains a marker: every table, every column, every file
    # in its folder, and what the server printed.
    db_path = Path(database.removeprefix("sqlite:///"))
    found = leaks(db_path, db_path.parent, "".join(server.stderr_lines), MARKERS)
    assert found == []
    # The scan can fail: it finds the markers where they rightly are, in a backend's store.
    high_db = configs["north"].parent / "agent" / "state.sqlite3"
    store = configs["north"].parent / "agent" / "high"
    assert len(leaks(high_db, store, "", MARKERS)) >= len(MARKERS) - 1


def test_one_backends_token_cannot_read_or_change_the_others_jobs(coordinator_db, tmp_path: Path):
    database = coordinator_db
    url, commit, _ = study_repo(tmp_path)
    tokens = seed_coordinator(database, ["north", "south"], url)
    request(database, ["generate_dataset"], commit, "all")
    server = LiveCoordinator(database).start()
    try:
        north = AgentClient(server.url, tokens["north"])
        south = AgentClient(server.url, tokens["south"])
        [south_job] = south.lease(1)
        assert south_job["workspace"] == "hba1c"
        before = query(database, "SELECT * FROM coordinator_job ORDER BY id")
        attempts = [
            north.call("GET", f"/jobs/{south_job['id']}"),
            north.heartbeat(south_job["id"], south_job["lease_id"]),
            north.report(south_job["id"], south_job["lease_id"], "running"),
            north.report(south_job["id"], south_job["lease_id"], "failed", exit_code=1),
        ]
        assert [r.status_code for r in attempts] == [404, 404, 404, 404]
        assert south_job["id"] not in {j["id"] for j in north.jobs()}
        assert query(database, "SELECT * FROM coordinator_job ORDER BY id") == before
        # A lease id is no key either: the right backend with a wrong lease is refused (409).
        wrong = south.report(south_job["id"], "not-the-lease", "running")
        assert wrong.status_code == 409
        assert query(database, "SELECT * FROM coordinator_job ORDER BY id") == before
    finally:
        server.stop()
