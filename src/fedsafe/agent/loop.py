"""The agent's main loop: declare what the backend provides, pick up what a previous run left
unfinished, then lease and run jobs one at a time. Every connection is outward, to the
coordinator; the agent listens on nothing."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

from fedsafe.agent.client import AgentClient
from fedsafe.agent.cohort import CohortAnswerer
from fedsafe.agent.run_job import JobRunner, kill_processes_in
from fedsafe.agent.state import AgentState
from fedsafe.agent_protocol.states import JobState
from fedsafe.backends.config import BackendConfig

__all__ = ["Agent"]


@dataclass
class Agent:
    config: BackendConfig
    client: AgentClient
    poll_seconds: float = 10.0
    heartbeat_seconds: float = 10.0
    log: Callable[[str], None] = lambda line: print(line, file=sys.stderr, flush=True)

    def __post_init__(self) -> None:
        # Patient-level data lives in the high store and, while a job runs, in the work dir;
        # the state names jobs and outputs' hashes. Only the agent's own user may open them.
        paths = self.config.agent
        for folder in (paths.work_dir, paths.high_store, paths.state.parent):
            folder.mkdir(parents=True, exist_ok=True)
            folder.chmod(0o700)
        self.state = AgentState(paths.state)
        paths.state.chmod(0o600)
        self.runner = JobRunner(
            self.config, self.client, self.state, self.heartbeat_seconds, self.log
        )
        self.cohort = CohortAnswerer(self.config, self.client, self.log)

    def start(self) -> None:
        info = self.client.put_provides(sorted(self.config.tables))
        self.log(f"agent for backend {info.name}: provides {', '.join(info.provides)}")
        self.recover()

    def recover(self) -> None:
        """Finish what a previous run of this agent held: the coordinator's view of our
        unfinished jobs, matched against our own state."""
        held = {job.id: job for job in self.client.jobs()}
        for record in self.state.unfinished():
            job = held.get(record.job_id)
            if job is None:  # finished on the coordinator (or cancelled before it started)
                folder = self.runner.job_dir(record.job_id)
                if folder.exists():
                    kill_processes_in(folder)
                self.runner.stores.discard_staging(record.job_id)
                self.state.update(record.job_id, phase="reported")
        for job in held.values():
            # A job we hold a lease on (ours in the state, or leased just before a crash that
            # came before we could record it) is taken up again; pending ones wait their turn.
            if job.lease_id and job.state in (
                JobState.LEASED,
                JobState.RUNNING,
                JobState.CANCELLING,
            ):
                self.log(f"job {job.id}: taken up again after a restart")
                self.runner.process(job)

    def run(self, once: bool = False) -> int:
        """Lease and run jobs; with ``once``, stop when there is no more work."""
        self.start()
        done = 0
        while True:
            self.cohort.step()  # cohort queries are quick: answered between jobs
            jobs = self.client.lease(1)
            if not jobs:
                if once:
                    return done
                time.sleep(self.poll_seconds)
                continue
            for job in jobs:
                self.log(f"job {job.id}: leased (action {job.action!r})")
                self.runner.process(job)
                done += 1
