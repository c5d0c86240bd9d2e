"""`make demo` as an end-to-end test: the same flow (examples/federation/run_federation.py) in a
temporary folder, then checks of what it claims: one request succeeded on both backends in the
public log, both backends released, the combined result is what the released numbers give
(pooled counts are sums, the meta-analysis matches the formulas in numpy), the public
dashboard shows it over HTTP, and the coordinator holds no patient-level data."""

from __future__ import annotations

import csv
import hashlib
import importlib.util
import io
import re
import socket
import sqlite3
import struct
import sys
from contextlib import closing
from pathlib import Path

import httpx
import numpy as np
import pytest

from agent.scan import leaks

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "examples" / "federation" / "run_federation.py"
BACKENDS = ("north", "south")
TABLE = "output/diabetes_by_age_band.csv"
ESTIMATES = "output/diabetes_prevalence.csv"


def load_demo():
    spec = importlib.util.spec_from_file_location("run_federation", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules["run_federation"] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def rows(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode())))


def query(database: Path, sql: str) -> list[tuple]:
    with closing(sqlite3.connect(database)) as connection:
        return connection.execute(sql).fetchall()


# One north patient's diabetes values, distinctive: the dataset holds it (patient-level, in
# the backend's highly sensitive store); nothing the coordinator stores may.
MARKER = 8675.309
DIABETES_CODES = (
    REPO / "examples/federation/study/codelists/nhsd-primary-care-domain-refsets-dm_cod.csv"
)


def plant_marker(databases: dict[str, Path]) -> None:
    import duckdb

    codes = [r["code"] for r in csv.DictReader(DIABETES_CODES.open())]
    with duckdb.connect(str(databases["north"])) as con:
        [(patient,)] = con.execute(
            """SELECT e.patient_id FROM clinical_events e
            JOIN patients p USING (patient_id) JOIN practice_registrations r USING (patient_id)
            WHERE list_contains(?, e.snomedct_code) AND e.date <= DATE '2020-01-01'
              AND p.date_of_birth BETWEEN DATE '1940-01-01' AND DATE '1990-01-01'
              AND p.date_of_death IS NULL AND r.start_date <= DATE '2020-01-01'
              AND (r.end_date IS NULL OR r.end_date > DATE '2020-01-01')
            ORDER BY e.patient_id LIMIT 1""",
            [codes],
        ).fetchall()
        con.execute(
            "UPDATE clinical_events SET numeric_value = ?"
            " WHERE patient_id = ? AND list_contains(?, snomedct_code)",
            [MARKER, patient, codes],
        )


@pytest.fixture(scope="module")
def federation(tmp_path_factory):
    demo = load_demo()
    fed = demo.run_federation(
        tmp_path_factory.mktemp("demo") / "federation",
        coordinator_port=free_port(),
        airlock_ports=(free_port(), free_port()),
        say=print,
        tune_populations=plant_marker,
    )
    try:
        yield fed
    finally:
        fed.stop()


@pytest.fixture(scope="module")
def store(federation):
    """(database path, data folder, blob reader) of the coordinator."""
    database = Path(federation.database.removeprefix("sqlite:///"))
    data = database.parent / "coordinator-data"

    def blob(sha256: str) -> bytes:
        return (data / "blobs" / sha256[:2] / sha256).read_bytes()

    return database, data, blob


def released(store) -> dict[tuple[str, str], bytes]:
    database, _, blob = store
    found = query(
        database,
        "SELECT b.name, f.path, f.sha256 FROM coordinator_releasedfile f"
        " JOIN coordinator_backend b ON b.id = f.backend_id",
    )
    return {(backend, path): blob(sha) for backend, path, sha in found}


def combined(store) -> dict[str, bytes]:
    """The newest successful combine run's files, by path."""
    database, _, blob = store
    [(run,)] = query(
        database, "SELECT max(id) FROM coordinator_combinerun WHERE state = 'succeeded'"
    )
    found = query(
        database, f"SELECT path, sha256 FROM coordinator_combinedfile WHERE run_id = {run}"
    )
    return {path: blob(sha) for path, sha in found}


def test_the_request_succeeded_on_both_backends_in_the_public_log(federation):
    page = httpx.get(f"{federation.coordinator_url}/jobs/{federation.request_id}/").text
    jobs = re.findall(
        r'data-backend="([^"]+)">\s*<td>\d+</td><td>[^<]+</td><td>([^<]+)</td>'
        r'<td class="state">([^<]+)</td>',
        page,
    )
    assert sorted(jobs) == sorted(
        (backend, action, "succeeded")
        for backend in BACKENDS
        for action in ("generate_dataset", "summarise")
    )
    log = httpx.get(f"{federation.coordinator_url}/jobs/").text
    row = re.search(rf'data-request="{federation.request_id}">(.*?)</tr>', log, re.S).group(1)
    assert "north, south" in row and '<td class="state">succeeded</td>' in row


