"""`make demo`: a whole federation on one machine, from two synthetic populations to a public
dashboard of their combined result.

Steps (each prints a progress line; each process writes its log under ``WORKDIR/logs``):

1. two synthetic populations: ``north`` (DuckDB, fedsafe's native tables) and ``south``
   (SQLite in OMOP form), with different seeds and sizes;
2. the study (``examples/federation/study``) as a git repository, with a bare clone as the
   workspace's repository;
3. a coordinator (``fedsafe coordinator serve``), a user, the two backends and their tokens;
4. each backend's config (with ``[agent]`` folders) and airlock config (``auto_release`` on,
   a researcher and two output checkers), and the two airlocks (``fedsafe airlock serve``);
5. the researcher creates the project and workspace on the coordinator's web pages and sends
   ONE request to "all" backends through its GA4GH TES API;
6. each backend's agent runs its jobs (``fedsafe agent run --once``);
7. in each airlock the researcher asks to release the tables, whose disclosure sidecars travel
   with them (safe by construction: the airlock approves them itself);
8. the coordinator combines the releases on its own; the researcher publishes the dashboard;
9. the dashboard's URL and a static copy (HTML and charts) are printed; the servers keep
   running until Ctrl-C (``--no-wait``: stop at once, for tests).
"""

from __future__ import annotations

import argparse
import html
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
STUDY = HERE / "study"
sys.path.insert(0, str(REPO / "src"))  # this checkout's fedsafe, as its commands use
FEDSAFE = str(Path(sys.executable).with_name("fedsafe"))
WORKSPACE = "diabetes"
PROJECT = "diabetes-by-age"
TABLE_NAME = "diabetes_by_age_band.csv"  # the pooled table the combine must produce
PASSWORD = "demo-password-123"  # every demo person's; never use it for anything else
# (name, engine, seed, patients)
BACKENDS = (("north", "duckdb", 101, 3_000), ("south", "sqlite-omop", 202, 2_000))
CORE = ["patients", "practice_registrations", "clinical_events", "medications", "ons_deaths"]
WAIT_LIMIT = 300  # seconds for any one step; a fail-safe, not a performance target


class DemoError(Exception):
    """A step failed: says which, and where its log is."""

    def __init__(self, step: str, message: str, log: Path | None = None) -> None:
        where = f"\n  its log: {log}" if log else ""
        super().__init__(f"step '{step}' failed: {message}{where}")
        self.step = step
        self.log = log


@dataclass
class Federation:
    """What the demo started and made: URLs, folders, processes (to stop), facts for tests."""

    workdir: Path
    coordinator_url: str = ""
    database: str = ""
    airlock_urls: dict[str, str] = field(default_factory=dict)
    release_requests: dict[str, dict[str, str]] = field(default_factory=dict)  # airlock ids
    backend_dirs: dict[str, Path] = field(default_factory=dict)
    request_id: int = 0
    dashboard_url: str = ""
    static_copy: Path | None = None
    processes: list[subprocess.Popen] = field(default_factory=list)
    seconds: float = 0.0

    def stop(self) -> None:
        for process in reversed(self.processes):
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


def port_free(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Steps:
    """Runs commands with their output in a log file per step; failures name step and log."""

    def __init__(self, workdir: Path, say: Callable[[str], None], started: float) -> None:
        self.logs = workdir / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        self.say = say
        self.started = started

    def progress(self, text: str) -> None:
        self.say(f"[{time.monotonic() - self.started:6.1f}s] {text}")

    def log(self, name: str) -> Path:
        return self.logs / f"{name}.log"

    def run(
        self,
        step: str,
        args: list[str],
        *,
        env: dict[str, str] | None = None,
        stdin: str | None = None,
        cwd: Path | None = None,
        secret_output: bool = False,
    ) -> str:
        log = self.log(step)
        done = subprocess.run(
            args,
            input=stdin,
            capture_output=True,
            text=True,
            env=env,
            cwd=cwd,
            check=False,
            timeout=WAIT_LIMIT,
        )
        with log.open("a") as out:
            shown = "(output not logged: it holds a token)\n" if secret_output else done.stdout
            out.write(f"$ {' '.join(args)}\n{shown}{done.stderr}\n")
        if done.returncode != 0:
            raise DemoError(step, f"`{' '.join(args[:4])} ...` exited {done.returncode}", log)
        return done.stdout

    def start(self, step: str, args: list[str], env: dict[str, str] | None = None):
        log = self.log(step)
        out = log.open("w")
        process = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, env=env, text=True)
        return process, log


