"""Keeping a job's lease alive for as long as the agent works on it, from a thread.

Heartbeats go on through every step (checking out the code, running the action, committing
outputs), not only while the action runs, so a slow clone or a large commit never lets the
lease lapse. Each answer says whether a person asked for the job to stop; a refused heartbeat
means the lease is gone. Either sets :attr:`Heartbeat.stop_asked`, which the job's runner
watches. A coordinator that does not answer is tried again at the next beat.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from types import TracebackType

from fedsafe.agent.client import AgentClient, ApiRefused, CoordinatorUnreachable

__all__ = ["Heartbeat"]


class Heartbeat:
    def __init__(
        self,
        client: AgentClient,
        job_id: int,
        lease_id: str,
        every: float,
        log: Callable[[str], None],
    ) -> None:
        self._client = AgentClient(client.base_url, client.token, give_up_after=every)
        self._job_id = job_id
        self._lease_id = lease_id
        self._every = every
        self._log = log
        self._done = threading.Event()
        self.stop_asked = threading.Event()
        self.lease_lost = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"heartbeat-{job_id}", daemon=True)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._done.set()
        self._thread.join()
        self._client.close()

    def _beat(self) -> None:
        while not self._done.wait(self._every):
            try:
                answer = self._client.heartbeat(self._job_id, self._lease_id)
            except CoordinatorUnreachable:
                continue
            except ApiRefused as exc:
                if not self._done.is_set():
                    self._log(f"job {self._job_id}: heartbeat refused ({exc.status})")
                    self.lease_lost.set()
                    self.stop_asked.set()
                return
            if answer.cancel_requested:
                self.stop_asked.set()
