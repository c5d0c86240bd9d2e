"""One leased job, from "leased" to its final report, resumable after a crash at any point.

The steps, each recorded in the agent's state before it is taken (see :mod:`.state`):
report running; check out the workspace at the job's commit into a fresh working copy; copy in
the stored outputs of the actions it needs; run the action in a child process, heartbeating
and watching for cancellation; stage its outputs and record their hashes; commit them to the
stores; report the final state with only safe facts.

After ``kill -9`` the job is picked up from its phase: an action that was running left nothing
in the stores (only its private folders, which are thrown away, and any process still running
there is killed), so it runs again from a fresh working copy; outputs that were staged are
committed, never made again; a decided outcome is only reported.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from fedsafe.agent.client import AgentClient, ApiRefused
from fedsafe.agent.heartbeat import Heartbeat
from fedsafe.agent.safe import safe_summary
from fedsafe.agent.state import AgentState, JobRecord
from fedsafe.agent.stores import StoreError, Stores, check_workspace_name
from fedsafe.agent.workspace import check_out
from fedsafe.agent_protocol.messages import JobOut, StateReport
from fedsafe.agent_protocol.states import JobState
from fedsafe.backends.config import _ENV_REFERENCE, BackendConfig
from fedsafe.errors import FedsafeError
from fedsafe.pipeline.manifest import Manifest

__all__ = ["JobRunner", "kill_processes_in"]

TEST_PAUSE = "FEDSAFE_AGENT_TEST_PAUSE"  # tests only: stop for ever at this named point
# Variables an action's child process must never inherit from the agent.
_AGENT_SECRETS = ("FEDSAFE_AGENT_TOKEN",)


def pause_point(name: str) -> None:
    """Tests kill the agent at named points: ``FEDSAFE_AGENT_TEST_PAUSE=NAME`` stops here."""
    if os.environ.get(TEST_PAUSE) == name:
        print(f"agent: paused at {name}", file=sys.stderr, flush=True)
        while True:
            time.sleep(60)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def kill_processes_in(folder: Path) -> int:
    """SIGKILL every process whose working directory is inside ``folder``: what an action
    started before the agent died keeps running otherwise, as an orphan."""
    folder = folder.resolve()
    killed = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cwd = Path(os.readlink(entry / "cwd"))
        except OSError:
            continue
        if cwd == folder or cwd.is_relative_to(folder):
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(entry.name), signal.SIGKILL)
                killed += 1
    return killed


def _die_with_parent() -> None:
    """In the child, before exec: be killed if the agent dies (Linux prctl PR_SET_PDEATHSIG)."""
    import ctypes

    with contextlib.suppress(OSError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)
    os.setsid()


@dataclass
class JobRunner:
    config: BackendConfig
    client: AgentClient
    state: AgentState
    heartbeat_seconds: float = 10.0
    log: Callable[[str], None] = lambda line: print(line, file=sys.stderr, flush=True)

    @property
    def stores(self) -> Stores:
        return Stores(self.config.agent.high_store, self.config.agent.medium_store)

    def job_dir(self, job_id: int) -> Path:
        return self.config.agent.work_dir / f"job-{job_id}"

    # --- the whole job ------------------------------------------------------------------------

    def process(self, job: JobOut) -> None:
        """Take ``job`` (as the coordinator now has it, with our lease) to its final report."""
        assert job.lease_id is not None
        record = self.state.begin(job.id, job.lease_id, job.workspace, job.action)
        if self.job_dir(job.id).exists():
            # An attempt cut short by a crash may have left its action running: stop it first,
            # whatever happens to the job next.
            kill_processes_in(self.job_dir(job.id))
        with Heartbeat(self.client, job.id, job.lease_id, self.heartbeat_seconds, self.log) as beat:
            pause_point("after_lease")
            if record.phase in ("leased", "running"):
                if job.state is JobState.CANCELLING:
                    record = self._decide(job.id, "cancelled", None, None, None)
                else:
                    record = self._run(job, record, beat)
            if record.phase == "staged":
                try:
                    self.stores.commit(
                        job.id, job.workspace, job.action, record.outputs, pause=pause_point
                    )
                except StoreError as exc:  # a staged file vanished: say so, never pretend
                    facts = safe_summary(exc, self.job_dir(job.id))
                    record = self._decide(job.id, "failed", 0, **facts)
                else:
                    pause_point("after_stored")
                    record = self._decide(job.id, "succeeded", 0, None, None)
        if record.phase == "done":
            self._report_final(job, record)
        shutil.rmtree(self.job_dir(job.id), ignore_errors=True)

    def _run(self, job: JobOut, record: JobRecord, beat: Heartbeat) -> JobRecord:
        if job.state is JobState.LEASED:
            self._report(job, StateReport(lease_id=job.lease_id, state=JobState.RUNNING))
        record = self.state.start_attempt(job.id, _now())
        self.log(f"job {job.id}: running action {job.action!r} (attempt {record.attempt})")
        pause_point("after_running")
        folder = self.job_dir(job.id)
        shutil.rmtree(folder, ignore_errors=True)
        self.stores.discard_staging(job.id)
        attempt = folder / f"attempt-{record.attempt}"
        copy = attempt / "repo"
        try:
            check_workspace_name(job.workspace)
            check_out(job.repo_url, job.branch, job.commit, copy)
            from fedsafe.pipeline.model import load_project

            project = load_project(copy)
            action = project.action(job.action)
            missing = self.stores.copy_needs(job.workspace, action.needs, copy)
            if missing:
                from fedsafe.pipeline.runner import NeedsNotRun

                raise NeedsNotRun(job.action, missing[0])
        except Exception as exc:
            facts = safe_summary(exc, copy)
            self.log(f"job {job.id}: refused before running ({facts['error_class']})")
            return self._decide(job.id, "failed", None, facts["error_class"], facts["message"])
        result = self._run_child(job, attempt, copy, beat)
        self.stores.keep_log(job.id, record.attempt, copy / "metadata" / f"{job.action}.log")
        if result is None:
            return self._decide(job.id, "cancelled", None, None, None)
        if result["status"] != "succeeded":
            return self._decide(
                job.id,
                "failed",
                result.get("exit_code"),
                result.get("error_class"),
                result.get("message"),
            )
        try:
            outputs = Manifest.load(copy).outputs_of(job.action)
            facts = self.stores.stage(job.id, copy, outputs)
        except (OSError, FedsafeError) as exc:  # e.g. a full disk: the job fails, cleanly
            self.stores.discard_staging(job.id)
            summary = safe_summary(exc, copy)
            return self._decide(job.id, "failed", 0, **summary)
        record = self.state.update(job.id, phase="staged", outputs=facts, exit_code=0)
        self.log(f"job {job.id}: action succeeded; {len(facts)} outputs staged")
        pause_point("after_staged")
        return record

    def _run_child(self, job: JobOut, attempt: Path, copy: Path, beat: Heartbeat) -> dict | None:
        """Run the action in a child process; None if it was cancelled."""
        tmp = attempt / "tmp"
        tmp.mkdir(parents=True, exist_ok=True)
        spec = {
            "workspace": str(copy),
            "action": job.action,
            "result": str(attempt / "result.json"),
            "backend_config": str(self.config.path.resolve()) if self.config.path else None,
            "env_names": _ENV_REFERENCE.findall(self.config.engine.url),
        }
        (attempt / "spec.json").write_text(json.dumps(spec), encoding="utf-8")
        env = {k: v for k, v in os.environ.items() if k not in _AGENT_SECRETS}
        env["TMPDIR"] = str(tmp)  # the executor's scratch folders go here, in the job's folder
        with open(attempt / "child.log", "w", encoding="utf-8") as out:
            child = subprocess.Popen(
                [sys.executable, "-m", "fedsafe.agent.child", str(attempt / "spec.json")],
                cwd=attempt,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                preexec_fn=_die_with_parent,
            )
            while child.poll() is None and not beat.stop_asked.is_set():
                with contextlib.suppress(subprocess.TimeoutExpired):
                    child.wait(timeout=0.2)
            if child.poll() is None:
                self.log(f"job {job.id}: cancelled; stopping the action")
                _kill_group(child)
                kill_processes_in(attempt)
                return None
        try:
            return json.loads((attempt / "result.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {
                "status": "failed",
                "exit_code": child.returncode,
                "error_class": "AgentError",
                "message": "the action's process ended without a result; its log stays in "
                "the backend",
            }

    # --- decisions and reports ----------------------------------------------------------------

    def _decide(
        self,
        job_id: int,
        final: str,
        exit_code: int | None,
        error_class: str | None,
        message: str | None,
    ) -> JobRecord:
        return self.state.update(
            job_id,
            phase="done",
            final_state=final,
            finished_at=_now(),
            exit_code=exit_code,
            error_class=error_class,
            message=message,
        )

    def _report(self, job: JobOut, report: StateReport) -> JobOut | None:
        try:
            return self.client.report(job.id, report)
        except ApiRefused as exc:
            self.log(f"job {job.id}: report of {report.state.value} refused ({exc.status})")
            return None

    def _report_final(self, job: JobOut, record: JobRecord) -> None:
        current = self.client.job(job.id)
        final = JobState(record.final_state or "failed")
        if current.state in (JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED):
            self.state.update(job.id, phase="reported")
            return
        if current.lease_id != job.lease_id:
            # The lease ran out while we were down: the outcome stays decided here and is
            # reported when the coordinator offers the job again (never run a second time).
            self.log(f"job {job.id}: lease no longer held; will report when leased again")
            return
        if current.state is JobState.LEASED and final is not JobState.FAILED:
            self._report(job, StateReport(lease_id=job.lease_id, state=JobState.RUNNING))
        if final is JobState.CANCELLED and current.state is not JobState.CANCELLING:
            final = JobState.FAILED  # the lease was lost mid-run: say it failed, not why
            record = self.state.update(
                job.id,
                error_class="AgentError",
                message="the agent stopped the action because its lease was lost",
            )
        report = StateReport(
            lease_id=job.lease_id,
            state=final,
            started_at=_parse(record.started_at),
            finished_at=_parse(record.finished_at),
            exit_code=record.exit_code,
            error_class=record.error_class,
            message=record.message,
        )
        self._report(job, report)
        self.state.update(job.id, phase="reported")
        self.log(f"job {job.id}: reported {final.value}")


def _parse(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _kill_group(child: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(child.pid, signal.SIGKILL)
    child.wait()