def git(*args: str, cwd: Path) -> str:
    command = ["git", "-c", "user.name=Demo", "-c", "user.email=demo@example.org", *args]
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=True).stdout


# --- 1. populations ---------------------------------------------------------------------------


def make_populations(workdir: Path) -> dict[str, Path]:
    """north: DuckDB in the native tables; south: SQLite in OMOP form. Returns database paths."""
    sys.path.insert(0, str(REPO / "benchmarks"))
    import ibis
    import pyarrow.parquet as pq

    from fedsafe.backends.mappings.omop_writer import to_omop
    from synthetic_core import generate, write_duckdb

    databases = {}
    for name, engine, seed, patients in BACKENDS:
        folder = workdir / name
        folder.mkdir(parents=True, exist_ok=True)
        if engine == "duckdb":
            databases[name] = write_duckdb(folder / "core.duckdb", n_patients=patients, seed=seed)
            continue
        staged = generate(folder / "core-parquet", n_patients=patients, seed=seed)
        core = {table: pq.read_table(path) for table, path in staged.items()}
        path = folder / "omop.sqlite"
        connection = ibis.sqlite.connect(str(path))
        for table, data in to_omop(core).items():
            connection.create_table(table, data, overwrite=True)
        connection.disconnect()
        shutil.rmtree(folder / "core-parquet")
        databases[name] = path
    return databases


# --- 2. the study's repository ----------------------------------------------------------------


def study_repository(workdir: Path) -> tuple[str, str]:
    """The study folder as a git repository and a bare clone; returns its URL and commit."""
    work, bare = workdir / "study", workdir / "study.git"
    shutil.copytree(STUDY, work, ignore=shutil.ignore_patterns("__pycache__", "output"))
    git("init", "-q", "-b", "main", cwd=work)
    git("add", ".", cwd=work)
    git("commit", "-qm", "The federated example study", cwd=work)
    git("clone", "-q", "--bare", str(work), str(bare), cwd=workdir)
    return f"file://{bare}", git("rev-parse", "HEAD", cwd=work).strip()


# --- 4. backend and airlock configs -----------------------------------------------------------


def backend_config(folder: Path, name: str, url: str, mapping: str) -> Path:
    tables = ", ".join(f'"{t}"' for t in CORE)
    path = folder / "backend.toml"
    path.write_text(
        f'[backend]\nname = "{name}"\nmapping = "{mapping}"\ntables = [{tables}]\n\n'
        f'[engine]\nurl = "{url}"\n\n'
        "[policy]\nminimum_count = 7\nrounding_base = 5\n\n"
        "# The agent's folders are [agent]'s defaults, beside this file: agent/work,\n"
        "# agent/high, agent/medium (the airlock's backend folder) and agent/state.sqlite3.\n"
        "# (Not written out: the dataset action reads this file with the installed fedsafe,\n"
        "# which may predate the [agent] section.)\n"
    )
    return path


def airlock_config(medium: Path, backend: str, coordinator: str, token: str) -> None:
    from fedsafe.airlock.config import hash_password

    folder = medium / "airlock"
    folder.mkdir(parents=True, exist_ok=True)
    (medium / "workspaces").mkdir(parents=True, exist_ok=True)
    (folder / "token").write_text(token + "\n")
    (folder / "token").chmod(0o600)
    secret = hash_password(PASSWORD)
    people = "".join(
        f'[users.{who}]\npassword_hash = "{secret}"\nroles = ["{role}"]\n'
        f'workspaces = ["{WORKSPACE}"]\n\n'
        for who, role in (
            ("rita", "researcher"),
            ("carl", "output_checker"),
            ("cora", "output_checker"),
        )
    )
    (folder / "config.toml").write_text(
        f'[airlock]\nbackend = "{backend}"\nauto_release = true\n'
        f'coordinator_url = "{coordinator}"\ncoordinator_token_file = "token"\n\n'
        f"{people}"
    )


