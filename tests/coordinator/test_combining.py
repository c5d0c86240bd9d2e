"""The coordinator's automatic combine step: it waits for every backend a job request ran on,
runs the workspace's combine actions (read from project.yaml at the request's commit in a real
git repository) over the released files only, and keeps the results with their provenance. A
failing combine is recorded and shown; the upload that triggered it still succeeds."""

from __future__ import annotations

import csv
import io
import json

import numpy as np
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
from fedsafe.coordinator.combining import combine_if_ready, combine_pending
from fedsafe.coordinator.models import AuditEvent
from fedsafe.coordinator.release_models import CombineRun
from fedsafe.coordinator.releases import blob_store
from fedsafe.coordinator.setup_records import add_backend

pytestmark = pytest.mark.django_db

NORTH = estimates(("age", 0.5, 0.1), ("sex", 0.2, 0.05))
SOUTH = estimates(("age", 0.7, 0.2), ("sex", 0.1, 0.08))


def setup(user, tmp_path, project=PROJECT, backends=("north", "south")):
    repo_url, commit = study_repo(tmp_path / "repo", project)
    airlocks = {name: Airlock(Client(), add_backend(name, "patients").token) for name in backends}
    study = make_workspace(user, "study", repo_url)
    return airlocks, study, run_request(user, study, list(backends), commit)


def fixed_effect(values, errors):
    w = 1 / np.asarray(errors) ** 2
    return float(np.sum(w * np.asarray(values)) / np.sum(w)), float(np.sqrt(1 / np.sum(w)))


def meta_rows(run: CombineRun) -> dict[str, dict[str, str]]:
    file = run.files.get(path="meta/output__model.csv")
    text = blob_store().read(file.sha256).decode()
    return {row["term"]: row for row in csv.DictReader(io.StringIO(text))}


def test_combine_waits_for_every_backend_then_runs_the_combine_action(user, tmp_path):
    airlocks, _study, job_request = setup(user, tmp_path)
    north = airlocks["north"].release(
        "r-n", "study", {"output/model.csv": NORTH, "output/notes.txt": b"notes\n"}
    )
    assert north.status_code == 201
    assert not CombineRun.objects.exists()  # south has not released yet

    south = airlocks["south"].release("r-s", "study", {"output/model.csv": SOUTH})
    assert south.status_code == 201
    run = CombineRun.objects.get()
    assert (run.state, run.action, run.job_request, run.commit) == (
        "succeeded",
        "combine",
        job_request,
        job_request.commit,
    )
    # Provenance: only the needs_released action's outputs, each with backend and request.
    assert run.inputs == [
        {"backend": "north", "path": "output/model.csv", "sha256": sha(NORTH), "request_id": "r-n"},
        {"backend": "south", "path": "output/model.csv", "sha256": sha(SOUTH), "request_id": "r-s"},
    ]
    paths = sorted(run.files.values_list("path", flat=True))
    assert paths == [
        "charts/output__model.forest.png",
        "charts/output__model.forest.svg",
        "manifest.json",
        "meta/output__model.csv",
    ]
    for file in run.files.all():
        assert sha(blob_store().read(file.sha256)) == file.sha256
    manifest = json.loads(blob_store().read(run.files.get(path="manifest.json").sha256))
    assert manifest["backends"] == ["north", "south"] == run.manifest["backends"]
    # The numbers: the inverse-variance estimate, computed here independently.
    rows = meta_rows(run)
    for term, (a, b) in {
        "age": ((0.5, 0.1), (0.7, 0.2)),
        "sex": ((0.2, 0.05), (0.1, 0.08)),
    }.items():
        estimate, error = fixed_effect([a[0], b[0]], [a[1], b[1]])
        assert float(rows[term]["fixed_estimate"]) == pytest.approx(estimate, abs=1e-9)
        assert float(rows[term]["fixed_std_error"]) == pytest.approx(error, abs=1e-9)
    kinds = [e.data["state"] for e in AuditEvent.objects.filter(kind="combine.finished")]
    assert kinds == ["succeeded"]


def test_the_same_inputs_are_never_combined_twice(user, tmp_path):
    airlocks, _, job_request = setup(user, tmp_path)
    airlocks["north"].release("r-n", "study", {"output/model.csv": NORTH})
    airlocks["south"].release("r-s", "study", {"output/model.csv": SOUTH})
    assert combine_if_ready(job_request.pk) == []
    assert combine_pending() == []
    assert CombineRun.objects.count() == 1


def test_a_failing_combine_is_recorded_and_the_release_still_stands(user, tmp_path):
    airlocks, _, _ = setup(user, tmp_path)
    airlocks["north"].release("r-n", "study", {"output/model.csv": NORTH})
    broken = b"term,estimate,std_error\nage,0.5,-1\n"  # a negative standard error
    answer = airlocks["south"].release("r-s", "study", {"output/model.csv": broken})
    assert answer.status_code == 201
    run = CombineRun.objects.get()
    assert run.state == "failed"
    assert "std_error" in run.error and "output/model.csv" in run.error
    assert not run.files.exists()


