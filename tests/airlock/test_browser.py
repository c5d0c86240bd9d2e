"""The whole flow in a real browser (Debian's chromium through Playwright): a researcher makes
a request, two checkers review it, and it is released to a real upload receiver."""

from __future__ import annotations

import pytest
from playwright import sync_api

from airlock.backend_fixture import PASSWORD, make_backend
from airlock.serve import airlock_server
from airlock.upload_server import receiver
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


def test_request_two_reviews_and_release(browser, tmp_path):
    with receiver() as coordinator:
        backend = make_backend(tmp_path / "backend", coordinator=coordinator.url)
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
        assert coordinator.stored == {(request_id, "study", "output/table.csv"): data}
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