def test_both_backends_released_what_their_airlocks_approved(federation, store):
    database, _, _ = store
    complete = query(
        database,
        "SELECT b.name, count(*) FROM coordinator_release r"
        " JOIN coordinator_backend b ON b.id = r.backend_id"
        " WHERE r.completed_at IS NOT NULL GROUP BY b.name",
    )
    assert dict(complete) == {"north": 1, "south": 1}  # the tables, their sidecars with them
    files = released(store)
    for backend in BACKENDS:
        for path in (TABLE, ESTIMATES, TABLE + ".disclosure.json", ESTIMATES + ".disclosure.json"):
            # Byte for byte the file in the backend's medium store that the airlock reviewed.
            medium = federation.backend_dirs[backend] / "workspaces" / "diabetes" / path
            assert files[(backend, path)] == medium.read_bytes()


def test_pooled_counts_are_the_sums_of_the_released_counts(store):
    files = released(store)
    pooled = {
        r["age_band"]: r for r in rows(combined(store)["tables/output/diabetes_by_age_band.csv"])
    }
    per_backend = [{r["age_band"]: r for r in rows(files[(b, TABLE)])} for b in BACKENDS]
    assert set(pooled) == set(per_backend[0]) | set(per_backend[1])
    checked = 0
    for band, row in pooled.items():
        for column in ("diabetes", "no_diabetes", "Total"):
            cells = [table[band][column] for table in per_backend]
            if "" in cells:  # a backend redacted it: the pooled cell must be redacted too
                assert row[column] == ""
                continue
            total = sum(int(c) for c in cells)
            # Sums of counts rounded to 5 and above 7 are unchanged by the policy applied again.
            assert total > 7 and total % 5 == 0
            assert int(row[column]) == total
            checked += 1
    assert checked >= 9


def test_the_meta_analysis_matches_the_formulas_in_numpy(store):
    files = released(store)
    meta = {r["term"]: r for r in rows(combined(store)["meta/output__diabetes_prevalence.csv"])}
    per_backend = [{r["term"]: r for r in rows(files[(b, ESTIMATES)])} for b in BACKENDS]
    assert set(meta) == set(per_backend[0])
    for term, row in meta.items():
        e = np.array([float(t[term]["events"]) for t in per_backend])
        n = np.array([float(t[term]["total"]) for t in per_backend])
        y = np.log(e / (n - e))
        v = 1 / e + 1 / (n - e)
        w = 1 / v
        fixed = np.sum(w * y) / np.sum(w)
        q = np.sum(w * (y - fixed) ** 2)
        c = np.sum(w) - np.sum(w**2) / np.sum(w)
        tau2 = max(0.0, (q - 1) / c)
        wr = 1 / (v + tau2)
        random = np.sum(wr * y) / np.sum(wr)
        assert float(row["fixed_estimate"]) == pytest.approx(fixed, abs=1e-9)
        assert float(row["fixed_std_error"]) == pytest.approx(np.sqrt(1 / np.sum(w)), abs=1e-9)
        assert float(row["q"]) == pytest.approx(q, abs=1e-9)
        assert float(row["tau2"]) == pytest.approx(tau2, abs=1e-9)
        assert float(row["random_estimate"]) == pytest.approx(random, abs=1e-9)
        assert float(row["fixed_proportion"]) == pytest.approx(1 / (1 + np.exp(-fixed)), abs=1e-9)


def test_the_public_dashboard_and_its_static_copy_show_the_combined_result(federation, store):
    page = httpx.get(federation.dashboard_url)  # no login
    assert page.status_code == 200
    pooled = rows(combined(store)["tables/output/diabetes_by_age_band.csv"])
    total = next(r for r in pooled if r["age_band"] == "Total")
    cells = re.findall(r"<td>([^<]*)</td>", page.text)
    assert total["Total"] in cells and total["diabetes"] in cells
    chart = re.search(r'src="(/dashboards/diabetes/files/\d+)\?inline=1"', page.text).group(1)
    assert httpx.get(federation.coordinator_url + chart + "?inline=1").content[:8] == (
        b"\x89PNG\r\n\x1a\n"
    )
    copy = federation.static_copy
    html = copy.read_text()
    assert "/dashboards/diabetes/files/" not in html  # every link made local
    images = re.findall(r'src="(files/\d+\.png)"', html)
    assert images and all((copy.parent / i).read_bytes()[:4] == b"\x89PNG" for i in images)