# --- web sessions -----------------------------------------------------------------------------


def csrf(page: str) -> str:
    found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    if not found:
        raise ValueError("no CSRF token on the page")
    return found.group(1)


def login(base: str, path: str, who: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=120, follow_redirects=True)
    page = client.get(path).text
    answer = client.post(
        path, data={"username": who, "password": PASSWORD, "csrfmiddlewaretoken": csrf(page)}
    )
    if answer.status_code != 200 or not client.cookies.get("sessionid"):
        raise ValueError(f"{who} could not log in at {base}{path} ({answer.status_code})")
    return client


def post_form(client: httpx.Client, page_path: str, path: str, data: dict) -> httpx.Response:
    token = csrf(client.get(page_path).text)
    answer = client.post(path, data={**data, "csrfmiddlewaretoken": token})
    if answer.status_code >= 400:
        text = re.sub(r"<[^>]+>", " ", answer.text)
        raise ValueError(
            f"POST {path} answered {answer.status_code}: {' '.join(text.split())[:300]}"
        )
    return answer


# --- the whole flow ---------------------------------------------------------------------------


def wait_for_line(process: subprocess.Popen, log: Path, pattern: str, step: str) -> str:
    deadline = time.monotonic() + WAIT_LIMIT
    while time.monotonic() < deadline:
        found = re.search(pattern, log.read_text() if log.exists() else "")
        if found:
            return found.group(1)
        if process.poll() is not None:
            raise DemoError(step, f"the server exited with status {process.returncode}", log)
        time.sleep(0.2)
    raise DemoError(step, "the server did not start", log)


def run_federation(
    workdir: Path,
    coordinator_port: int = 8000,
    airlock_ports: tuple[int, int] = (8011, 8012),
    say: Callable[[str], None] = print,
    tune_populations: Callable[[dict[str, Path]], None] | None = None,
) -> Federation:
    """Runs the demo up to the published dashboard and its static copy; the servers are left
    running (call ``Federation.stop``). Raises DemoError naming the failed step."""
    started = time.monotonic()
    for port in (coordinator_port, *airlock_ports):
        if port and not port_free(port):
            raise DemoError(
                "ports",
                f"port {port} is taken; stop what uses it or choose other ports "
                "(--coordinator-port, --airlock-ports)",
            )
    if workdir.exists():
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True)
    fed = Federation(workdir.resolve())
    steps = Steps(fed.workdir, say, started)
    base_env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    try:
        _run(fed, steps, base_env, coordinator_port, airlock_ports, tune_populations)
    except BaseException:
        fed.stop()
        raise
    fed.seconds = time.monotonic() - started
    return fed


