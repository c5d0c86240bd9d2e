"""A table's disclosure sidecar is reviewed, approved and released with the table: the
coordinator needs it to pool released tables, and a change to it after review counts as a
change to the table."""

from __future__ import annotations

import hashlib
import json

import pytest

from airlock.backend_fixture import make_backend
from airlock.flows import events, last_refusal, reviewed
from coordinator.live_releases import release_coordinator
from fedsafe.airlock.config import load_config
from fedsafe.airlock.errors import AirlockError, PolicyRefused
from fedsafe.airlock.service import Airlock
from fedsafe.airlock.states import Status
from fedsafe.airlock.upload import Uploader

TABLE = "output/measure.csv"  # made by safe_counts in the fixture, with its sidecar declared
SIDECAR = TABLE + ".disclosure.json"


@pytest.fixture
def world(tmp_path):
    with release_coordinator(tmp_path / "coordinator") as coordinator:
        backend = make_backend(
            tmp_path / "backend",
            coordinator=coordinator.url,
            token=coordinator.tokens["test-backend"],
        )
        config = load_config(backend)
        airlock = Airlock(config, Uploader(coordinator.url, config.coordinator_token))
        yield coordinator, backend / "workspaces" / "study", airlock


def test_the_sidecar_is_released_with_its_table(world):
    coordinator, study, airlock = world
    request_id = reviewed(airlock, [TABLE])
    airlock.approve("carl", request_id)
    assert airlock.release("carl", request_id) is Status.RELEASED
    released = {row[3]: row[4] for row in coordinator.released()}
    assert released == {
        path: hashlib.sha256((study / path).read_bytes()).hexdigest() for path in (TABLE, SIDECAR)
    }
    assert coordinator.blob(released[SIDECAR]) == (study / SIDECAR).read_bytes()
    (uploaded,) = events(airlock, "uploaded")
    assert json.loads(uploaded["details"])["sidecar"] == SIDECAR


def test_a_sidecar_changed_after_approval_stops_the_release(world):
    coordinator, study, airlock = world
    request_id = reviewed(airlock, [TABLE])
    airlock.approve("carl", request_id)
    sidecar = json.loads((study / SIDECAR).read_text())
    sidecar["columns"] = {name: "label" for name in sidecar["columns"]}  # "no counts here"
    (study / SIDECAR).write_text(json.dumps(sidecar))
    with pytest.raises(PolicyRefused, match="changed since it was approved"):
        airlock.release("carl", request_id)
    assert coordinator.released() == []


def test_a_sidecar_changed_during_review_resets_the_votes(world):
    _, study, airlock = world
    request_id = reviewed(airlock, [TABLE])
    (study / SIDECAR).write_text((study / SIDECAR).read_text().replace("count", "label"))
    view = airlock.view_request("rita", request_id)
    assert view.status is not Status.REVIEWED
    assert events(airlock, "reviews reset")


def test_a_sidecar_cannot_be_added_on_its_own(world):
    _, _, airlock = world
    with pytest.raises(AirlockError, match=r"is the disclosure sidecar of output/measure\.csv"):
        airlock.add_files("rita", "study", [SIDECAR], group="main")
    assert last_refusal(airlock)["path"] == SIDECAR
