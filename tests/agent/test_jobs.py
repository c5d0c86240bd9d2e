"""What the agent does with one job, over real HTTP with a live coordinator and real agent
processes: the backend's database only for dataset actions (an analysis action hunting for
it finds nothing), commits that are not on the branch refused, missing needed outputs named,
cancellation honoured, and a medium-privacy store the airlock reads as it is."""

from __future__ import annotations

import json
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from agent.world import (
    CORE,
    OUTPUT_NAME,
    PROJECT,
    SECRET_NAME,
    AgentProcess,
    git,
    population,
    study_repo,
)
from backends.databases import write_config, write_duckdb
from coordinator.live import FEDSAFE, LiveCoordinator, in_coordinator, query

pytestmark = pytest.mark.slow

SECRET_DIR = "kestrel-secret-5521"  # the database's folder, named only in an env variable
SECRET_ENV = "NORTH_DB_SECRET_DIR"
TOKEN_MARK = "fsb_"  # every backend token starts so

SNOOP = """
import json, os
from pathlib import Path

found = {"env": dict(os.environ), "opened": {}, "files_with_secret": [], "proc": {}}
for path in ["CONFIG", "DATABASE", "STATE"]:
    try:
        found["opened"][path] = len(Path(path).read_bytes())
    except OSError as exc:
        found["opened"][path] = type(exc).__name__
for root in [Path.cwd(), Path(os.environ.get("HOME", "/")), Path(os.environ.get("TMPDIR", "/"))]:
    for file in root.rglob("*"):
        if file.name == "snoop.py":  # this script names what it looks for
            continue
        try:
            text = file.read_bytes()
        except OSError:
            continue
        if b"SECRET" in text or b"CONFIG" in text or b"fsb_" in text:
            found["files_with_secret"].append(str(file))
pid = os.getppid()
for _ in range(6):
    try:
        found["proc"][str(pid)] = "fsb_" in Path(f"/proc/{pid}/environ").read_text(errors="replace")
        pid = int(Path(f"/proc/{pid}/stat").read_text().split(")")[1].split()[1])
    except (OSError, ValueError, IndexError) as exc:
        found["proc"][str(pid)] = type(exc).__name__
        break
Path("output/snoop.json").write_text(json.dumps(found))
"""

SLEEPY = """
import time
from pathlib import Path
Path("started.flag").write_text("x")
time.sleep(600)
Path("output/slept.csv").write_text("never\\n")
"""

EXTRA_ACTIONS = """
  snoop:
    run: python:v1 analysis/snoop.py
    outputs:
      moderately_sensitive:
        found: output/snoop.json
  sleepy:
    run: python:v1 analysis/sleepy.py
    outputs:
      moderately_sensitive:
        slept: output/slept.csv
"""


@dataclass
class World:
    root: Path
    database: str
    server: LiveCoordinator
    url: str
    commit: str
    work: Path

    def backend(self, name: str) -> tuple[Path, str]:
        """A new DuckDB backend whose database path is a secret from the environment."""
        folder = self.root / name
        (folder / SECRET_DIR).mkdir(parents=True)
        write_duckdb(folder / SECRET_DIR / "data.duckdb", population())
        config = write_config(
            folder / "backend.toml",
            f"duckdb:///{folder}/${{{SECRET_ENV}}}/data.duckdb",
            "native",
            CORE,
            name=name,
        )
        token = in_coordinator(
            self.database,
            "from fedsafe.coordinator.setup_records import add_backend\n"
            f"result = add_backend({name!r}, 'patients').token",
        )
        return config, token

    def request(self, actions: list[str], backend: str, commit: str | None = None) -> int:
        return in_coordinator(
            self.database,
            f"""
spec = RequestSpec(actions={actions!r}, backends=[{backend!r}], reason="testing",
                   commit={commit or self.commit!r})
result = create_job_request(User.objects.get(username="rita"),
                            Workspace.objects.get(name="hba1c"), spec).pk
""",
        )

    def agent(self, config: Path, token: str) -> AgentProcess:
        return AgentProcess(config, self.server.url, token, extra_env={SECRET_ENV: SECRET_DIR})

    def jobs(self, request_id: int) -> list[tuple]:
        return query(
            self.database,
            "SELECT action, state, exit_code, error_class, message FROM coordinator_job "
            "WHERE job_request_id = ? ORDER BY id",
            request_id,
        )


