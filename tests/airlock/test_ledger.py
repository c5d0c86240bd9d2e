"""Differencing across releases, through the airlock: each test is an attack in which two
outputs each pass the checker alone but together reveal a small group, made through real
requests, real votes and a real HTTP receiver; the airlock must catch it on the second."""

from __future__ import annotations

import json

import pytest

from airlock.backend_fixture import declare, make_backend, write_output
from airlock.flows import events, last_refusal
from airlock.upload_server import receiver
from fedsafe.airlock.config import load_config
from fedsafe.airlock.errors import PolicyRefused
from fedsafe.airlock.service import Airlock
from fedsafe.airlock.states import Status
from fedsafe.airlock.upload import Uploader
from fedsafe.disclosure.ledger import ReleaseLedger
from fedsafe.disclosure.safe import safe_counts

ALL = "age_band,n\n0-64,100\n65+,40\n"
RERUN = "age_band,n\n0-64,100\n65+,35\n"  # the report re-run with one more exclusion code
MALES = "age_band,n\n0-64,50\n65+,35\n"  # with filters sex=M: all minus males = 5 women 65+


def _backend(tmp_path, url, extra=""):
    backend = make_backend(tmp_path / "backend", coordinator=url, extra=extra)
    config = load_config(backend)
    return backend, Airlock(config, Uploader(url, config.coordinator_token, first_pause=0))


def _put(backend, path, text, filters=None):
    study = backend / "workspaces" / "study"
    write_output(study, path, text, "moderately_sensitive")
    if filters is not None:
        sidecar = {"columns": {"age_band": "label", "n": "count"}, "release": {"filters": filters}}
        # a declared output of the action, as the pipeline keeps sidecars
        write_output(study, f"{path}.disclosure.json", json.dumps(sidecar), "moderately_sensitive")


def _request(airlock, paths, justification=None):
    request_id = airlock.add_files(
        "rita", "study", paths, group="main", context="Counts by age", controls="Checked"
    )
    if justification:
        for path in paths:
            airlock.justify("rita", request_id, path, justification)
    airlock.submit("rita", request_id)
    return request_id


def _approve(airlock, request_id, paths):
    for checker in ("carl", "cora"):
        for path in paths:
            airlock.vote(checker, request_id, path, "approve")
    airlock.approve("carl", request_id)


def _released(airlock, paths):
    request_id = _request(airlock, paths)
    _approve(airlock, request_id, paths)
    assert airlock.release("carl", request_id) is Status.RELEASED
    return request_id


def _differencing(airlock, request_id, path):
    (file,) = [f for f in airlock.view_request("carl", request_id).files if f.path == path]
    return [f for f in file.findings if f["rule"] == "differencing_across_releases"]


def test_a_rerun_excluding_a_few_patients_is_caught_on_the_second_request(tmp_path):
    with receiver() as server:
        backend, airlock = _backend(tmp_path, server.url)
        _put(backend, "output/all.csv", ALL)
        _put(backend, "output/rerun.csv", RERUN)
        first = _released(airlock, ["output/all.csv"])
        second = airlock.add_files(
            "rita", "study", ["output/rerun.csv"], group="g", context="c", controls="k"
        )
        with pytest.raises(PolicyRefused, match="fails the automated checks"):
            airlock.submit("rita", second)
        assert airlock.view_request("rita", second).status is Status.PENDING
        airlock.justify("rita", second, "output/rerun.csv", "I believe it is fine")
        airlock.submit("rita", second)
        (fail,) = _differencing(airlock, second, "output/rerun.csv")
        assert fail["status"] == "fail" and "gives 5" in fail["reason"]
        # Alone the file passes every other check: only the ledger sees the leak.
        (file,) = airlock.view_request("carl", second).files
        assert [f["rule"] for f in file.findings if f["status"] == "fail"] == [fail["rule"]]
        assert f"study/output/all.csv (request {first})" in fail["reason"]
        assert f"study/output/rerun.csv (request {second})" in fail["reason"]
        view = airlock.view_request("carl", second)
        assert view.files[0].check_status == "fail"


def test_all_minus_males_reveals_five_women_and_is_caught_in_either_order(tmp_path):
    with receiver() as server:
        backend, airlock = _backend(tmp_path, server.url)
        _put(backend, "output/males.csv", MALES, {"sex": ["M"]})
        _put(backend, "output/all.csv", ALL, {})
        _released(airlock, ["output/males.csv"])
        second = _request(airlock, ["output/all.csv"], justification="needed")
        (fail,) = _differencing(airlock, second, "output/all.csv")
        assert "gives 5" in fail["reason"] and "age_band='65+'" in fail["reason"]
        assert "output/males.csv" in fail["reason"]


def test_an_identical_table_released_again_passes(tmp_path):
    with receiver() as server:
        backend, airlock = _backend(tmp_path, server.url)
        _put(backend, "output/all.csv", ALL)
        _put(backend, "output/all_again.csv", ALL)
        _released(airlock, ["output/all.csv"])
        again = _request(airlock, ["output/all_again.csv"])  # no justification needed
        (finding,) = _differencing(airlock, again, "output/all_again.csv")
        assert finding["status"] == "pass" and "1 earlier release" in finding["reason"]
        _approve(airlock, again, ["output/all_again.csv"])
        assert airlock.release("carl", again) is Status.RELEASED


def test_two_files_of_one_request_are_checked_against_each_other(tmp_path):
    with receiver() as server:
        backend, airlock = _backend(tmp_path, server.url)
        _put(backend, "output/all.csv", ALL)
        _put(backend, "output/rerun.csv", RERUN)
        request_id = airlock.add_files(
            "rita",
            "study",
            ["output/all.csv", "output/rerun.csv"],
            group="g",
            context="c",
            controls="k",
        )
        with pytest.raises(PolicyRefused, match="justification"):
            airlock.submit("rita", request_id)
        airlock.justify("rita", request_id, "output/all.csv", "x")
        airlock.justify("rita", request_id, "output/rerun.csv", "x")
        airlock.submit("rita", request_id)
        for path in ("output/all.csv", "output/rerun.csv"):
            assert [f["status"] for f in _differencing(airlock, request_id, path)] == ["fail"]


