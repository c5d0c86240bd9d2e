"""Results and dashboards in a real browser (Playwright driving Debian's chromium): two backends'
airlocks release to a live coordinator, a researcher publishes the workspace's dashboard from
its results page, and anyone can open it, charts drawn; a newer release changes it."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect, sync_playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from coordinator.live import in_coordinator
from coordinator.live_releases import airlock_for, release, release_coordinator
from coordinator.study_repo import PROJECT, estimates
from coordinator.test_browser import CHROMIUM_ARGS

NEW_RUN = """
from fedsafe.coordinator.models import Job
ws = Workspace.objects.get(name="study")
first = ws.requests.order_by("id").first()
spec = RequestSpec(actions=["model"], backends=["north", "south"], reason="scheduled",
                   commit=first.commit)
Job.objects.filter(job_request=create_job_request(first.created_by, ws, spec)).update(
    state="succeeded")
result = 0
"""


@pytest.fixture
def browser():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        expect.set_options(timeout=60_000)  # generous: a slow shared machine, not a check
        try:
            yield browser
        finally:
            browser.close()


def fixed_estimate(page: Page) -> float:
    """The fixed_estimate cell of the first row of the first table shown."""
    return float(
        page.locator("table.preview").first.evaluate(
            """t => {
            const i = [...t.tHead.rows[0].cells].findIndex(c => c.textContent === "fixed_estimate");
            return t.tBodies[0].rows[0].cells[i].textContent;
        }"""
        )
    )


def chart_drawn(page: Page) -> bool:
    """Whether the combined chart's image loaded and has pixels, waiting for it to load (on a
    busy machine the page is there before the image is)."""
    image = page.locator("section.combined figure img").first
    try:
        page.wait_for_function(
            "img => img.complete && img.naturalWidth > 0",
            arg=image.element_handle(),
            timeout=20_000,
        )
    except PlaywrightTimeoutError:
        return False
    return True


def test_publish_a_dashboard_and_watch_it_follow_a_new_release(browser, tmp_path):
    with release_coordinator(
        tmp_path / "coordinator", backends=("north", "south"), project=PROJECT
    ) as world:
        north = airlock_for(tmp_path / "north", world.url, world.tokens["north"])
        south = airlock_for(tmp_path / "south", world.url, world.tokens["south"])
        release(north, estimates(("age", 0.5, 0.1)))
        release(south, estimates(("age", 0.7, 0.1)))

        rita = browser.new_context().new_page()
        rita.goto(world.url + "/login/")
        rita.get_by_label("Username").fill("rita")
        rita.get_by_label("Password").fill("x" * 12)
        rita.get_by_role("button", name="Log in").click()
        rita.goto(world.url + "/workspaces/study/")
        rita.get_by_role("link", name="Results: per backend and combined").click()
        expect(rita.locator(".combine-state")).to_have_text("succeeded")
        expect(rita.locator("section.backend-results")).to_have_count(2)
        assert chart_drawn(rita)
        rita.get_by_label("Dashboard title").fill("Age and outcome")
        rita.get_by_role("button", name="Publish as a public dashboard").click()
        expect(rita.locator("#dashboard-link")).to_have_text("Age and outcome")

        public = browser.new_context().new_page()  # nobody signed in
        public.goto(world.url + "/dashboards/study/")
        expect(public.locator("#dashboard-title")).to_have_text("Age and outcome")
        expect(public.locator("table.preview").first).to_be_visible()
        assert fixed_estimate(public) == pytest.approx(0.6, abs=1e-9)
        assert chart_drawn(public)
        first_update = public.locator("#updated").get_attribute("datetime")

        in_coordinator(world.database, NEW_RUN)
        release(north, estimates(("age", 1.5, 0.1)))
        release(south, estimates(("age", 1.7, 0.1)))
        public.reload()  # the page reloads itself each minute; not worth waiting for here
        expect(public.locator("#updated")).not_to_have_attribute("datetime", first_update)
        assert fixed_estimate(public) == pytest.approx(1.6, abs=1e-9)
        assert public.locator("#updated").get_attribute("datetime") != first_update
        assert chart_drawn(public)
