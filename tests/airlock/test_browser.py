"""The whole flow in a real browser (Debian's chromium through Playwright): a researcher makes
a request, two checkers review it, it is released to the real coordinator over HTTP, and the
file is on the coordinator's workspace page with its provenance."""

from __future__ import annotations

import hashlib

import pytest
from playwright import sync_api

from airlock.backend_fixture import PASSWORD, make_backend
from airlock.serve import airlock_server
from coordinator.live_releases import release_coordinator
from fedsafe.airlock.audit import verify_audit

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


def _login(browser, url, name):
    page = browser.new_context().new_page()
    page.goto(url + "/login")
    page.get_by_label("Username").fill(name)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    sync_api.expect(page.locator("#who")).to_have_text(f"Signed in as {name}")
    return page


def test_request_two_reviews_release_and_see_it_on_the_coordinator(browser, tmp_path):
    with release_coordinator(tmp_path / "coordinator") as coordinator:
        backend = make_backend(
            tmp_path / "backend",
            coordinator=coordinator.url,
            token=coordinator.tokens["test-backend"],
        )
        with airlock_server(backend) as url:
            rita = _login(browser, url, "rita")
            rita.get_by_role("link", name="study").click()
            sync_api.expect(rita.get_by_text("output/dataset.csv")).to_have_count(0)
            rita.get_by_label("select output/table.csv").check()
            rita.get_by_label("Context").fill("Patients by group")
            rita.get_by_label("Disclosure controls").fill("Counts under 8 suppressed, rounded to 5")
            rita.get_by_role("button", name="Add to request").click()
            rita.get_by_role("button", name="Submit for review").click()
            sync_api.expect(rita.locator("#status")).to_have_text("submitted")
            sync_api.expect(rita.locator(".check")).to_have_text("pass")
            request_url = rita.url

            for checker in ("carl", "cora"):
                page = _login(browser, url, checker)
                page.goto(request_url)
                page.get_by_label("Comment on output/table.csv").fill(f"{checker}: looks safe")
                page.get_by_role("button", name="Approve output/table.csv").click()
            sync_api.expect(page.locator("#status")).to_have_text("reviewed")
            sync_api.expect(page.locator(".approvals")).to_have_text("2")
            page.get_by_role("button", name="Approve request").click()
            sync_api.expect(page.locator("#status")).to_have_text("approved")
            page.get_by_role("button", name="Release to the coordinator").click()
            sync_api.expect(page.locator("#status")).to_have_text("released")
            sync_api.expect(page.locator(".uploaded")).to_have_text("uploaded")

            rita.reload()
            sync_api.expect(rita.locator("#status")).to_have_text("released")
            sync_api.expect(rita.locator(".comments")).to_contain_text("carl: looks safe")

        request_id = request_url.rstrip("/").rsplit("/", 1)[-1]
        data = (backend / "workspaces/study/output/table.csv").read_bytes()
        digest = hashlib.sha256(data).hexdigest()

        # On the coordinator: the researcher signs in and finds the file on the workspace page.
        page = browser.new_context().new_page()
        page.goto(coordinator.url + "/login/")
        page.get_by_label("Username").fill("rita")
        page.get_by_label("Password").fill("x" * 12)
        page.get_by_role("button", name="Log in").click()
        page.goto(coordinator.url + "/workspaces/study/")
        row = page.locator('table.released[data-backend="test-backend"] tr[data-path]')
        sync_api.expect(row).to_have_count(1)
        sync_api.expect(row).to_contain_text("output/table.csv")
        sync_api.expect(row).to_contain_text(request_id)
        sync_api.expect(row).to_contain_text(digest[:12])
        sync_api.expect(row).to_contain_text(f"#{coordinator.job_request_id}")
        row.get_by_role("link", name="output/table.csv").click()
        sync_api.expect(page.locator("#sha256")).to_have_text(digest)
        sync_api.expect(page.locator("#backend")).to_have_text("test-backend")
        sync_api.expect(page.locator("table.preview")).to_contain_text("group")
        assert coordinator.blob(digest) == data
    airlock_dir = backend / "airlock"
    assert verify_audit(airlock_dir / "airlock.sqlite3", airlock_dir / "audit.jsonl") == []


def test_the_author_sees_no_review_buttons_and_the_blind_holds(browser, tmp_path):
    backend = make_backend(tmp_path / "backend")
    with airlock_server(backend) as url:
        chad = _login(browser, url, "chad")
        chad.goto(url + "/workspaces/study/")
        chad.get_by_label("select output/notes.txt").check()
        chad.get_by_label("Context").fill("Notes")
        chad.get_by_label("Disclosure controls").fill("No numbers")
        chad.get_by_role("button", name="Add to request").click()
        chad.get_by_role("button", name="Submit for review").click()
        sync_api.expect(chad.locator("#status")).to_have_text("submitted")
        sync_api.expect(chad.get_by_role("button", name="Approve output/notes.txt")).to_have_count(
            0
        )
        carl = _login(browser, url, "carl")
        carl.goto(chad.url)
        carl.get_by_role("button", name="Request changes to output/notes.txt").click()
        cora = _login(browser, url, "cora")
        cora.goto(chad.url)
        sync_api.expect(cora.locator("#status")).to_have_text("partially reviewed")
        sync_api.expect(cora.locator(".votes")).not_to_contain_text("carl")
