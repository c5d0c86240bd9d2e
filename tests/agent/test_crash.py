"""Crash safety: ``kill -9`` of a real agent process at many points of a job, then a restart.

Each run is a fresh request (generate the dataset, then analyse it) on one DuckDB backend. The
agent is killed at a named point (``FEDSAFE_AGENT_TEST_PAUSE`` stops it there: after the
lease, after reporting running, in the middle of the analysis action, after the outputs are
staged, between the renames of a commit, after the outputs are stored but before the final
report) or after a random delay, and restarted with ``--once``. Every time:

* every job of the request ends ``succeeded``, reported to succeeded exactly once;
* the stores hold exactly the outputs of this request's jobs, whole (hashes checked), the
  medium store only the moderately sensitive one, with no staging leftovers;
* a job whose outputs had been staged before the kill was not run again (one attempt);
* no process of an interrupted action is left running, and no working copy is left behind.

A coordinator restart in the middle of a job loses nothing either: the agent's reports wait
for it to come back.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest

from agent.world import (
    ANALYSE,
    OUTPUT_NAME,
    SECRET_NAME,
    AgentProcess,
    duckdb_backend,
    seed_coordinator,
    study_repo,
)
from agent.world import request as make_request
from coordinator.live import LiveCoordinator, in_coordinator, query
from fedsafe.agent.state import AgentState

pytestmark = pytest.mark.slow

# The analysis pauses a little after it starts, so "in the middle of the action" is a real
# place to kill the agent.
SLOW_ANALYSE = ANALYSE.replace(
    'time.sleep(float(os.environ.get("ANALYSE_SLEEP", "0") or 0))', "time.sleep(2)"
)
WAIT_LIMIT = 300  # seconds; a fail-safe against hanging, not a timing assertion


@dataclass
class World:
    database: str
    server: LiveCoordinator
    config: Path
    token: str
    commit: str

    @property
    def agent_dir(self) -> Path:
        return self.config.parent / "agent"

    def agent(self, **env: str) -> AgentProcess:
        return AgentProcess(self.config, self.server.url, self.token, extra_env=env)

    def request(self) -> int:
        return make_request(self.database, ["generate_dataset", "analyse"], self.commit, "all")


@pytest.fixture(scope="module")
def world(tmp_path_factory, migrated_sqlite, runtime_cache):
    root = tmp_path_factory.mktemp("crash")
    (root / "coordinator").mkdir()
    database = f"sqlite:///{root / 'coordinator' / 'coordinator.sqlite3'}"
    shutil.copy(migrated_sqlite, root / "coordinator" / "coordinator.sqlite3")
    url, commit, _ = study_repo(root, SLOW_ANALYSE)
    config = duckdb_backend(root / "north", "north")
    tokens = seed_coordinator(database, ["north"], url)
    server = LiveCoordinator(database).start()
    yield World(database, server, config, tokens["north"], commit)
    server.stop()


def wait_for_line(process: subprocess.Popen, text: str) -> list[str]:
    """Read the agent's output until a line contains ``text``."""
    seen = []
    assert process.stdout is not None
    deadline = time.monotonic() + WAIT_LIMIT
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            raise AssertionError("agent ended before " + text + ":\n" + "".join(seen))
        seen.append(line)
        if text in line:
            return seen
    raise AssertionError(f"no {text!r} within the limit")


