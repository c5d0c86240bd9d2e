"""Each attack on the airlock's rules is refused, changes nothing, and is logged."""

from __future__ import annotations

import os

import pytest

from airlock.backend_fixture import SAFE_CSV, write_output
from airlock.flows import FILES, events, last_refusal, reviewed, submitted
from fedsafe.airlock.errors import AirlockError, PermissionDenied, PolicyRefused
from fedsafe.airlock.states import Status


def test_author_cannot_approve_their_own_request(airlock):
    request_id = airlock.add_files("chad", "study", FILES, group="g", context="c", controls="k")
    airlock.submit("chad", request_id)
    with pytest.raises(PermissionDenied, match="author"):
        airlock.vote("chad", request_id, "output/table.csv", "approve")
    assert last_refusal(airlock)["actor"] == "chad"
    assert airlock.view_request("carl", request_id).status is Status.SUBMITTED


def test_one_reviewer_cannot_approve_alone(airlock):
    request_id = submitted(airlock)
    airlock.vote("carl", request_id, "output/table.csv", "approve")
    with pytest.raises(PolicyRefused, match="partially reviewed"):
        airlock.approve("carl", request_id)
    assert last_refusal(airlock)["request_id"] == request_id
    assert airlock.view_request("carl", request_id).status is Status.PARTIALLY_REVIEWED


def test_one_approval_and_one_request_for_changes_cannot_approve(airlock):
    request_id = submitted(airlock)
    airlock.vote("carl", request_id, "output/table.csv", "approve")
    airlock.vote("cora", request_id, "output/table.csv", "request changes")
    with pytest.raises(PolicyRefused, match="1 approval"):
        airlock.approve("carl", request_id)
    assert "approve" in last_refusal(airlock)["details"]


def test_a_researcher_cannot_vote(airlock):
    request_id = submitted(airlock)
    with pytest.raises(PermissionDenied, match="not an output checker"):
        airlock.vote("rita", request_id, "output/table.csv", "approve")
    assert last_refusal(airlock)["actor"] == "rita"


def test_highly_sensitive_files_are_never_shown_or_requested(airlock):
    with pytest.raises(PolicyRefused, match="highly_sensitive"):
        airlock.open_file("rita", "study", "output/dataset.csv")
    with pytest.raises(PolicyRefused, match="highly_sensitive"):
        airlock.add_files("rita", "study", ["output/dataset.csv"], group="g")
    assert last_refusal(airlock)["path"] == "output/dataset.csv"
    assert airlock.requests_for("rita") == []


def test_a_file_not_in_the_manifest_is_refused(airlock, backend):
    (backend / "workspaces/study/output/sneaky.csv").write_text(SAFE_CSV)
    with pytest.raises(PolicyRefused, match="not an output in the manifest"):
        airlock.open_file("rita", "study", "output/sneaky.csv")


@pytest.mark.parametrize(
    "path",
    [
        "../other/output/secret.csv",
        "output/../../other/output/secret.csv",
        "/etc/passwd",
        "output/./table.csv",
        "output\\table.csv",
    ],
)
def test_path_tricks_are_refused(airlock, path):
    with pytest.raises(PolicyRefused, match=r"^path:"):
        airlock.open_file("rita", "study", path)
    assert last_refusal(airlock)["path"] == path


def test_a_symlink_out_of_the_store_is_refused_even_if_the_manifest_lists_it(airlock, backend):
    study = backend / "workspaces/study"
    target = backend / "workspaces/other/output/secret.csv"
    os.symlink(target, study / "output/link.csv")
    write_output(study, "output/real.csv", SAFE_CSV, "moderately_sensitive")
    manifest = (study / "metadata/manifest.json").read_text()
    (study / "metadata/manifest.json").write_text(
        manifest.replace("output/real.csv", "output/link.csv")
    )
    with pytest.raises(PolicyRefused, match="symlink"):
        airlock.open_file("rita", "study", "output/link.csv")
    os.symlink(backend / "workspaces/other/output", study / "linked")
    with pytest.raises(PolicyRefused, match="symlink"):
        airlock.open_file("rita", "study", "linked/secret.csv")
    assert "output/link.csv" not in [o.path for o in airlock.outputs("rita", "study")]


def test_a_disallowed_file_type_is_refused(airlock):
    with pytest.raises(PolicyRefused, match=r"file type \.pkl is not allowed"):
        airlock.add_files("rita", "study", ["output/model.pkl"], group="g")
    assert last_refusal(airlock)["path"] == "output/model.pkl"


def test_an_oversized_file_is_refused(airlock, backend):
    write_output(
        backend / "workspaces/study",
        "output/big.csv",
        "n\n" + "10\n" * 3000,
        "moderately_sensitive",
    )
    with pytest.raises(PolicyRefused, match="over the limit of 5000"):
        airlock.add_files("rita", "study", ["output/big.csv"], group="g")
    assert "over the limit" in last_refusal(airlock)["details"]


def test_a_checker_cannot_read_a_workspace_they_lack_access_to(airlock):
    with pytest.raises(PermissionDenied, match="no access to workspace 'study'"):
        airlock.open_file("olga", "study", "output/table.csv")
    request_id = submitted(airlock)
    with pytest.raises(PermissionDenied):
        airlock.view_request("olga", request_id)
    with pytest.raises(PermissionDenied):
        airlock.vote("olga", request_id, "output/table.csv", "approve")
    assert airlock.requests_for("olga") == []
    refusals = [r for r in events(airlock, "refused") if r["actor"] == "olga"]
    assert len(refusals) == 3


def test_a_workspace_outside_the_backend_is_refused(airlock):
    for name in ("..", "../../etc", "study/../other"):
        with pytest.raises(AirlockError, match=r"^workspace:"):
            airlock.open_file("chad", name, "output/table.csv")


def test_the_author_cannot_change_a_request_under_review(airlock):
    request_id = submitted(airlock)
    with pytest.raises(PolicyRefused, match="not the author's turn"):
        airlock.justify("rita", request_id, "output/table.csv", "because")
    with pytest.raises(PolicyRefused):
        airlock.withdraw("rita", request_id)


def test_approval_requires_every_file_approved_twice(airlock):
    request_id = submitted(airlock, ["output/table.csv", "output/notes.txt"])
    for checker in ("carl", "cora"):
        airlock.vote(checker, request_id, "output/table.csv", "approve")
    assert airlock.view_request("carl", request_id).status is Status.SUBMITTED
    airlock.vote("carl", request_id, "output/notes.txt", "approve")
    airlock.vote("cora", request_id, "output/notes.txt", "request changes")
    with pytest.raises(PolicyRefused, match=r"notes\.txt has 1 approval"):
        airlock.approve("cora", request_id)


def test_views_and_downloads_are_logged(airlock):
    airlock.open_file("rita", "study", "output/table.csv")
    airlock.open_file("carl", "study", "output/table.csv", download=True)
    assert [
        (e["actor"], e["event"]) for e in events(airlock) if e["event"] in ("view", "download")
    ] == [
        ("rita", "view"),
        ("carl", "download"),
    ]


def test_releasing_an_unapproved_request_is_refused(airlock):
    request_id = reviewed(airlock)
    with pytest.raises(PolicyRefused):
        airlock.release("carl", request_id)
