"""The review flow through the service: submit, automated checks, blinded votes, approval."""

from __future__ import annotations

import pytest

from airlock.flows import FILES, events, reviewed, submitted
from fedsafe.airlock.config import load_config
from fedsafe.airlock.errors import AirlockError, PolicyRefused
from fedsafe.airlock.service import Airlock
from fedsafe.airlock.states import Status


def test_researcher_sees_moderately_sensitive_outputs_only(airlock):
    paths = [o.path for o in airlock.outputs("rita", "study")]
    assert "output/table.csv" in paths and "output/measure.csv" in paths
    assert "output/dataset.csv" not in paths  # highly_sensitive
    assert "output/model.pkl" not in paths  # disallowed type


def test_submit_runs_the_automated_checks_and_annotates_each_file(airlock):
    request_id = submitted(airlock)
    view = airlock.view_request("rita", request_id)
    (file,) = view.files
    assert view.status is Status.SUBMITTED
    assert file.check_status == "pass"
    assert file.findings and all("reason" in f for f in file.findings)
    assert events(airlock, "automated check")[-1]["path"] == "output/table.csv"


def test_a_failing_file_needs_a_written_justification(airlock):
    request_id = airlock.add_files(
        "rita", "study", ["output/small.csv"], group="g", context="c", controls="k"
    )
    with pytest.raises(PolicyRefused, match="justification"):
        airlock.submit("rita", request_id)
    assert airlock.view_request("rita", request_id).status is Status.PENDING
    with pytest.raises(AirlockError, match="justification: required"):
        airlock.justify("rita", request_id, "output/small.csv", "   ")
    airlock.justify("rita", request_id, "output/small.csv", "3 is a count of hospitals")
    assert airlock.submit("rita", request_id) is Status.SUBMITTED
    (file,) = airlock.view_request("carl", request_id).files
    assert file.check_status == "fail"
    assert any(f["row"] == 1 and f["column"] == "count" for f in file.findings)


def test_each_group_needs_context_and_controls_before_submission(airlock):
    request_id = airlock.add_files("rita", "study", FILES, group="g")
    with pytest.raises(AirlockError, match="context"):
        airlock.submit("rita", request_id)
    airlock.set_group_text("rita", request_id, "g", "what it is", "how it is protected")
    assert airlock.submit("rita", request_id) is Status.SUBMITTED


def test_votes_are_blinded_until_two_reviews_are_in(airlock):
    request_id = submitted(airlock)
    airlock.vote("carl", request_id, "output/table.csv", "approve", "fine by me")
    seen_by_cora = airlock.view_request("cora", request_id)
    assert seen_by_cora.status is Status.PARTIALLY_REVIEWED
    assert seen_by_cora.files[0].votes == () and seen_by_cora.files[0].comments == ()
    assert seen_by_cora.files[0].approvals is None
    assert airlock.view_request("rita", request_id).files[0].votes == ()
    airlock.vote("cora", request_id, "output/table.csv", "approve")
    seen = airlock.view_request("cora", request_id)
    assert seen.status is Status.REVIEWED
    assert dict(seen.files[0].votes) == {"carl": "approve", "cora": "approve"}
    assert seen.files[0].approvals == 2


def test_two_approvals_approve_and_record_hashes(airlock):
    request_id = reviewed(airlock)
    airlock.approve("carl", request_id)
    assert airlock.view_request("rita", request_id).status is Status.APPROVED
    moves = [(e["details"]) for e in events(airlock, "state") if e["request_id"] == request_id]
    assert [m for m in moves if '"to": "approved"' in m]