def test_the_coordinator_holds_no_patient_level_data(federation, store):
    database, data, _ = store
    datasets = [
        federation.backend_dirs[b].parent
        / "high"
        / "workspaces"
        / "diabetes"
        / "output"
        / "dataset.arrow"
        for b in BACKENDS
    ]
    # The planted value is in north's patient-level dataset (so the scan below can find it) ...
    import pyarrow.feather

    values = pyarrow.feather.read_table(datasets[0])["latest_diabetes_value"].to_pylist()
    assert values.count(MARKER) == 1
    # ... and nowhere in the coordinator: not as text in any table, file or its log, not as the
    # float's bytes in any stored file; neither are the datasets' names, hashes or bytes.
    text_markers = [str(MARKER), "dataset.arrow"] + [
        hashlib.sha256(p.read_bytes()).hexdigest() for p in datasets
    ]
    server_log = (federation.workdir / "logs" / "coordinator.log").read_text()
    assert leaks(database, data, server_log, text_markers) == []
    planted = struct.pack("<d", MARKER)
    files = [p for p in database.parent.rglob("*") if p.is_file()]
    assert files and not [p for p in files if planted in p.read_bytes()]
    stored = {p.read_bytes() for p in (data / "blobs").rglob("*") if p.is_file()}
    assert not any(p.read_bytes() in stored for p in datasets)
    # Every count the coordinator holds is a protected one: redacted, or rounded and above 7.
    for (backend, path), body in released(store).items():
        if path.endswith(".csv"):
            for row in rows(body):
                for column, value in row.items():
                    if column not in ("age_band", "term") and value != "":
                        assert int(value) > 7 and int(value) % 5 == 0, (backend, path, row)
    # The scan can fail: it finds the value's bytes and the dataset where they rightly are.
    high = federation.backend_dirs["north"].parent / "high"
    assert any(planted in p.read_bytes() for p in high.rglob("*.arrow"))
    state = federation.backend_dirs["north"].parent / "state.sqlite3"
    assert len(leaks(state, high, "", text_markers)) >= 2


def test_in_a_browser_the_results_dashboard_and_automatic_release(federation, store, tmp_path):
    """Chromium (Debian's, driven by Playwright) on the demo's pages, saving the tutorial's
    screenshots: into a temporary folder, or ``FEDSAFE_SCREENSHOTS`` (``docs/images``)."""
    import os

    from playwright.sync_api import expect, sync_playwright

    from coordinator.test_browser import CHROMIUM_ARGS

    folder = Path(os.environ.get("FEDSAFE_SCREENSHOTS") or tmp_path / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    url = federation.coordinator_url
    pooled = rows(combined(store)["tables/output/diabetes_by_age_band.csv"])
    total = next(r for r in pooled if r["age_band"] == "Total")["Total"]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        expect.set_options(timeout=60_000)  # generous: a slow shared machine, not a check
        try:

            def shoot(page, name: str) -> None:
                path = folder / f"tutorial-{name}.png"
                page.screenshot(path=path, full_page=True)
                assert path.stat().st_size > 0

            # The public dashboard: no login, the forest plot drawn, the pooled total shown.
            public = browser.new_context().new_page()
            public.goto(federation.dashboard_url)
            image = public.locator("img").first
            expect(image).to_be_visible()
            assert image.evaluate("img => img.complete && img.naturalWidth > 0")
            expect(public.get_by_role("cell", name=total, exact=True).first).to_be_visible()
            shoot(public, "1-dashboard")

            # The researcher's results page: per-backend releases and the combined result.
            rita = browser.new_context().new_page()
            rita.goto(url + "/login/")
            rita.get_by_label("Username").fill("rita")
            rita.get_by_label("Password").fill("demo-password-123")
            rita.get_by_role("button", name="Log in").click()
            rita.goto(url + "/workspaces/diabetes/results/")
            expect(rita.locator(".combine-state").first).to_have_text("succeeded")
            expect(rita.locator("section.backend-results")).to_have_count(2)
            shoot(rita, "2-results")

            # North's airlock: the tables' request, released automatically.
            airlock = browser.new_context().new_page()
            airlock.goto(federation.airlock_urls["north"] + "/login")
            airlock.get_by_label("Username").fill("rita")
            airlock.get_by_label("Password").fill("demo-password-123")
            airlock.get_by_role("button", name="Sign in").click()
            request_id = federation.release_requests["north"]["tables"]
            airlock.goto(f"{federation.airlock_urls['north']}/requests/{request_id}/")
            expect(airlock.locator("#status")).to_have_text("released")
            expect(airlock.get_by_text("released automatically").first).to_be_visible()
            shoot(airlock, "3-airlock-automatic")

            # The public jobs log: the one request, on both backends.
            public.goto(url + f"/jobs/{federation.request_id}/")
            expect(public.locator("td.state").first).to_have_text("succeeded")
            shoot(public, "4-request")
        finally:
            browser.close()


def test_a_taken_port_stops_the_demo_before_anything_starts_and_says_which(tmp_path):
    demo = load_demo()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(demo.DemoError) as caught:
            demo.run_federation(tmp_path / "fed", coordinator_port=port, say=print)
    assert caught.value.step == "ports"
    assert f"port {port} is taken" in str(caught.value)
    assert not (tmp_path / "fed").exists()  # nothing made, nothing started


def test_no_token_is_written_to_the_demos_logs(federation):
    logs = sorted((federation.workdir / "logs").glob("*.log"))
    assert any("add-backend" in p.read_text() for p in logs)  # the setup step was logged
    assert [p.name for p in logs if re.search(r"fs[bu]_", p.read_text())] == []
