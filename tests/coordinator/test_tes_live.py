"""GA4GH TES 1.1 against a live coordinator over HTTP, driven by the real py-tes client; the
jobs are taken to succeeded by test agents over the agent API."""

from __future__ import annotations

import subprocess

import httpx
import pytest
import tes

from coordinator.agent_client import AgentClient
from coordinator.live import LiveCoordinator, cli, in_coordinator, query

PROJECT_YAML = """version: '1'
actions:
  summarise:
    run: python:v1 analysis/summarise.py
    outputs:
      moderately_sensitive:
        table: output/table.csv
"""


def study_repo(tmp_path) -> tuple[str, str]:
    work, bare = tmp_path / "work", tmp_path / "study.git"
    git = [
        "git",
        "-c",
        "user.name=t",
        "-c",
        "user.email=t@example.org",
        "-c",
        "init.defaultBranch=main",
    ]
    subprocess.run([*git, "init", "-q", str(work)], check=True)
    (work / "project.yaml").write_text(PROJECT_YAML)
    (work / "analysis").mkdir()
    (work / "analysis" / "summarise.py").write_text("print('hi')\n")
    subprocess.run([*git, "-C", str(work), "add", "."], check=True)
    subprocess.run([*git, "-C", str(work), "commit", "-qm", "study"], check=True)
    subprocess.run([*git, "clone", "-q", "--bare", str(work), str(bare)], check=True)
    head = subprocess.run(
        ["git", "-C", str(bare), "rev-parse", "main"], capture_output=True, text=True, check=True
    ).stdout.strip()
    return f"file://{bare}", head


@pytest.fixture
def world(sqlite_url, tmp_path):
    repo, head = study_repo(tmp_path)
    tokens = in_coordinator(
        sqlite_url,
        f"""
from fedsafe.coordinator.setup_records import add_backend
tokens = {{n: add_backend(n, "patients").token for n in ("north", "south")}}
rita = User.objects.create_user("rita", password="x" * 12)
sam = User.objects.create_user("sam", password="x" * 12)
create_workspace(rita, create_project(rita, "diabetes"), "hba1c", {repo!r}, "main")
result = tokens
""",
    )
    users = {}
    for name in ("rita", "sam"):
        done = cli("issue-user-token", name, database=sqlite_url)
        assert done.returncode == 0, done.stderr
        users[name] = done.stdout.strip()
    server = LiveCoordinator(sqlite_url).start()
    yield server, tokens, users, head
    server.stop()


def task(image="python:v1", action="summarise", **tags) -> tes.Task:
    return tes.Task(
        name="summary",
        description="HbA1c summary via TES",
        executors=[tes.Executor(image=image, command=[action])],
        tags={"project": "diabetes", "backends": "north|south", **tags},
    )


def counts(database):
    return query(
        database,
        "SELECT (SELECT count(*) FROM coordinator_jobrequest),"
        " (SELECT count(*) FROM coordinator_job)",
    )[0]


def test_create_poll_to_complete_list_and_fetch_the_crate(world, sqlite_url):
    server, tokens, users, head = world
    client = tes.HTTPClient(server.url, token=users["rita"], timeout=60)
    info = client.get_service_info()
    assert (
        info.type.artifact == "tes"
        if hasattr(info.type, "artifact")
        else info.type["artifact"] == "tes"
    )
    task_id = client.create_task(task())
    assert client.get_task(task_id, "MINIMAL").state == "QUEUED"
    for token in tokens.values():
        agent = AgentClient(server.url, token)
        [job] = agent.lease()
        assert job["commit"] == head and job["action"] == "summarise"
        assert client.get_task(task_id).state in {"INITIALIZING", "RUNNING"}
        agent.run_to(job, "succeeded", exit_code=0)
    done = client.get_task(task_id, "FULL")
    assert done.state == "COMPLETE"
    assert done.executors[0].image == "python:v1" and done.executors[0].command == ["summarise"]
    assert done.outputs == []  # nothing released yet: outputs are released files only
    assert done.tags["project"] == "diabetes"
    assert client.wait(task_id, timeout=60).state == "COMPLETE"
    second = client.create_task(task(tres="north", backends=""))
    page = client.list_tasks(view="BASIC", page_size=1)
    assert [t.id for t in page.tasks] == [second] and page.next_page_token
    rest = client.list_tasks(view="MINIMAL", page_size=1, page_token=page.next_page_token)
    assert [t.id for t in rest.tasks] == [task_id]
    page = httpx.get(f"{server.url}/jobs/{task_id}/")
    assert f'href="/jobs/{task_id}/crate.zip"' in page.text
    assert f'<{server.url}/jobs/{task_id}/crate.zip>; rel="item"' in page.headers["link"]
    crate = httpx.get(f"{server.url}/jobs/{task_id}/crate.zip", timeout=60)
    assert crate.status_code == 200 and crate.headers["content-type"] == "application/zip"
    import tempfile
    from pathlib import Path

    from fedsafe.provenance.bag import open_bag
    from fedsafe.provenance.conformance import check

    with tempfile.TemporaryDirectory() as tmp:
        bag = open_bag(crate.content, Path(tmp))
        assert check(bag.metadata, bag) == []
        assert any(p.startswith("code/hba1c-") for p in bag.payload)  # the git archive