def wait_for_file(pattern: str, root: Path, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + WAIT_LIMIT
    while time.monotonic() < deadline:
        if list(root.glob(pattern)):
            return
        assert process.poll() is None, "agent ended before the action started"
        time.sleep(0.05)
    raise AssertionError(f"no {pattern} within the limit")


def kill9(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGKILL)
    process.wait()


def processes_in(folder: Path) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cwd = Path(os.readlink(entry / "cwd"))
            except OSError:
                continue
            if cwd.is_relative_to(folder):
                found.append(int(entry.name))
    return found


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def check_invariants(world: World, request_id: int, staged_before_kill: set[int]) -> None:
    jobs = query(
        world.database,
        "SELECT id, action, state FROM coordinator_job WHERE job_request_id = ? ORDER BY id",
        request_id,
    )
    assert [(a, s) for _, a, s in jobs] == [
        ("generate_dataset", "succeeded"),
        ("analyse", "succeeded"),
    ]
    ids = {action: job_id for job_id, action, _ in jobs}
    for job_id, _, _ in jobs:
        [(reports,)] = query(
            world.database,
            "SELECT count(*) FROM coordinator_auditevent WHERE kind = 'job.state' AND target = ? "
            "AND json_extract(data, '$.after') = 'succeeded'",
            f"job:{job_id}",
        )
        assert reports == 1
    state = {r.job_id: r for r in AgentState(world.agent_dir / "state.sqlite3").all()}
    for job_id in ids.values():
        assert state[job_id].phase == "reported"
        assert state[job_id].final_state == "succeeded"
        if job_id in staged_before_kill:
            assert state[job_id].attempt == 1, "outputs were kept, yet the action ran again"
    # The stores: exactly this request's outputs, whole.
    high = world.agent_dir / "high" / "workspaces" / "hba1c"
    medium = world.agent_dir / "medium" / "workspaces" / "hba1c"
    manifest = json.loads((high / "metadata" / "manifest.json").read_text())
    assert (
        manifest["actions"]["generate_dataset"]["fingerprint"] == f"job-{ids['generate_dataset']}"
    )
    assert manifest["actions"]["analyse"]["fingerprint"] == f"job-{ids['analyse']}"
    assert set(manifest["outputs"]) == {
        "output/dataset.arrow",
        f"output/{SECRET_NAME}.csv",
        f"output/{OUTPUT_NAME}.csv",
    }
    for path, record in manifest["outputs"].items():
        assert sha256(high / path) == record["sha256"]
        assert state[ids[record["action"]]].outputs[path]["sha256"] == record["sha256"]
    medium_manifest = json.loads((medium / "metadata" / "manifest.json").read_text())
    assert set(medium_manifest["outputs"]) == {f"output/{OUTPUT_NAME}.csv"}
    assert sorted(p.name for p in (medium / "output").iterdir()) == [f"{OUTPUT_NAME}.csv"]
    assert sha256(medium / f"output/{OUTPUT_NAME}.csv") == sha256(
        high / f"output/{OUTPUT_NAME}.csv"
    )
    for store in ("high", "medium"):
        staging = world.agent_dir / store / ".staging"
        assert not staging.exists() or list(staging.iterdir()) == []
    work = world.agent_dir / "work"
    assert not work.exists() or list(work.iterdir()) == []
    assert processes_in(world.agent_dir) == []


def staged_jobs(world: World, request_id: int) -> set[int]:
    """The jobs whose outputs the agent had staged (or kept) when it was killed."""
    path = world.agent_dir / "state.sqlite3"
    if not path.exists():
        return set()
    ids = {
        r[0]
        for r in query(
            world.database, "SELECT id FROM coordinator_job WHERE job_request_id = ?", request_id
        )
    }
    return {
        r.job_id
        for r in AgentState(path).all()
        if r.job_id in ids and (r.phase in ("staged", "done", "reported") and r.outputs)
    }


def phases(world: World, request_id: int) -> list[str]:
    """Where this request's jobs were, in the agent's state, when it was killed."""
    ids = [
        r[0]
        for r in query(
            world.database, "SELECT id FROM coordinator_job WHERE job_request_id = ?", request_id
        )
    ]
    path = world.agent_dir / "state.sqlite3"
    known = {r.job_id: r.phase for r in AgentState(path).all()} if path.exists() else {}
    return [f"{job_id}:{known.get(job_id, 'not yet leased')}" for job_id in ids]


def restart_and_check(world: World, request_id: int) -> str:
    print(f"request {request_id}: killed with its jobs at {phases(world, request_id)}")
    staged = staged_jobs(world, request_id)
    code, out = world.agent().run(timeout=WAIT_LIMIT)
    assert code == 0, out
    check_invariants(world, request_id, staged)
    return out


POINTS = ["after_lease", "after_running", "after_staged", "mid_commit", "after_stored"]


@pytest.mark.parametrize("point", POINTS)
def test_killed_at_a_named_point_the_job_resumes_and_finishes_once(world: World, point: str):
    request_id = world.request()
    agent = world.agent(FEDSAFE_AGENT_TEST_PAUSE=point).start()
    wait_for_line(agent.process, f"paused at {point}")
    # The agent only connects outward: it listens on no socket, TCP or UDP, v4 or v6.
    listening = [
        c
        for c in psutil.Process(agent.process.pid).net_connections(kind="inet")
        if c.status == psutil.CONN_LISTEN or not c.raddr
    ]
    assert listening == []
    kill9(agent.process)
    out = restart_and_check(world, request_id)
    if point in ("after_staged", "mid_commit", "after_stored"):
        assert "running action 'generate_dataset'" not in out  # kept outputs: not run again


def test_killed_in_the_middle_of_the_action_it_runs_again_and_nothing_is_left(world: World):
    request_id = world.request()
    agent = world.agent().start()
    wait_for_file(
        "work/job-*/attempt-*/tmp/*/workspace/started.flag", world.agent_dir, agent.process
    )
    kill9(agent.process)
    # The action dies with the agent (each process of the chain is bound to its parent's life),
    # but asynchronously: whether any is still there at this instant is a race, so this test
    # does not depend on it; the restart stops any that is (restart_and_check asserts none is
    # left) and runs the action again from a fresh working copy.
    out = restart_and_check(world, request_id)
    assert "attempt 2" in out


@pytest.mark.parametrize("seed", range(8))
def test_killed_after_a_random_delay_the_invariants_hold(world: World, seed: int):
    """Half the runs count the delay from the agent's start (landing mostly in the dataset
    action), half from the lease of the analysis job (landing anywhere in it)."""
    request_id = world.request()
    rng = random.Random(seed)
    agent = world.agent().start()
    if seed % 2:
        wait_for_line(agent.process, "leased (action 'analyse')")
        delay = rng.uniform(0.0, 5.0)
    else:
        delay = rng.uniform(0.3, 9.0)
    deadline = time.monotonic() + delay
    while time.monotonic() < deadline and agent.process.poll() is None:
        time.sleep(0.05)
    kill9(agent.process)
    restart_and_check(world, request_id)


def test_killed_twice_in_a_row_it_still_finishes_once(world: World):
    request_id = world.request()
    for point in ("after_staged", "after_stored"):
        agent = world.agent(FEDSAFE_AGENT_TEST_PAUSE=point).start()
        wait_for_line(agent.process, f"paused at {point}")
        kill9(agent.process)
    restart_and_check(world, request_id)


def test_a_coordinator_restart_mid_job_loses_nothing(world: World):
    request_id = world.request()
    agent = world.agent().start()
    wait_for_file(
        "work/job-*/attempt-*/tmp/*/workspace/started.flag", world.agent_dir, agent.process
    )
    port = int(world.server.url.rsplit(":", 1)[1].strip("/"))
    world.server.kill()  # kill -9: the agent's heartbeats and reports now fail
    time.sleep(3)  # the action finishes while the coordinator is down
    world.server = LiveCoordinator(world.database, port=port).start()
    code, out = agent.wait(timeout=WAIT_LIMIT)
    assert code == 0, out
    check_invariants(world, request_id, set())


def test_a_lease_that_lapsed_while_the_agent_was_down_is_reported_not_run_again(
    tmp_path, migrated_sqlite
):
    (tmp_path / "coordinator").mkdir()
    shutil.copy(migrated_sqlite, tmp_path / "coordinator" / "coordinator.sqlite3")
    database = f"sqlite:///{tmp_path / 'coordinator' / 'coordinator.sqlite3'}"
    url, commit, _ = study_repo(tmp_path, SLOW_ANALYSE)
    config = duckdb_backend(tmp_path / "north", "north")
    tokens = seed_coordinator(database, ["north"], url)
    server = LiveCoordinator(database, lease_seconds=3).start()
    try:
        world = World(database, server, config, tokens["north"], commit)
        request_id = world.request()
        agent = world.agent(FEDSAFE_AGENT_TEST_PAUSE="after_stored").start()
        wait_for_line(agent.process, "paused at after_stored")
        kill9(agent.process)
        time.sleep(4)  # longer than the lease: the coordinator will offer the job again
        out = restart_and_check(world, request_id)
        assert "running action 'generate_dataset'" not in out
        [(leases,)] = query(
            database,
            "SELECT count(*) FROM coordinator_auditevent WHERE kind = 'job.state' "
            "AND json_extract(data, '$.after') = 'pending' AND target = ?",
            f"job:{min(i for (i,) in query(database, 'SELECT id FROM coordinator_job'))}",
        )
        assert leases == 2  # created pending, and put back to pending when the lease lapsed
    finally:
        server.stop()


def test_killed_mid_action_then_cancelled_while_down_it_stops_and_reports_cancelled(
    world: World,
):
    request_id = world.request()
    agent = world.agent().start()
    wait_for_file(
        "work/job-*/attempt-*/tmp/*/workspace/started.flag", world.agent_dir, agent.process
    )
    kill9(agent.process)
    # The action does not outlive the agent: its process, the executor's confining program
    # and the command each die with their parent (PR_SET_PDEATHSIG), asynchronously.
    deadline = time.monotonic() + 30
    while processes_in(world.agent_dir / "work") and time.monotonic() < deadline:
        time.sleep(0.1)
    assert processes_in(world.agent_dir / "work") == []
    in_coordinator(
        world.database,
        f"result = cancel_request(User.objects.get(username='rita'), "
        f"JobRequest.objects.get(pk={request_id}))",
    )
    code, out = world.agent().run(timeout=WAIT_LIMIT)
    assert code == 0, out
    jobs = query(
        world.database,
        "SELECT id, action, state FROM coordinator_job WHERE job_request_id = ? ORDER BY id",
        request_id,
    )
    assert [(a, s) for _, a, s in jobs] == [
        ("generate_dataset", "succeeded"),
        ("analyse", "cancelled"),
    ]
    assert processes_in(world.agent_dir) == []
    manifest = json.loads(
        (world.agent_dir / "high/workspaces/hba1c/metadata/manifest.json").read_text()
    )
    # Never recorded as a success (killed with the agent, it may have no entry at all).
    analyse = manifest["actions"].get("analyse") or {}
    assert analyse.get("fingerprint") != f"job-{jobs[1][0]}"
    work = world.agent_dir / "work"
    assert not work.exists() or list(work.iterdir()) == []