def _run(
    fed: Federation,
    steps: Steps,
    env: dict[str, str],
    c_port: int,
    a_ports: tuple[int, int],
    tune_populations: Callable[[dict[str, Path]], None] | None,
) -> None:
    root = fed.workdir
    sizes = ", ".join(f"{n}: {p:,} patients ({e})" for n, e, _, p in BACKENDS)
    steps.progress(f"1/9 making two synthetic populations ({sizes})")
    try:
        databases = make_populations(root)
    except Exception as exc:
        raise DemoError("populations", f"{type(exc).__name__}: {exc}") from exc
    if tune_populations is not None:  # tests: plant a distinctive patient value
        tune_populations(databases)

    steps.progress("2/9 putting the study in a git repository (the workspace's code)")
    repo_url, commit = study_repository(root)

    steps.progress("3/9 starting the coordinator")
    fed.database = f"sqlite:///{root / 'coordinator' / 'coordinator.sqlite3'}"
    (root / "coordinator").mkdir()
    db = ["--database", fed.database]
    c_env = {**env, "FEDSAFE_COORDINATOR_SECRET_KEY": "demo-only-secret-" + os.urandom(24).hex()}
    steps.run(
        "coordinator-setup",
        [FEDSAFE, "coordinator", "createuser", "rita", "--password-stdin", *db],
        stdin=PASSWORD + "\n",
        env=c_env,
    )
    tokens = {}
    for name, *_ in BACKENDS:
        tokens[name] = (
            steps.run(
                "coordinator-setup",
                [FEDSAFE, "coordinator", "add-backend", name, *db],
                env=c_env,
                secret_output=True,
            )
            .strip()
            .splitlines()[-1]
        )
    user_token = (
        steps.run(
            "coordinator-setup",
            [FEDSAFE, "coordinator", "issue-user-token", "rita", *db],
            env=c_env,
            secret_output=True,
        )
        .strip()
        .splitlines()[-1]
    )
    process, log = steps.start(
        "coordinator",
        [FEDSAFE, "coordinator", "serve", "--port", str(c_port), *db, "--lease-seconds", "300"],
        env=c_env,
    )
    fed.processes.append(process)
    fed.coordinator_url = wait_for_line(process, log, r"listening on (http://\S+)", "coordinator")
    steps.progress(f"    coordinator at {fed.coordinator_url} (log {log})")

    steps.progress("4/9 configuring the backends and starting their airlocks")
    configs = {}
    for (name, engine, *_), port in zip(BACKENDS, a_ports, strict=True):
        folder = root / name
        if engine == "duckdb":
            configs[name] = backend_config(folder, name, f"duckdb:///{databases[name]}", "native")
        else:
            configs[name] = backend_config(folder, name, f"sqlite:///{databases[name]}", "omop")
        medium = folder / "agent" / "medium"
        fed.backend_dirs[name] = medium
        airlock_config(medium, name, fed.coordinator_url, tokens[name])
        port = port or free_port()
        process, log = steps.start(
            f"airlock-{name}",
            [FEDSAFE, "airlock", "serve", "--backend-dir", str(medium), "--port", str(port)],
            env=env,
        )
        fed.processes.append(process)
        fed.airlock_urls[name] = wait_for_line(
            process, log, r"airlock for backend \S+ on (http://\S+/)", f"airlock-{name}"
        ).rstrip("/")
        steps.progress(f"    {name}'s airlock at {fed.airlock_urls[name]} (log {log})")

    steps.progress("5/9 the researcher creates the workspace and sends ONE request to all backends")
    try:
        web = login(fed.coordinator_url, "/login/", "rita")
        post_form(web, "/", "/", {"form": "project", "name": PROJECT})
        project_id = re.search(
            rf'<option value="(\d+)"[^>]*>\s*{re.escape(PROJECT)}', web.get("/").text
        ).group(1)
        post_form(
            web,
            "/",
            "/",
            {
                "form": "workspace",
                "project": project_id,
                "name": WORKSPACE,
                "repo_url": repo_url,
                "branch": "main",
            },
        )
        task = httpx.post(
            f"{fed.coordinator_url}/ga4gh/tes/v1/tasks",
            headers={"Authorization": f"Bearer {user_token}"},
            json={
                "name": "diabetes by age band",
                "description": "Diabetes prevalence by age band, pooled over the federation",
                "executors": [
                    {"image": "fedsafe:v1", "command": ["generate_dataset"]},
                    {"image": "python:v1", "command": ["summarise"]},
                ],
                "tags": {
                    "project": PROJECT,
                    "workspace": WORKSPACE,
                    "backends": "all",
                    "commit": commit,
                },
            },
            timeout=120,
        )
        if task.status_code != 200:
            raise ValueError(f"the TES API answered {task.status_code}: {task.text[:300]}")
        fed.request_id = int(task.json()["id"])
    except (ValueError, AttributeError, httpx.HTTPError) as exc:
        raise DemoError("request", str(exc), steps.log("coordinator")) from exc
    steps.progress(f"    request {fed.request_id}: {fed.coordinator_url}/jobs/{fed.request_id}/")

    steps.progress("6/9 each backend's agent runs its jobs next to its data")
    agents = {}
    for name, *_ in BACKENDS:
        agents[name] = steps.start(
            f"agent-{name}",
            [
                FEDSAFE,
                "agent",
                "run",
                "--backend",
                str(configs[name]),
                "--coordinator",
                fed.coordinator_url,
                "--poll-seconds",
                "0.5",
                "--once",
            ],
            env={**env, "FEDSAFE_AGENT_TOKEN": tokens[name]},
        )
    for name, (process, log) in agents.items():
        try:
            code = process.wait(timeout=WAIT_LIMIT)
        except subprocess.TimeoutExpired:
            process.kill()
            raise DemoError(f"agent-{name}", "the agent did not finish", log) from None
        if code != 0:
            raise DemoError(f"agent-{name}", f"the agent exited with status {code}", log)
    page = httpx.get(f"{fed.coordinator_url}/jobs/{fed.request_id}/", timeout=60).text
    states = re.findall(r'<td class="state">([^<]+)</td>', page)
    if not states or any(s != "succeeded" for s in states):
        raise DemoError(
            "agents",
            f"the request's jobs ended {states}; see the agents' logs",
            steps.log("agent-north"),
        )
    steps.progress(f"    {len(states)} jobs succeeded (public log: {fed.coordinator_url}/jobs/)")

    steps.progress("7/9 releasing through each backend's airlock")
    for name, *_ in BACKENDS:
        try:
            release(fed, steps, name)
        except (ValueError, AttributeError, httpx.HTTPError) as exc:
            raise DemoError(f"release-{name}", str(exc), steps.log(f"airlock-{name}")) from exc

    steps.progress("8/9 waiting for the coordinator's automatic combine; publishing the dashboard")
    try:
        wait_for_combine(fed, web)
        post_form(
            web,
            f"/workspaces/{WORKSPACE}/results/",
            f"/workspaces/{WORKSPACE}/dashboard/",
            {"publish": "1", "title": "Diabetes by age band, two backends combined"},
        )
    except (ValueError, httpx.HTTPError) as exc:
        raise DemoError("combine", str(exc), steps.log("coordinator")) from exc
    fed.dashboard_url = f"{fed.coordinator_url}/dashboards/{WORKSPACE}/"

    steps.progress("9/9 writing a static copy of the dashboard")
    fed.static_copy = static_copy(fed.dashboard_url, fed.workdir / "dashboard")