@pytest.fixture(scope="module")
def world(tmp_path_factory, migrated_sqlite, runtime_cache):
    import shutil

    root = tmp_path_factory.mktemp("jobs")
    shutil.copy(migrated_sqlite, root / "coordinator.sqlite3")
    database = f"sqlite:///{root / 'coordinator.sqlite3'}"
    url, _, work = study_repo(root)
    (work / "analysis" / "snoop.py").write_text(SNOOP)
    (work / "analysis" / "sleepy.py").write_text(SLEEPY)
    (work / "project.yaml").write_text(PROJECT + EXTRA_ACTIONS)
    git("add", ".", cwd=work)
    git("commit", "-qm", "more actions", cwd=work)
    git("push", "-q", url.removeprefix("file://"), "main", cwd=work)
    commit = git("rev-parse", "HEAD", cwd=work).strip()
    in_coordinator(
        database,
        f"""
user = User.objects.create_user("rita", password="x" * 12)
create_workspace(user, create_project(user, "diabetes"), "hba1c", {url!r}, "main")
result = 0
""",
    )
    server = LiveCoordinator(database).start()
    yield World(root, database, server, url, commit, work)
    server.stop()


def test_an_analysis_action_finds_neither_the_backend_config_nor_its_secrets(world: World):
    config, token = world.backend("snoopy")
    state = config.parent / "agent" / "state.sqlite3"
    script = world.work / "analysis" / "snoop.py"
    script.write_text(
        SNOOP.replace('"CONFIG"', repr(str(config)))
        .replace('"DATABASE"', repr(str(config.parent / SECRET_DIR / "data.duckdb")))
        .replace('"STATE"', repr(str(state)))
        .replace('b"SECRET"', repr(SECRET_DIR.encode()))
        .replace('b"CONFIG"', repr(str(config).encode()))
    )
    git("commit", "-qam", "snoop for this backend", cwd=world.work)
    git("push", "-q", world.url.removeprefix("file://"), "main", cwd=world.work)
    commit = git("rev-parse", "HEAD", cwd=world.work).strip()
    request_id = world.request(["generate_dataset", "snoop"], "snoopy", commit)
    code, out = world.agent(config, token).run()
    assert code == 0, out
    assert [row[:2] for row in world.jobs(request_id)] == [
        ("generate_dataset", "succeeded"),  # the dataset action did get the database
        ("snoop", "succeeded"),
    ]
    found = json.loads(
        (config.parent / "agent/medium/workspaces/hba1c/output/snoop.json").read_text()
    )
    env_text = json.dumps(found["env"])
    assert SECRET_ENV not in found["env"] and SECRET_DIR not in env_text
    assert "FEDSAFE_AGENT_TOKEN" not in found["env"] and TOKEN_MARK not in env_text
    assert str(config) not in env_text and "backend.toml" not in env_text
    assert set(found["opened"].values()) == {"PermissionError"}, found["opened"]
    assert found["files_with_secret"] == []
    # No ancestor's environment is readable: refused (Landlock), or not even visible (the
    # executor starts the action as the first process of a new PID namespace: parent 0).
    assert found["proc"], found["proc"]
    assert set(found["proc"].values()) <= {"PermissionError", "FileNotFoundError"}, found["proc"]
    # The dataset action, by contrast, ran on the backend (its log, kept there, says so).
    logs = {
        p.read_text().splitlines()[0]: p.read_text()
        for p in (config.parent / "agent/high/logs").glob("*.log")
    }
    assert f"--backend {config}" in logs["action: generate_dataset"]
    assert "on backend snoopy" in logs["action: generate_dataset"]
    assert "--backend" not in logs["action: snoop"]


def test_a_commit_not_on_the_workspace_branch_is_refused(world: World):
    config, token = world.backend("strict")
    git("checkout", "-q", "-b", "elsewhere", cwd=world.work)
    (world.work / "stray.txt").write_text("not on main\n")
    git("add", ".", cwd=world.work)
    git("commit", "-qm", "stray", cwd=world.work)
    git("push", "-q", world.url.removeprefix("file://"), "elsewhere", cwd=world.work)
    stray = git("rev-parse", "HEAD", cwd=world.work).strip()
    git("checkout", "-q", "main", cwd=world.work)
    request_id = world.request(["generate_dataset"], "strict", stray)
    code, out = world.agent(config, token).run()
    assert code == 0, out
    assert world.jobs(request_id) == [
        (
            "generate_dataset",
            "failed",
            None,
            "fedsafe.agent.workspace.WorkspaceFetchError",
            "The workspace's repository could not be fetched at the requested commit.",
        )
    ]
    assert not (config.parent / "agent/high/workspaces").exists()


