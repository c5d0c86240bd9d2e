"""The stores' commit, cut short at every rename and repeated, always ends in the same whole
state; the agent's state survives reopening; safe summaries fit the API's shape."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from fedsafe.agent.safe import safe_summary
from fedsafe.agent.state import AgentState
from fedsafe.agent.stores import StoreError, Stores
from fedsafe.agent_protocol.messages import StateReport
from fedsafe.pipeline.manifest import OutputRecord
from fedsafe.pipeline.runner import NeedsNotRun

FILES = {
    "output/a.arrow": ("highly_sensitive", b"rows of patients"),
    "output/b.csv": ("moderately_sensitive", b"count\n10\n"),
    "output/sub/c.csv": ("moderately_sensitive", b"count\n20\n"),
}


class Crash(Exception):
    pass


def source(tmp_path: Path) -> tuple[Path, dict[str, OutputRecord]]:
    folder = tmp_path / "copy"
    records = {}
    for path, (level, data) in FILES.items():
        (folder / path).parent.mkdir(parents=True, exist_ok=True)
        (folder / path).write_bytes(data)
        records[path] = OutputRecord("act", level, len(data), hashlib.sha256(data).hexdigest())
    return folder, records


def snapshot(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and "manifest.json" not in p.name
    }


@pytest.mark.parametrize("crash_after", [0, 1, 2, 3, 4])  # 3 renames in high, 2 in medium
def test_a_commit_cut_short_after_any_rename_and_repeated_ends_whole(tmp_path, crash_after):
    folder, records = source(tmp_path)
    stores = Stores(tmp_path / "high", tmp_path / "medium")
    facts = stores.stage(7, folder, records)
    renames = 0

    def pause(point: str) -> None:
        nonlocal renames
        renames += 1
        if renames > crash_after:
            raise Crash(point)

    with pytest.raises(Crash):
        stores.commit(7, "ws", "act", facts, pause=pause)
    stores.commit(7, "ws", "act", facts)
    high = snapshot(tmp_path / "high")
    assert high == {f"workspaces/ws/{p}": d for p, (_, d) in FILES.items()}
    medium = snapshot(tmp_path / "medium")
    assert medium == {
        f"workspaces/ws/{p}": d for p, (lvl, d) in FILES.items() if lvl == "moderately_sensitive"
    }
    manifest = json.loads((tmp_path / "medium/workspaces/ws/metadata/manifest.json").read_text())
    assert set(manifest["outputs"]) == {"output/b.csv", "output/sub/c.csv"}


def test_a_lost_staged_output_is_an_error_not_a_silent_gap(tmp_path):
    folder, records = source(tmp_path)
    stores = Stores(tmp_path / "high", tmp_path / "medium")
    facts = stores.stage(8, folder, records)
    (tmp_path / "high/.staging/job-8/output/a.arrow").unlink()
    with pytest.raises(StoreError, match="must run again"):
        stores.commit(8, "ws", "act", facts)


def test_needs_are_copied_hash_checked_and_a_damaged_store_is_refused(tmp_path):
    folder, records = source(tmp_path)
    stores = Stores(tmp_path / "high", tmp_path / "medium")
    stores.commit(9, "ws", "act", stores.stage(9, folder, records))
    into = tmp_path / "next"
    assert stores.copy_needs("ws", ("act", "other"), into) == ["other"]
    assert (into / "output/a.arrow").read_bytes() == b"rows of patients"
    (tmp_path / "high/workspaces/ws/output/b.csv").write_bytes(b"count\n11\n")
    with pytest.raises(StoreError, match="damaged"):
        stores.copy_needs("ws", ("act",), tmp_path / "again")


@pytest.mark.parametrize("name", ["..", "a/b", "", "-x", "x" * 65])
def test_a_workspace_name_that_is_not_a_folder_name_is_refused(tmp_path, name):
    with pytest.raises(StoreError):
        Stores(tmp_path / "h", tmp_path / "m").folder(tmp_path / "h", name)


def test_state_survives_reopening_and_a_new_lease_reopens_a_reported_outcome(tmp_path):
    state = AgentState(tmp_path / "s.sqlite3")
    state.begin(1, "lease-a", "ws", "act")
    state.start_attempt(1, "2026-01-01T00:00:00+00:00")
    state.update(1, phase="done", final_state="succeeded", exit_code=0)
    state.update(1, phase="reported")
    again = AgentState(tmp_path / "s.sqlite3")
    assert again.get(1).attempt == 1 and again.get(1).phase == "reported"
    assert again.begin(1, "lease-a", "ws", "act").phase == "reported"
    # The coordinator offered it again (its lease had expired): report, never re-run.
    assert again.begin(1, "lease-b", "ws", "act").phase == "done"


def test_safe_summaries_carry_no_message_and_fit_the_report():
    leaky = KeyError("patient 943 476 5919 has value 8675.309")
    facts = safe_summary(leaky, Path("/nonexistent"))
    assert facts == {
        "error_class": "KeyError",
        "message": "a key (such as a column name or dictionary key) was not found",
    }
    needs = safe_summary(NeedsNotRun("analyse", "generate_dataset"), Path("/nonexistent"))
    assert needs["error_class"] == "NeedsNotRun"
    StateReport(lease_id="x", state="failed", **facts)  # accepted by the protocol's model
    StateReport(lease_id="x", state="failed", **needs)


def test_the_client_retries_with_growing_pauses_and_gives_up_only_when_told():
    import socket

    from fedsafe.agent.client import AgentClient, CoordinatorUnreachable

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again at once: nothing listens there
    pauses: list[float] = []

    def sleep(seconds: float) -> None:
        pauses.append(seconds)
        if len(pauses) == 6:
            raise Crash("enough")

    patient = AgentClient(f"http://127.0.0.1:{port}", "fsb_x", sleep=sleep)  # never gives up
    with pytest.raises(Crash):
        patient.jobs()
    assert pauses == [0.2, 0.4, 0.8, 1.6, 3.2, 5.0]
    hasty = AgentClient(f"http://127.0.0.1:{port}", "fsb_x", give_up_after=0, sleep=sleep)
    with pytest.raises(CoordinatorUnreachable, match=str(port)):
        hasty.jobs()


@pytest.mark.parametrize(
    "url",
    ["ext::sh -c touch% /tmp/fedsafe-pwned-%S", "--upload-pack=touch /tmp/fedsafe-pwned"],
)
def test_a_checkout_never_runs_commands_from_a_url(tmp_path, url):
    from fedsafe.agent.workspace import WorkspaceFetchError, check_out

    with pytest.raises(WorkspaceFetchError):
        check_out(url, "main", "a" * 40, tmp_path / "copy")
    assert not list(Path("/tmp").glob("fedsafe-pwned*"))


def test_a_short_commit_id_is_refused_before_fetching(tmp_path):
    from fedsafe.agent.workspace import WorkspaceFetchError, check_out

    with pytest.raises(WorkspaceFetchError, match="full 40-character"):
        check_out("file:///nowhere", "main", "abc123", tmp_path / "copy")


def test_the_agent_keeps_its_patient_level_folders_to_itself(tmp_path):
    from backends.databases import write_config
    from fedsafe.agent.client import AgentClient
    from fedsafe.agent.loop import Agent
    from fedsafe.backends.config import load_config

    config = load_config(
        write_config(tmp_path / "b.toml", "duckdb:///x.duckdb", "native", ["patients"])
    )
    Agent(config, AgentClient("http://127.0.0.1:9", "fsb_x"))  # makes its folders; no calls
    for folder in (config.agent.work_dir, config.agent.high_store, config.agent.state.parent):
        assert folder.stat().st_mode & 0o777 == 0o700
    assert config.agent.state.stat().st_mode & 0o777 == 0o600