def release(fed: Federation, steps: Steps, name: str) -> None:
    """The researcher asks for one release: the two tables (their disclosure sidecars travel
    with them). Both were made by fedsafe's safe helpers and pass every automated check, so
    the airlock's safe-by-construction policy approves them itself, with no person involved;
    ``fedsafe airlock release`` uploads them to the coordinator."""
    url = fed.airlock_urls[name]
    rita = login(url, "/login", "rita")
    listing = f"/workspaces/{WORKSPACE}/"
    tables = ["output/diabetes_by_age_band.csv", "output/diabetes_prevalence.csv"]
    answer = post_form(
        rita,
        listing,
        listing,
        {
            "files": tables,
            "group": "tables",
            "context": "Diabetes by age band: a crosstab and an estimates file",
            "controls": (
                "Made by fedsafe's safe helpers: counts of 7 or less suppressed, the rest "
                "rounded to 5"
            ),
            "kind": "output",
        },
    )
    request_id = answer.url.path.rstrip("/").split("/")[-1]
    post_form(rita, f"/requests/{request_id}/", f"/requests/{request_id}/submit", {})
    fed.release_requests[name] = {"tables": request_id}
    out = steps.run(
        f"release-{name}",
        [FEDSAFE, "airlock", "release", "--backend-dir", str(fed.backend_dirs[name]), request_id],
    )
    steps.progress(f"    {name}: tables and their sidecars released automatically ({out.strip()})")