def test_a_project_yaml_that_does_not_validate_fails_the_job_with_a_safe_summary(world: World):
    config, token = world.backend("picky")
    git("checkout", "-q", "-b", "broken", cwd=world.work)
    (world.work / "project.yaml").write_text(
        PROJECT.replace("python:v1 analysis/analyse.py", "stata:v1 analysis/analyse.do")
    )
    git("commit", "-qam", "broken project", cwd=world.work)
    git("push", "-q", world.url.removeprefix("file://"), "broken", cwd=world.work)
    broken = git("rev-parse", "HEAD", cwd=world.work).strip()
    git("checkout", "-q", "main", cwd=world.work)
    in_coordinator(
        world.database,
        "ws = Workspace.objects.get(name='hba1c')\n"
        "rita = User.objects.get(username='rita')\n"
        "create_workspace(rita, ws.project, 'broken', ws.repo_url, 'broken')\n"
        "result = 0",
    )
    request_id = in_coordinator(
        world.database,
        f"""
spec = RequestSpec(actions=["generate_dataset"], backends=["picky"], reason="testing",
                   commit={broken!r})
result = create_job_request(User.objects.get(username="rita"),
                            Workspace.objects.get(name="broken"), spec).pk
""",
    )
    code, out = world.agent(config, token).run()
    assert code == 0, out
    assert world.jobs(request_id) == [
        (
            "generate_dataset",
            "failed",
            None,
            "fedsafe.pipeline.errors.ProjectError",
            "``project.yaml`` is not a valid pipeline; the message says where and what was "
            "expected.",
        )
    ]
    assert not (config.parent / "agent/high/workspaces").exists()


def test_an_action_whose_needs_never_ran_here_fails_naming_what_must_run_first(world: World):
    config, token = world.backend("fresh")
    request_id = world.request(["analyse"], "fresh")
    code, out = world.agent(config, token).run()
    assert code == 0, out
    assert world.jobs(request_id) == [
        (
            "analyse",
            "failed",
            None,
            "NeedsNotRun",
            "run action 'generate_dataset' on this backend first: 'analyse' needs its outputs, "
            "and none are stored yet",
        )
    ]
    # Once it has run, the same request succeeds, reading the stored dataset.
    world.request(["generate_dataset"], "fresh")
    again = world.request(["analyse"], "fresh")
    code, out = world.agent(config, token).run()
    assert code == 0, out
    assert [row[:2] for row in world.jobs(again)] == [("analyse", "succeeded")]
    # The airlock, pointed at the medium store, lists the moderately sensitive output only.
    from fedsafe.airlock.config import AirlockConfig
    from fedsafe.airlock.files import list_outputs

    airlock = AirlockConfig(config.parent / "agent" / "medium", "fresh", {})
    assert [f.path for f in list_outputs(airlock, "hba1c")] == [f"output/{OUTPUT_NAME}.csv"]
    high = config.parent / "agent/high/workspaces/hba1c/output"
    assert (high / f"{SECRET_NAME}.csv").is_file()
    assert not (config.parent / f"agent/medium/workspaces/hba1c/output/{SECRET_NAME}.csv").exists()


def test_a_cancelled_job_is_stopped_and_reported_cancelled(world: World):
    config, token = world.backend("patient")
    request_id = world.request(["sleepy"], "patient")
    agent = world.agent(config, token).start()
    agent_dir = config.parent / "agent"
    deadline = time.monotonic() + 300
    while not list(agent_dir.glob("work/job-*/attempt-*/tmp/*/workspace/started.flag")):
        assert time.monotonic() < deadline and agent.process.poll() is None
        time.sleep(0.1)
    in_coordinator(
        world.database,
        f"result = cancel_request(User.objects.get(username='rita'), "
        f"JobRequest.objects.get(pk={request_id}))",
    )
    code, out = agent.wait(timeout=300)
    assert code == 0, out
    assert world.jobs(request_id) == [("sleepy", "cancelled", None, "", "")]
    assert "cancelled; stopping the action" in out
    alive = subprocess.run(["pgrep", "-f", "analysis/sleepy.py"], capture_output=True, text=True)
    assert str(agent_dir) not in alive.stdout
    assert not (agent_dir / "medium/workspaces/hba1c/output/slept.csv").exists()


def test_the_token_is_never_taken_from_the_command_line(world: World, tmp_path: Path):
    config, token = world.backend("careful")
    command = [FEDSAFE, "agent", "run", "--backend", str(config), "--coordinator", world.server.url]
    refused = subprocess.run([*command, "--token", token], capture_output=True, text=True)
    assert refused.returncode != 0 and "No such option: --token" in refused.stderr
    missing = subprocess.run([*command, "--once"], capture_output=True, text=True)
    assert missing.returncode != 0 and "FEDSAFE_AGENT_TOKEN" in missing.stderr
    token_file = tmp_path / "token"
    token_file.write_text(token + "\n")
    done = subprocess.run(
        [*command, "--once", "--token-file", str(token_file)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    [(provides,)] = query(
        world.database, "SELECT provides FROM coordinator_backend WHERE name = ?", "careful"
    )
    assert json.loads(provides) == sorted(CORE)
