"""The coordinator in a real browser (Playwright driving Debian's chromium): log in, create a
workspace, request a run on all backends, watch the states change as a test agent works, and
read the public log without logging in.

Each step is also saved as a screenshot, for the tutorial: into a temporary folder, or into
the folder named by ``FEDSAFE_SCREENSHOTS`` (``FEDSAFE_SCREENSHOTS=docs/images`` refreshes the
ones in the documentation).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from coordinator.agent_client import AgentClient
from coordinator.live import LiveCoordinator, bare_repo, seed

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture
def page():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        try:
            page = browser.new_page()
            page.set_default_timeout(60_000)  # generous: a slow shared machine, not a check
            expect.set_options(timeout=60_000)
            yield page
        finally:
            browser.close()


@pytest.fixture
def shoot(page: Page, tmp_path: Path):
    """``shoot("name")`` saves the page as it is now to ``coordinator-name.png``."""
    folder = Path(os.environ.get("FEDSAFE_SCREENSHOTS") or tmp_path / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)

    def take(name: str) -> None:
        path = folder / f"coordinator-{name}.png"
        page.screenshot(path=path, full_page=True)
        assert path.stat().st_size > 0

    return take


def test_request_a_run_on_all_backends_and_watch_it(page: Page, shoot, sqlite_url, tmp_path):
    repo_url, head = bare_repo(tmp_path)
    tokens, _ = seed(
        sqlite_url, {"north": "patients,events", "south": "patients", "west": "events,patients"}
    )
    server = LiveCoordinator(sqlite_url).start()
    try:
        page.goto(f"{server.url}/")
        expect(page).to_have_url(re.compile(r"/login/"))
        page.get_by_label("Username").fill("rita")
        page.get_by_label("Password").fill("x" * 12)
        shoot("1-login")
        page.get_by_role("button", name="Log in").click()
        expect(page.get_by_role("heading", name="Projects")).to_be_visible()

        # Bad input: named, shown, and nothing created.
        page.get_by_label("Workspace name").fill("hba1c")
        page.get_by_label("Git repository URL").fill(repo_url)
        page.get_by_label("Branch").fill("main..x")
        page.get_by_role("button", name="Create workspace").click()
        expect(page.get_by_role("alert")).to_contain_text("branch: 'main..x' is not a valid")
        expect(page.get_by_role("link", name="hba1c")).to_have_count(0)
        shoot("2-workspace-refused")

        page.get_by_label("Branch").fill("main")
        page.get_by_role("button", name="Create workspace").click()
        expect(page.get_by_role("heading", name="Workspace hba1c")).to_be_visible()

        page.get_by_label("Actions").fill("extract analyse")
        page.get_by_role("textbox", name=re.compile("^Tables needed")).fill("events")
        page.get_by_label("All backends that provide the tables needed").check()
        page.get_by_label("Why").fill("HbA1c trends by region")
        shoot("3-request-form")
        page.get_by_role("button", name="Run now").click()
        expect(page.get_by_role("heading", name=re.compile(r"Request #\d+"))).to_be_visible()
        expect(page.locator("#request-state")).to_have_text("pending")
        rows = page.locator("#jobs tbody tr")
        expect(rows).to_have_count(4)  # north and west provide events; south does not
        expect(page.locator("#jobs tbody tr[data-backend=south]")).to_have_count(0)
        expect(page.get_by_text(head)).to_be_visible()  # the branch head, found by the coordinator
        expect(page.get_by_role("button", name="Cancel request")).to_be_visible()
        shoot("4-request-pending")

        north = AgentClient(server.url, tokens["north"])
        west = AgentClient(server.url, tokens["west"])
        north_jobs = north.lease(2)
        assert north.report(north_jobs[0]["id"], north_jobs[0]["lease_id"], "running").is_success
        expect(page.locator("#request-state")).to_have_text("running")  # the page refreshes
        first = page.locator(f"#jobs tr[data-job='{north_jobs[0]['id']}'] td.state")
        expect(first).to_have_text("running")
        shoot("5-request-running")

        done = north.report(
            north_jobs[0]["id"], north_jobs[0]["lease_id"], "succeeded", exit_code=0
        )
        assert done.is_success
        expect(first).to_have_text("succeeded")
        north.run_to(north_jobs[1], "succeeded", exit_code=0)
        west_jobs = west.lease(2)
        west.run_to(west_jobs[0], "succeeded", exit_code=0)
        west.run_to(
            west_jobs[1], "failed", exit_code=2, error_class="TableMissing", message="events"
        )
        expect(page.locator("#request-state")).to_have_text("failed")
        expect(page.locator("#jobs")).to_contain_text("TableMissing: events")
        # Nothing left to cancel: the button goes (it was there while jobs were pending).
        expect(page.get_by_role("button", name="Cancel request")).to_have_count(0)
        shoot("6-request-finished")

        page.get_by_role("button", name=re.compile("Log out")).click()
        page.goto(f"{server.url}/jobs/")
        row = page.locator("#requests tbody tr", has_text="HbA1c trends by region")
        expect(row).to_have_count(1)
        expect(row).to_contain_text("rita")
        expect(row).to_contain_text("north, west")
        expect(row).to_contain_text(head)
        expect(row.locator("td.state")).to_have_text("failed")
        expect(page.get_by_role("button", name="Cancel request")).to_have_count(0)
        shoot("7-public-log")
    finally:
        server.stop()
