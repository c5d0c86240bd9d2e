"""The agent's side of the agent API: outward HTTP calls only, retried until they get through.

A coordinator that is restarting, or a network that drops, must not lose a report: every call
is retried with a growing pause on connection errors and 5xx answers, for as long as
``give_up_after`` allows (by default, for ever). A 4xx answer is final and raised as
:class:`ApiRefused` with its status, so the caller can tell "not mine" (404) from "lease lost"
(409).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from fedsafe.agent_protocol.cohort import (
    CohortAnswerIn,
    CohortAnswerOut,
    CohortLeaseIn,
    CohortQueryOut,
    CohortRefusalIn,
)
from fedsafe.agent_protocol.messages import (
    BackendInfo,
    HeartbeatIn,
    HeartbeatOut,
    JobOut,
    LeaseIn,
    ProvidesIn,
    StateReport,
)
from fedsafe.errors import FedsafeError

__all__ = ["AgentClient", "ApiRefused", "CoordinatorUnreachable"]

API = "/api/agent/v1"


class ApiRefused(FedsafeError):
    """The coordinator refused a call (a 4xx answer); retrying would not help."""

    def __init__(self, status: int, what: str, detail: str) -> None:
        super().__init__(f"the coordinator refused {what} ({status}): {detail}")
        self.status = status


class CoordinatorUnreachable(FedsafeError):
    """The coordinator did not answer within the time the caller allowed."""


@dataclass
class AgentClient:
    base_url: str
    token: str
    give_up_after: float | None = None  # seconds; None: keep trying
    sleep: Callable[[float], None] = time.sleep
    _http: httpx.Client | None = field(default=None, repr=False)

    def _client(self) -> httpx.Client:
        if self._http is None:
            self._http = httpx.Client(
                base_url=self.base_url.rstrip("/") + API,
                headers={"Authorization": f"Bearer {self.token}"},
                timeout=30,
                follow_redirects=False,
            )
        return self._http

    def close(self) -> None:
        if self._http is not None:
            self._http.close()
            self._http = None

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        started = time.monotonic()
        pause = 0.2
        what = f"{method} {path}"
        while True:
            try:
                response = self._client().request(method, path, json=body)
                if response.status_code < 500:
                    break
            except httpx.TransportError:
                self.close()  # a fresh connection next time
            if self.give_up_after is not None and time.monotonic() - started > self.give_up_after:
                raise CoordinatorUnreachable(
                    f"the coordinator at {self.base_url} did not answer {what}"
                )
            self.sleep(pause)
            pause = min(pause * 2, 5.0)
        if response.status_code >= 400:
            try:
                detail = str(response.json().get("detail", ""))[:300]
            except ValueError:
                detail = ""
            raise ApiRefused(response.status_code, what, detail)
        return response.json()

    def whoami(self) -> BackendInfo:
        return BackendInfo.model_validate(self._call("GET", "/backend"))

    def put_provides(self, tables: list[str]) -> BackendInfo:
        body = ProvidesIn(tables=tables).model_dump()
        return BackendInfo.model_validate(self._call("PUT", "/backend/provides", body))

    def lease(self, max_jobs: int = 1) -> list[JobOut]:
        body = LeaseIn(max_jobs=max_jobs).model_dump()
        return [JobOut.model_validate(j) for j in self._call("POST", "/jobs/lease", body)]

    def jobs(self) -> list[JobOut]:
        return [JobOut.model_validate(j) for j in self._call("GET", "/jobs")]

    def job(self, job_id: int) -> JobOut:
        return JobOut.model_validate(self._call("GET", f"/jobs/{job_id}"))

    def heartbeat(self, job_id: int, lease_id: str) -> HeartbeatOut:
        body = HeartbeatIn(lease_id=lease_id).model_dump()
        return HeartbeatOut.model_validate(self._call("POST", f"/jobs/{job_id}/heartbeat", body))

    def report(self, job_id: int, report: StateReport) -> JobOut:
        body = report.model_dump(mode="json", exclude_none=True)
        return JobOut.model_validate(self._call("POST", f"/jobs/{job_id}/state", body))

    # Cohort discovery (fedsafe.agent_protocol.cohort): queries in, safe answers out.

    def lease_cohort(self, max_queries: int = 10) -> list[CohortQueryOut]:
        body = CohortLeaseIn(max_queries=max_queries).model_dump()
        return [CohortQueryOut.model_validate(q) for q in self._call("POST", "/cohort/lease", body)]

    def answer_cohort(
        self, query_id: int, answer: CohortAnswerIn | CohortRefusalIn
    ) -> CohortAnswerOut:
        body = answer.model_dump(mode="json")
        return CohortAnswerOut.model_validate(
            self._call("POST", f"/cohort/{query_id}/answer", body)
        )