def test_released_tables_are_recorded_in_the_ledger_and_audited(tmp_path):
    with receiver() as server:
        backend, airlock = _backend(tmp_path, server.url)
        _put(backend, "output/all.csv", ALL)
        request_id = _released(airlock, ["output/all.csv", "output/notes.txt"])
    (entry,) = ReleaseLedger(backend / "airlock", create=False).entries()  # notes: no counts
    assert entry.table.file == f"study/output/all.csv (request {request_id})"
    assert entry.table.backend == "test-backend" and entry.request == request_id
    assert entry.released_by == "carl"
    assert entry.table.cells[(("65+",), "n")] == 40
    (audited,) = events(airlock, "ledger recorded")
    details = json.loads(audited["details"])
    assert details["ledger_seq"] == entry.seq and details["ledger_hash"] == entry.hash


def test_two_requests_approved_together_the_second_is_stopped_before_upload(tmp_path):
    """Each request was checked against an empty ledger; the first to leave must stop the
    second, which nobody has seen next to it: nothing is sent and it goes back to its author."""
    with receiver() as server:
        backend, airlock = _backend(tmp_path, server.url)
        _put(backend, "output/all.csv", ALL)
        _put(backend, "output/rerun.csv", RERUN)
        first = _request(airlock, ["output/all.csv"])
        second = _request(airlock, ["output/rerun.csv"])
        _approve(airlock, first, ["output/all.csv"])
        _approve(airlock, second, ["output/rerun.csv"])
        assert airlock.release("carl", first) is Status.RELEASED
        with pytest.raises(PolicyRefused, match="returned to its author") as refused:
            airlock.release("carl", second)
        assert "output/all.csv" in str(refused.value) and "gives 5" in str(refused.value)
        assert [k[2] for k in server.stored] == ["output/all.csv"]
    view = airlock.view_request("rita", second)
    assert view.status is Status.RETURNED
    assert [f["status"] for f in _differencing(airlock, second, "output/rerun.csv")] == [
        "pass",
        "fail",
    ]
    assert "differencing" in last_refusal(airlock)["details"]
    # The approvals were for a file without this finding: a resubmission needs them again.
    assert view.files[0].check_status == "fail"
    with pytest.raises(PolicyRefused, match="justification"):
        airlock.submit("rita", second)


def test_approval_is_refused_when_a_release_since_submission_differences(tmp_path):
    with receiver() as server:
        backend, airlock = _backend(tmp_path, server.url)
        _put(backend, "output/all.csv", ALL)
        _put(backend, "output/rerun.csv", RERUN)
        waiting = _request(airlock, ["output/rerun.csv"])
        _released(airlock, ["output/all.csv"])
        for checker in ("carl", "cora"):
            airlock.vote(checker, waiting, "output/rerun.csv", "approve")
        with pytest.raises(PolicyRefused, match="Return the request") as refused:
            airlock.approve("carl", waiting)
        assert "study/output/all.csv" in str(refused.value)
        assert airlock.view_request("carl", waiting).status is Status.REVIEWED
        airlock.return_request("carl", waiting)


def test_automatic_release_stops_for_a_safe_by_construction_table_that_differences(tmp_path):
    """Both tables are made by the safe helpers (rounded, suppressed, with sidecars): each is
    safe alone, so automatic release would send both; the ledger keeps the second for people."""
    with receiver() as server:
        backend, airlock = _backend(tmp_path, server.url, extra="auto_release = true")
        study = backend / "workspaces" / "study"
        for name, values, filters in (
            ("all", ["65+"] * 40 + ["0-64"] * 100, None),
            ("males", ["65+"] * 35 + ["0-64"] * 50, {"sex": ["M"]}),
        ):
            path = study / "output" / f"{name}.csv"
            safe_counts(values, path, name="age_band", filters=filters)
            write_output(study, f"output/{name}.csv", path.read_bytes(), "moderately_sensitive")
            declare(study, f"output/{name}.csv.disclosure.json")
        first = _request(airlock, ["output/all.csv"])
        assert airlock.view_request("rita", first).status is Status.APPROVED
        assert airlock.release("airlock", first) is Status.RELEASED
        second = _request(airlock, ["output/males.csv"], justification="subgroup")
        assert airlock.view_request("rita", second).status is Status.SUBMITTED
        (fail,) = _differencing(airlock, second, "output/males.csv")
        assert "gives 5" in fail["reason"]


def test_without_rounding_two_releases_that_difference_out_one_person_are_caught(tmp_path):
    """A backend that publishes unrounded counts: the re-run without one patient passes alone
    (39 is above the threshold) and the pair names that one person's age band."""
    with receiver() as server:
        backend, airlock = _backend(tmp_path, server.url, extra='[disclosure]\nrounding = "none"')
        _put(backend, "output/all.csv", ALL)
        _put(backend, "output/minus_one.csv", "age_band,n\n0-64,100\n65+,39\n")
        _released(airlock, ["output/all.csv"])
        second = _request(airlock, ["output/minus_one.csv"], justification="re-run")
        (fail,) = _differencing(airlock, second, "output/minus_one.csv")
        assert "gives 1" in fail["reason"] and "age_band='65+'" in fail["reason"]
        (file,) = airlock.view_request("carl", second).files
        assert [f["rule"] for f in file.findings if f["status"] == "fail"] == [fail["rule"]]