def test_a_project_without_combine_actions_is_skipped_and_says_so(user, tmp_path):
    airlocks, _, _ = setup(user, tmp_path, NO_COMBINE)
    airlocks["north"].release("r-n", "study", {"output/model.csv": NORTH})
    airlocks["south"].release("r-s", "study", {"output/model.csv": SOUTH})
    run = CombineRun.objects.get()
    assert run.state == "skipped" and "declares no fedsafe:v1 combine action" in run.error


def test_an_unreadable_repository_is_a_recorded_failure(user, tmp_path):
    airlocks, study, _job_request = setup(user, tmp_path)
    study.repo_url = f"file://{tmp_path}/gone.git"
    study.save()
    airlocks["north"].release("r-n", "study", {"output/model.csv": NORTH})
    answer = airlocks["south"].release("r-s", "study", {"output/model.csv": SOUTH})
    assert answer.status_code == 201
    run = CombineRun.objects.get()
    assert run.state == "failed" and "cannot fetch commit" in run.error


def test_a_release_that_carries_no_needed_output_is_skipped(user, tmp_path):
    airlocks, _, _ = setup(user, tmp_path)
    airlocks["north"].release("r-n", "study", {"output/notes.txt": b"n\n"})
    airlocks["south"].release("r-s", "study", {"output/notes.txt": b"s\n"})
    run = CombineRun.objects.get()
    assert run.state == "skipped" and "no released file is an output of model" in run.error


def test_releases_from_an_earlier_run_do_not_count_for_a_later_one(user, tmp_path):
    airlocks, study, first = setup(user, tmp_path)
    airlocks["north"].release("r-n1", "study", {"output/model.csv": NORTH})
    second = run_request(user, study, ["north", "south"], first.commit)
    # north's next release belongs to the newer run; south releases for it too.
    airlocks["north"].release("r-n2", "study", {"output/model.csv": NORTH})
    airlocks["south"].release("r-s2", "study", {"output/model.csv": SOUTH})
    run = CombineRun.objects.get()
    assert run.job_request == second
    assert {i["request_id"] for i in run.inputs} == {"r-n2", "r-s2"}


def test_the_combine_process_gets_none_of_the_coordinators_secrets(monkeypatch, tmp_path):
    from fedsafe.coordinator.combining import _child_environment

    monkeypatch.setenv("FEDSAFE_COORDINATOR_DATABASE", "postgresql://u:secret@db/coordinator")
    monkeypatch.setenv("FEDSAFE_COORDINATOR_SECRET_KEY", "secret")
    monkeypatch.setenv("FEDSAFE_DISCLOSURE_POLICY", '{"suppress_at_or_below": 10}')
    env = _child_environment(tmp_path)
    assert not any("secret" in value for value in env.values())
    assert (
        env["FEDSAFE_DISCLOSURE_POLICY"] == '{"suppress_at_or_below": 10}'
    )  # the operator's policy


def test_run_schedules_catches_up_on_releases_that_were_never_combined(user, tmp_path, monkeypatch):
    import fedsafe.coordinator.release_api as release_api

    airlocks, _, job_request = setup(user, tmp_path)
    # The server stops between storing the last completion and combining.
    monkeypatch.setattr(release_api, "combine_if_ready", lambda _pk: [])
    airlocks["north"].release("r-n", "study", {"output/model.csv": NORTH})
    airlocks["south"].release("r-s", "study", {"output/model.csv": SOUTH})
    assert not CombineRun.objects.exists()
    made = combine_pending()
    assert [(r.job_request, r.state) for r in made] == [(job_request, "succeeded")]
    assert combine_pending() == []


@pytest.mark.parametrize("present", [True, False])
def test_a_combine_actions_policy_file_is_read_from_the_repository(user, tmp_path, present):
    project = PROJECT.replace(
        "--output output/combined", "--output output/combined --policy p.json"
    )
    files = {"p.json": '{"suppress_at_or_below": 10}'} if present else {}
    repo_url, commit = study_repo(tmp_path / "repo", project, files)
    airlocks = {n: Airlock(Client(), add_backend(n, "patients").token) for n in ("north", "south")}
    run_request(user, make_workspace(user, "study", repo_url), ["north", "south"], commit)
    airlocks["north"].release("r-n", "study", {"output/model.csv": NORTH})
    airlocks["south"].release("r-s", "study", {"output/model.csv": SOUTH})
    run = CombineRun.objects.get()
    if present:
        assert run.state == "succeeded", run.error
        assert run.manifest["policy"]["suppress_at_or_below"] == 10
    else:
        assert run.state == "failed"
        assert "the policy file p.json is not in the repository" in run.error
