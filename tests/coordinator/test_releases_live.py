"""Two backends' airlocks release to a live coordinator over real HTTP; once both have, the
coordinator combines their estimates and its public dashboard shows the result. When the study
runs again and both release new outputs, the dashboard shows the new figures unattended."""

from __future__ import annotations

import csv
import io
import re
import urllib.error
import urllib.request

import numpy as np
import pytest

from coordinator.live import in_coordinator, query
from coordinator.live_releases import airlock_for, release, release_coordinator
from coordinator.study_repo import PROJECT, estimates


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, ""


def dashboard_meta(page: str) -> dict[str, dict[str, str]]:
    """The combined meta-analysis table as the public page shows it."""
    table = re.search(r'<table class="preview">(.*?)</table>', page, re.S).group(1)
    header = re.findall(r"<th>(.*?)</th>", table)
    rows = [re.findall(r"<td>(.*?)</td>", r) for r in re.findall(r"<tr>(.*?)</tr>", table)[1:]]
    text = ",".join(header) + "\n" + "".join(",".join(r) + "\n" for r in rows)
    return {row["term"]: row for row in csv.DictReader(io.StringIO(text))}


def fixed(values, errors) -> float:
    w = 1 / np.asarray(errors) ** 2
    return float(np.sum(w * np.asarray(values)) / np.sum(w))


def test_release_combine_and_a_dashboard_that_follows_new_releases(tmp_path):
    with release_coordinator(
        tmp_path / "coordinator", backends=("north", "south"), project=PROJECT
    ) as world:
        north = airlock_for(tmp_path / "north", world.url, world.tokens["north"])
        south = airlock_for(tmp_path / "south", world.url, world.tokens["south"])
        in_coordinator(
            world.database,
            """
from fedsafe.coordinator.release_models import Dashboard
from django.utils import timezone
ws = Workspace.objects.get(name="study")
Dashboard.objects.create(workspace=ws, title="Age effect", published_by=ws.created_by,
                         published_at=timezone.now())
result = 0
""",
        )
        status, page = get(world.url + "/dashboards/study/")
        assert status == 200 and 'id="no-results"' in page

        figures = [((0.5, 0.1), (0.7, 0.2)), ((0.9, 0.1), (1.3, 0.3))]
        shown_before = None
        for number, (a, b) in enumerate(figures):
            if number:  # the schedule fires again and both backends' jobs succeed
                in_coordinator(
                    world.database,
                    """
from fedsafe.coordinator.models import Job
ws = Workspace.objects.get(name="study")
first = ws.requests.order_by("id").first()
spec = RequestSpec(actions=["model"], backends=["north", "south"], reason="scheduled",
                   commit=first.commit)
Job.objects.filter(job_request=create_job_request(first.created_by, ws, spec)).update(
    state="succeeded")
result = 0
""",
                )
            release(north, estimates(("age", *a)))
            # Until south has released for this run, the dashboard shows the previous result.
            page = get(world.url + "/dashboards/study/")[1]
            if shown_before is None:
                assert 'id="no-results"' in page
            else:
                assert float(dashboard_meta(page)["age"]["fixed_estimate"]) == shown_before
            release(south, estimates(("age", *b)))
            status, page = get(world.url + "/dashboards/study/")
            shown = float(dashboard_meta(page)["age"]["fixed_estimate"])
            assert shown != shown_before
            assert shown == pytest.approx(fixed([a[0], b[0]], [a[1], b[1]]), abs=1e-9)
            chart = re.search(r'src="(/dashboards/study/files/\d+)\?inline=1"', page).group(1)
            with urllib.request.urlopen(world.url + chart + "?inline=1", timeout=60) as image:
                assert image.read(8) == b"\x89PNG\r\n\x1a\n"
            shown_before = shown

        states = query(world.database, "SELECT state FROM coordinator_combinerun ORDER BY id")
        assert states == [("succeeded",)] * len(figures)
