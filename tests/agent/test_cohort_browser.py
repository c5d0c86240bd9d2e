"""The cohort query builder in a real browser (Playwright driving Debian's chromium), against a
live coordinator and two real agents: build a query from rules joined by OR, see a bad query
refused with its JSON path, submit, and watch each backend's safe answer and the combined total
arrive on the page, matching the API and ``fedsafe cohort count`` on each backend."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from agent.test_cohort_federation import (
    backends,
    direct_count,
    get_query,
    run_agents,
    seed,
)
from coordinator.live import LiveCoordinator, query
from coordinator.test_browser import page, shoot  # noqa: F401 - fixtures

pytestmark = pytest.mark.slow


def sent_example() -> dict:
    return {"groups": [{"rules": [{"domain": "person", "sex": "male"}]}]}


def test_build_a_query_and_watch_the_answers_arrive(
    page: Page,  # noqa: F811
    shoot,  # noqa: F811
    coordinator_db,
    tmp_path: Path,
):
    configs = backends(tmp_path)
    tokens, user_token = seed(coordinator_db)
    server = LiveCoordinator(coordinator_db).start()
    try:
        page.goto(f"{server.url}/cohort/")
        page.get_by_label("Username").fill("rita")
        page.get_by_label("Password").fill("x" * 12)
        page.get_by_role("button", name="Log in").click()
        expect(page.get_by_role("heading", name="Cohort discovery")).to_be_visible()
        expect(page.locator(".backend")).to_have_count(2)

        # Bad input: a condition rule with no code is refused, naming where.
        page.get_by_role("button", name="Count patients").click()
        expect(page.locator("#problem")).to_contain_text("$.groups[0].rules[0].codes")
        expect(page.locator("#result")).to_be_hidden()

        # Women OR anyone with a diabetes code (SNOMED CT), as of a fixed date.
        page.locator("#reference_date").fill("2026-01-31")
        group = page.locator("fieldset.group").first
        group.get_by_label("Rules joined by").select_option("OR")
        first = group.locator(".rule").nth(0)
        first.get_by_label("Domain").select_option("person")
        first.get_by_label("Sex").select_option("female")
        group.get_by_role("button", name="Add rule").click()
        second = group.locator(".rule").nth(1)
        second.get_by_label("Domain").select_option("condition")
        second.get_by_label("Code system").select_option("snomedct")
        second.get_by_label("Codes").fill("73211009, 44054006")
        shoot("cohort-1-builder")
        page.get_by_role("button", name="Count patients").click()
        expect(page.locator("#problem")).to_be_hidden()
        rows = page.locator("#answers tbody tr")
        expect(rows).to_have_count(2)
        expect(page.locator("#total")).to_have_text("waiting")

        query_id = int(re.search(r"\d+", page.locator("#query_id").inner_text()).group())
        run_agents(configs, server.url, tokens)  # the page keeps polling meanwhile
        state = get_query(server.url, user_token, query_id)
        expect(page.locator("#total")).to_have_text(str(state["total"]))
        shoot("cohort-2-answers")

        # Attack: the session alone, without the page's CSRF token (as another site's form
        # would send it), is refused and stores nothing.
        forged = page.request.post(
            f"{server.url}/api/cohort/v1/queries",
            data={"query": sent_example(), "backends": "all"},
        )
        assert forged.status == 403
        assert query(coordinator_db, "SELECT count(*) FROM coordinator_cohortquery") == [(1,)]
    finally:
        server.stop()

    sent = state["query"]
    assert sent["groups"][0]["rules_oper"] == "OR"
    assert sent["groups"][0]["rules"] == [
        {"domain": "person", "sex": "female"},
        {"domain": "condition", "codes": ["snomedct:73211009", "snomedct:44054006"]},
    ]
    for answer in state["answers"]:
        row = page.locator(f'#answers tbody tr[data-backend="{answer["backend"]}"]')
        expect(row.locator("td").nth(1)).to_have_text("answered")
        expect(row.locator("td").nth(2)).to_have_text(str(answer["safe_count"]))
        assert answer["safe_count"] == direct_count(configs[answer["backend"]], sent, tmp_path)
    assert state["total"] == sum(a["safe_count"] for a in state["answers"])