def wait_for_combine(fed: Federation, web: httpx.Client) -> None:
    """Until the results page's newest combined run succeeded with the pooled table in it (the
    release completing last triggers the combine; a failed run is reported with its message)."""
    deadline = time.monotonic() + WAIT_LIMIT
    while time.monotonic() < deadline:
        page = web.get(f"/workspaces/{WORKSPACE}/results/").text
        state = re.search(r'class="combine-state">([^<]+)<', page)
        if state and state.group(1) == "succeeded" and "tables/output/" + TABLE_NAME in page:
            return
        if state and state.group(1) == "failed":
            text = " ".join(re.sub(r"<[^>]+>", " ", page).split())
            raise ValueError(f"the combine failed; the results page says: {text[:400]}")
        time.sleep(0.5)
    raise ValueError("no combined result appeared")


def static_copy(dashboard_url: str, folder: Path) -> Path:
    """The dashboard's HTML with its charts and files saved beside it, links made relative."""
    folder.mkdir(parents=True, exist_ok=True)
    page = httpx.get(dashboard_url, timeout=60).text
    base = urllib.parse.urlsplit(dashboard_url)
    origin = f"{base.scheme}://{base.netloc}"

    def save(match: re.Match) -> str:
        attribute, link = match.group(1), html.unescape(match.group(2))
        number = re.search(r"/files/(\d+)", link).group(1)
        answer = httpx.get(origin + link, timeout=60)
        kind = answer.headers.get("content-type", "").split(";")[0]
        suffix = {
            "image/png": ".png",
            "image/svg+xml": ".svg",
            "text/csv": ".csv",
            "application/json": ".json",
        }.get(kind, ".txt")
        name = f"files/{number}{suffix}"
        (folder / "files").mkdir(exist_ok=True)
        (folder / name).write_bytes(answer.content)
        return f'{attribute}="{name}"'

    page = re.sub(r'(src|href)="(/dashboards/[^"]+/files/\d+[^"]*)"', save, page)
    page = re.sub(r'<meta http-equiv="refresh"[^>]*>', "", page)
    (folder / "index.html").write_text(page)
    (folder / "manifest.json").write_text(json.dumps({"source": dashboard_url}, indent=2))
    return folder / "index.html"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, default=REPO / "demo-output" / "federation")
    parser.add_argument("--coordinator-port", type=int, default=8000)
    parser.add_argument("--airlock-ports", type=int, nargs=2, default=(8011, 8012))
    parser.add_argument("--no-wait", action="store_true", help="stop the servers at the end")
    args = parser.parse_args(argv)
    try:
        fed = run_federation(args.workdir, args.coordinator_port, tuple(args.airlock_ports))
    except DemoError as exc:
        print(f"\nThe demo stopped: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nInterrupted; the servers it had started are stopped.", file=sys.stderr)
        return 130
    print(
        f"\nDone in {fed.seconds:.0f} s.\n"
        f"  Combined dashboard (public): {fed.dashboard_url}\n"
        f"  Static copy:                 {fed.static_copy}\n"
        f"  Public jobs log:             {fed.coordinator_url}/jobs/\n"
        f"  Results (rita / {PASSWORD}):\n"
        f"    {fed.coordinator_url}/workspaces/{WORKSPACE}/results/\n"
        + "".join(f"  {n}'s airlock: {u}/\n" for n, u in fed.airlock_urls.items())
        + f"  Logs: {fed.workdir / 'logs'}",
        flush=True,
    )
    if args.no_wait:
        fed.stop()
        return 0
    print("\nServers keep running; press Ctrl-C to stop them.", flush=True)

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    # Ctrl-C, and a plain `kill`, stop the servers too (SIGINT may be ignored when started in
    # the background, and SIGTERM would otherwise end this process and leave them running).
    signal.signal(signal.SIGINT, interrupt)
    signal.signal(signal.SIGTERM, interrupt)
    try:
        signal.pause()
    except KeyboardInterrupt:
        pass
    finally:
        fed.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
