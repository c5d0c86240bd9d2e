"""A minimal agent, over plain HTTP, for tests: it leases, heartbeats and reports states the
way a backend's agent does, and nothing more. The real agent is built elsewhere on the same
API; this one exists so the coordinator's side can be tested through its real HTTP surface."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

API = "/api/agent/v1"


@dataclass
class AgentClient:
    base_url: str
    token: str

    def _client(self) -> httpx.Client:
        return httpx.Client(
            base_url=self.base_url + API,
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=60,
        )

    def call(self, method: str, path: str, json: Any = None, **kw: Any) -> httpx.Response:
        with self._client() as client:
            return client.request(method, path, json=json, **kw)

    def lease(self, max_jobs: int = 1) -> list[dict]:
        response = self.call("POST", "/jobs/lease", {"max_jobs": max_jobs})
        response.raise_for_status()
        return response.json()

    def jobs(self) -> list[dict]:
        response = self.call("GET", "/jobs")
        response.raise_for_status()
        return response.json()

    def heartbeat(self, job_id: int, lease_id: str) -> httpx.Response:
        return self.call("POST", f"/jobs/{job_id}/heartbeat", {"lease_id": lease_id})

    def report(self, job_id: int, lease_id: str, state: str, **facts: Any) -> httpx.Response:
        return self.call(
            "POST", f"/jobs/{job_id}/state", {"lease_id": lease_id, "state": state, **facts}
        )

    def run_to(self, job: dict, final: str = "succeeded", **facts: Any) -> None:
        """Take a leased job through running to a final state, as a well-behaved agent would."""
        for state, extra in (("running", {}), (final, facts)):
            response = self.report(job["id"], job["lease_id"], state, **extra)
            assert response.status_code == 200, response.text