def test_cancel(world, sqlite_url):
    server, tokens, users, _ = world
    client = tes.HTTPClient(server.url, token=users["rita"], timeout=60)
    task_id = client.create_task(task(backends="all"))
    jobs = query(
        sqlite_url, "SELECT count(*) FROM coordinator_job WHERE job_request_id = ?", int(task_id)
    )
    assert jobs == [(2,)]  # "all": both live backends
    [job] = AgentClient(server.url, tokens["north"]).lease()
    client.cancel_task(task_id)
    assert client.get_task(task_id).state == "CANCELING"
    AgentClient(server.url, tokens["north"]).report(job["id"], job["lease_id"], "cancelled")
    assert client.get_task(task_id).state == "CANCELED"


@pytest.mark.parametrize(
    "who, kwargs, status, message",
    [
        ("rita", {"image": "ubuntu:latest"}, 400, "not a fedsafe runtime"),
        ("rita", {"action": "rm -rf"}, 400, "is not an action of workspace hba1c"),
        ("rita", {"image": "r:v1"}, 400, "runs on python:v1"),
        ("rita", {"backends": "north|east"}, 400, "no backend called 'east'"),
        ("sam", {}, 403, "sam has no permission to submit work for project 'diabetes'"),
        ("nobody", {}, 401, "user API token"),
    ],
)
def test_rejected_tasks_queue_nothing(world, sqlite_url, who, kwargs, status, message):
    server, _, users, _ = world
    before = counts(sqlite_url)
    client = tes.HTTPClient(server.url, token=users.get(who, "fsu_forged"), timeout=60)
    tags = {k: x for k, x in kwargs.items() if k == "backends"}
    args = {k: x for k, x in kwargs.items() if k != "backends"}
    import requests

    with pytest.raises(requests.HTTPError) as refused:
        client.create_task(task(**args, **tags))
    assert refused.value.response.status_code == status
    assert message in refused.value.response.json()["message"]
    assert counts(sqlite_url) == before


def test_views_differ_and_a_bad_view_is_refused(world):
    server, _, users, _ = world
    client = tes.HTTPClient(server.url, token=users["rita"], timeout=60)
    task_id = client.create_task(task())
    minimal = client.get_task(task_id, "MINIMAL")
    assert minimal.name is None and minimal.executors is None
    basic = client.get_task(task_id, "BASIC")
    assert basic.name == "summary" and basic.logs[0].system_logs is None
    full = client.get_task(task_id, "FULL")
    assert full.logs[0].system_logs == ["north/summarise: pending", "south/summarise: pending"]
    bad = httpx.get(
        f"{server.url}/ga4gh/tes/v1/tasks/{task_id}",
        params={"view": "EVERYTHING"},
        headers={"Authorization": f"Bearer {users['rita']}"},
    )
    assert bad.status_code == 400 and "view must be one of" in bad.json()["message"]
    other = httpx.get(
        f"{server.url}/ga4gh/tes/v1/tasks/{task_id}",
        headers={"Authorization": f"Bearer {users['sam']}"},
    )
    assert other.status_code == 404  # another person's task is not theirs to see


def test_a_crate_posted_over_http_becomes_a_request(world, sqlite_url, tmp_path):
    from provenance.crates import request_crate

    server, tokens, users, head = world
    # a long description makes the crate larger than the web forms' 64 KiB limit
    data = request_crate(tmp_path, "hba1c", head, backends="north", padding=200_000)
    assert len(data) > 64 * 1024
    refused = httpx.post(
        f"{server.url}/api/crates/v1/requests",
        content=data,
        headers={"Authorization": f"Bearer {users['sam']}", "Content-Type": "application/zip"},
    )
    assert refused.status_code == 400 and "not the token's user" in refused.json()["detail"]
    made = httpx.post(
        f"{server.url}/api/crates/v1/requests",
        content=data,
        headers={"Authorization": f"Bearer {users['rita']}", "Content-Type": "application/zip"},
        timeout=60,
    )
    assert made.status_code == 201, made.text
    agent = AgentClient(server.url, tokens["north"])
    [job] = agent.lease()
    agent.run_to(job, "succeeded", exit_code=0)
    crate = httpx.get(made.json()["crate"], timeout=60)
    assert crate.status_code == 200
    assert b"urn:uuid:1d6bd3d8-4a4a-4c56-9f49-3f3f8d3f0d41" in zipfile_member(
        crate.content, "bag-info.txt"
    )


def zipfile_member(data: bytes, suffix: str) -> bytes:
    import io
    import zipfile

    archive = zipfile.ZipFile(io.BytesIO(data))
    [name] = [n for n in archive.namelist() if n.endswith(suffix)]
    return archive.read(name)
