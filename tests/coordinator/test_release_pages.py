"""Pages for released files, results and the public dashboard, through Django's test client."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from coordinator.release_world import (
    NO_COMBINE,
    PROJECT,
    Airlock,
    estimates,
    make_workspace,
    run_request,
    sha,
    study_repo,
)
from fedsafe.coordinator.models import AuditEvent
from fedsafe.coordinator.release_models import CombineRun, ReleasedFile
from fedsafe.coordinator.setup_records import add_backend

pytestmark = pytest.mark.django_db

TABLE = b"group,count\nalpha,100\nbeta,250\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
HTML = b"<script>alert(document.cookie)</script>"


def setup(user, tmp_path, project=NO_COMBINE):
    repo_url, commit = study_repo(tmp_path / "repo", project)
    airlocks = {n: Airlock(Client(), add_backend(n, "patients").token) for n in ("north", "south")}
    study = make_workspace(user, "study", repo_url)
    return airlocks, study, run_request(user, study, ["north", "south"], commit)


@pytest.fixture
def released(user, tmp_path):
    airlocks, study, job_request = setup(user, tmp_path)
    files = {"output/table.csv": TABLE, "output/chart.png": PNG, "output/page.html": HTML}
    assert airlocks["north"].release("r-1", "study", files).status_code == 201
    airlocks["south"].upload("r-2", "study", "output/table.csv", TABLE)  # not complete yet
    return study, job_request


def test_the_workspace_page_lists_released_files_per_backend_with_provenance(
    client, user, released
):
    _, job_request = released
    client.force_login(user)
    page = client.get("/workspaces/study/").content.decode()
    north = page[page.index('data-backend="north"') :]
    north = north[: north.index("</table>")]
    assert "output/table.csv" in north and "output/chart.png" in north
    assert sha(TABLE)[:12] in north and "r-1" in north
    assert f"#{job_request.pk}" in north and job_request.commit[:12] in north
    assert "(inferred)" in north
    south = page[page.index('data-backend="south"') :]
    assert "r-2" in south and "not yet" in south[: south.index("</table>")]


def test_a_released_csv_is_shown_as_a_table_with_its_provenance(client, user, released):
    client.force_login(user)
    file = ReleasedFile.objects.get(path="output/table.csv", backend__name="north")
    page = client.get(f"/workspaces/study/released/{file.pk}/").content.decode()
    assert '<dd id="backend">north</dd>' in page
    assert sha(TABLE) in page and "r-1" in page
    assert re.search(r"<td>alpha</td><td>100</td>", page)
    image = ReleasedFile.objects.get(path="output/chart.png")
    page = client.get(f"/workspaces/study/released/{image.pk}/").content.decode()
    assert f'<img src="/workspaces/study/released/{image.pk}/raw?inline=1"' in page


def test_downloads_are_the_released_bytes_and_never_run_in_the_coordinators_origin(
    client, user, released
):
    client.force_login(user)
    html = ReleasedFile.objects.get(path="output/page.html")
    page = client.get(f"/workspaces/study/released/{html.pk}/").content.decode()
    assert "<script>" not in page and "Shown as a download only" in page
    raw = client.get(f"/workspaces/study/released/{html.pk}/raw?inline=1")
    assert raw.content == HTML
    assert raw["Content-Disposition"].startswith("attachment")
    assert "sandbox" in raw["Content-Security-Policy"]
    assert raw["X-Content-Type-Options"] == "nosniff"
    assert raw["Content-Type"].startswith("text/plain")
    png = ReleasedFile.objects.get(path="output/chart.png")
    raw = client.get(f"/workspaces/study/released/{png.pk}/raw?inline=1")
    assert raw.content == PNG and raw["Content-Type"] == "image/png"
    assert raw["Content-Disposition"].startswith("inline")


def test_released_files_need_a_login(client, released):
    file = ReleasedFile.objects.first()
    for url in (
        f"/workspaces/study/released/{file.pk}/",
        f"/workspaces/study/released/{file.pk}/raw",
        "/workspaces/study/results/",
    ):
        response = client.get(url)
        assert response.status_code == 302 and "/login/" in response["Location"]


def test_a_file_is_only_reachable_under_its_own_workspace(client, user, released):
    make_workspace(user, "other", "https://example.org/x.git")
    client.force_login(user)
    file = ReleasedFile.objects.first()
    assert client.get(f"/workspaces/other/released/{file.pk}/raw").status_code == 404


# -- results and dashboards -------------------------------------------------------------------


def release_round(airlocks, suffix, north, south):
    airlocks["north"].release(f"n-{suffix}", "study", {"output/model.csv": north})
    airlocks["south"].release(f"s-{suffix}", "study", {"output/model.csv": south})


def test_results_show_per_backend_and_combined_results_with_charts(client, user, tmp_path):
    airlocks, _, job_request = setup(user, tmp_path, PROJECT)
    release_round(airlocks, "1", estimates(("age", 0.5, 0.1)), estimates(("age", 0.7, 0.2)))
    run = CombineRun.objects.get(state="succeeded")
    client.force_login(user)
    page = client.get("/workspaces/study/results/").content.decode()
    chart = run.files.get(path="charts/output__model.forest.png")
    assert f'src="/workspaces/study/combined/{chart.pk}/raw?inline=1"' in page
    assert "<th>fixed_estimate</th>" in page
    assert 'data-backend="north"' in page and 'data-backend="south"' in page
    assert f"#{job_request.pk}" in page
    raw = client.get(f"/workspaces/study/combined/{chart.pk}/raw?inline=1")
    assert raw.content.startswith(b"\x89PNG")


def test_a_failed_combine_is_shown_on_the_results_page(client, user, tmp_path):
    airlocks, _, _ = setup(user, tmp_path, PROJECT)
    release_round(
        airlocks, "1", estimates(("age", 0.5, 0.1)), b"term,estimate,std_error\nage,x,1\n"
    )
    client.force_login(user)
    page = client.get("/workspaces/study/results/").content.decode()
    assert '<strong class="combine-state">failed</strong>' in page
    assert 'class="error combine-error"' in page


def fixed_estimate_on(page: str) -> str:
    header = re.search(r"<thead><tr>(.*?)</tr></thead>", page, re.S).group(1)
    column = re.findall(r"<th>(.*?)</th>", header).index("fixed_estimate")
    row = re.search(r"<tbody><tr>(.*?)</tr>", page, re.S).group(1)
    return re.findall(r"<td>(.*?)</td>", row)[column]


def test_a_published_dashboard_is_public_and_shows_the_newest_release(client, user, tmp_path):
    airlocks, study, first = setup(user, tmp_path, PROJECT)
    release_round(airlocks, "1", estimates(("age", 0.5, 0.1)), estimates(("age", 0.7, 0.1)))
    public = Client()
    assert public.get("/dashboards/study/").status_code == 404  # not published yet

    client.force_login(user)
    answer = client.post("/workspaces/study/dashboard/", {"publish": "1", "title": "Age effect"})
    assert answer.status_code == 302
    assert AuditEvent.objects.filter(kind="dashboard.published").count() == 1
    page = public.get("/dashboards/study/").content.decode()
    assert '<h1 id="dashboard-title">Age effect</h1>' in page
    assert 'http-equiv="refresh"' in page
    assert float(fixed_estimate_on(page)) == pytest.approx(0.6, abs=1e-9)
    chart = re.search(r'src="(/dashboards/study/files/\d+)\?inline=1"', page).group(1)
    assert public.get(chart + "?inline=1").content.startswith(b"\x89PNG")

    # A scheduled run's outputs are released again with new figures: the dashboard follows.
    run_request(user, study, ["north", "south"], first.commit)
    release_round(airlocks, "2", estimates(("age", 0.9, 0.1)), estimates(("age", 1.1, 0.1)))
    page = public.get("/dashboards/study/").content.decode()
    assert float(fixed_estimate_on(page)) == pytest.approx(1.0, abs=1e-9)
    assert CombineRun.objects.filter(state="succeeded").count() == 2

    client.post("/workspaces/study/dashboard/", {"publish": "0"})
    assert public.get("/dashboards/study/").status_code == 404
    assert public.get(chart).status_code == 404


def test_a_dashboard_never_serves_a_backends_own_files(client, user, tmp_path):
    airlocks, _, _ = setup(user, tmp_path, PROJECT)
    release_round(airlocks, "1", estimates(("age", 0.5, 0.1)), estimates(("age", 0.7, 0.1)))
    client.force_login(user)
    client.post("/workspaces/study/dashboard/", {"publish": "1", "title": "t"})
    page = Client().get("/dashboards/study/").content.decode()
    assert "/released/" not in page and "/workspaces/study/" not in page
    assert "/dashboards/study/files/" in page


def test_a_requests_public_page_lists_what_was_released_but_not_the_contents(released):
    _, job_request = released
    page = Client().get(f"/jobs/{job_request.pk}/").content.decode()
    north = page[page.index('class="released-names" data-backend="north"') :]
    north = north[: north.index("</ul>")]
    assert "output/table.csv" in north and sha(TABLE)[:12] in north
    assert "airlock request r-1, complete" in page
    assert "/raw" not in page and "alpha" not in page  # names and hashes, never contents


def test_a_failed_combine_can_be_run_again_once_the_repository_is_fixed(client, user, tmp_path):
    airlocks, study, _ = setup(user, tmp_path, PROJECT)
    good_url = study.repo_url
    study.repo_url = f"file://{tmp_path}/moved.git"  # the repository is unreachable for a while
    study.save()
    release_round(airlocks, "1", estimates(("age", 0.5, 0.1)), estimates(("age", 0.7, 0.1)))
    failed = CombineRun.objects.get()
    assert failed.state == "failed"
    client.force_login(user)
    assert "Combine again" in client.get("/workspaces/study/results/").content.decode()

    study.repo_url = good_url
    study.save()
    answer = client.post("/workspaces/study/results/combine/", {"run": failed.pk})
    assert answer.status_code == 302
    assert [r.state for r in CombineRun.objects.order_by("id")] == ["failed", "succeeded"]
    assert AuditEvent.objects.filter(kind="combine.requested", actor="user:rita").count() == 1
    # A succeeded run is not run again, and only failed runs can be asked for.
    latest = CombineRun.objects.get(state="succeeded")
    assert client.post("/workspaces/study/results/combine/", {"run": latest.pk}).status_code == 404
    assert client.post("/workspaces/study/results/combine/", {"run": failed.pk}).status_code == 302
    assert CombineRun.objects.count() == 2