def test_author_responds_and_resubmits_after_return(airlock):
    request_id = submitted(airlock)
    airlock.vote("carl", request_id, "output/table.csv", "request changes", "round to 10")
    airlock.vote("cora", request_id, "output/table.csv", "approve")
    airlock.return_request("cora", request_id)
    seen = airlock.view_request("rita", request_id)
    assert seen.status is Status.RETURNED
    assert ("carl", "round to 10") in seen.files[0].comments
    airlock.comment("rita", request_id, "output/table.csv", "rounded to 5 per policy")
    assert airlock.submit("rita", request_id) is Status.PARTIALLY_REVIEWED  # cora's stands
    airlock.vote("carl", request_id, "output/table.csv", "approve")
    airlock.approve("carl", request_id)
    assert airlock.view_request("rita", request_id).status is Status.APPROVED


def test_a_file_changed_on_disk_after_review_has_its_reviews_reset(airlock, backend):
    request_id = reviewed(airlock)
    (backend / "workspaces/study/output/table.csv").write_text("group,count\na,105\nb,250\n")
    with pytest.raises(PolicyRefused):
        airlock.approve("carl", request_id)
    assert events(airlock, "reviews reset")[-1]["path"] == "output/table.csv"
    seen = airlock.view_request("carl", request_id)
    assert seen.status is Status.SUBMITTED
    assert seen.files[0].votes == ()


def test_withdraw_is_final(airlock):
    request_id = airlock.add_files("rita", "study", FILES, group="g", context="c", controls="k")
    airlock.withdraw("rita", request_id)
    with pytest.raises(PolicyRefused, match="not the author's turn"):
        airlock.submit("rita", request_id)
    assert airlock.view_request("rita", request_id).status is Status.WITHDRAWN


def test_reject_is_final(airlock):
    request_id = reviewed(airlock)
    airlock.reject("cora", request_id)
    with pytest.raises(PolicyRefused):
        airlock.vote("carl", request_id, "output/table.csv", "approve")
    assert airlock.view_request("rita", request_id).status is Status.REJECTED


def test_bad_form_input_names_the_field_and_changes_nothing(airlock):
    before = len(events(airlock, "state"))
    for kwargs, field in [
        ({"group": ""}, "group"),
        ({"group": "g", "kind": "secret"}, "kind"),
    ]:
        with pytest.raises(AirlockError, match=f"^{field}:"):
            airlock.add_files("rita", "study", FILES, **kwargs)
    with pytest.raises(AirlockError, match=r"^files:"):
        airlock.add_files("rita", "study", [], group="g")
    with pytest.raises(AirlockError, match=r"^path:"):
        airlock.add_files("rita", "study", ["output/nope.csv"], group="g")
    request_id = submitted(airlock)
    with pytest.raises(AirlockError, match=r"^vote:"):
        airlock.vote("carl", request_id, "output/table.csv", "maybe")
    with pytest.raises(AirlockError, match=r"^request:"):
        airlock.vote("carl", "r-nothere", "output/table.csv", "approve")
    assert airlock.requests_for("rita") == [(request_id, "study", "rita", "submitted")]
    assert len(events(airlock, "state")) == before + 2  # only the good request: pending, submitted


def test_automatic_release_is_off_by_default(airlock):
    request_id = submitted(airlock, ["output/measure.csv"])
    assert airlock.view_request("rita", request_id).status is Status.SUBMITTED


def test_safe_by_construction_outputs_release_without_review_when_the_policy_allows(backend):
    config_file = backend / "airlock/config.toml"
    config_file.write_text(
        config_file.read_text().replace("[airlock]\n", "[airlock]\nauto_release = true\n", 1)
    )
    airlock = Airlock(load_config(backend))
    request_id = submitted(airlock, ["output/measure.csv"])
    seen = airlock.view_request("rita", request_id)
    assert seen.status is Status.APPROVED
    assert seen.files[0].automatic
    (move,) = [e for e in events(airlock, "state") if '"to": "approved"' in e["details"]]
    assert move["actor"] == "airlock" and '"automatic": true' in move["details"]
    # A passing table without a sidecar is not safe by construction: it waits for people.
    other = submitted(airlock, ["output/table.csv"])
    assert airlock.view_request("rita", other).status is Status.SUBMITTED
