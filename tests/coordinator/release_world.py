"""Shared pieces of the release and combine tests: a study repository with a combine action,
a workspace whose job request ran on some backends, and an airlock-like client that uploads
over the release contract (through Django's test client, or real HTTP in the live tests)."""

from __future__ import annotations

from dataclasses import dataclass

from django.test import Client

from coordinator.study_repo import NO_COMBINE, PROJECT, estimates, sha, study_repo
from fedsafe.coordinator.models import Job, JobRequest
from fedsafe.coordinator.requests import RequestSpec, create_job_request
from fedsafe.coordinator.setup_records import create_project, create_workspace
from fedsafe.release_contract import (
    COMPLETE_PATH,
    HEADER_PATH,
    HEADER_REQUEST_ID,
    HEADER_SHA256,
    HEADER_WORKSPACE,
    UPLOAD_PATH,
)

__all__ = [
    "NO_COMBINE",
    "PROJECT",
    "Airlock",
    "estimates",
    "make_workspace",
    "run_request",
    "sha",
    "study_repo",
]


def make_workspace(user, name: str, repo_url: str):
    return create_workspace(user, create_project(user, f"p-{name}"), name, repo_url, "main")


def run_request(user, workspace, backends: list[str], commit: str, state="succeeded"):
    """A job request of ``workspace`` on ``backends`` whose jobs all reached ``state``."""
    spec = RequestSpec(actions="model", backends=backends, reason="testing", commit=commit)
    request = create_job_request(user, workspace, spec)
    Job.objects.filter(job_request=request).update(state=state)
    return JobRequest.objects.get(pk=request.pk)


@dataclass
class Airlock:
    """Sends what a backend's airlock sends, with its token, through Django's test client."""

    client: Client
    token: str

    def upload(
        self,
        request_id: str,
        workspace: str,
        path: str,
        data: bytes,
        digest: str | None = None,
        **headers: str,
    ):
        return self.client.post(
            UPLOAD_PATH,
            data=data,
            content_type="application/octet-stream",
            headers={
                "Authorization": f"Bearer {self.token}",
                HEADER_REQUEST_ID: request_id,
                HEADER_WORKSPACE: workspace,
                HEADER_PATH: path,
                HEADER_SHA256: digest if digest is not None else sha(data),
                **headers,
            },
        )

    def complete(self, request_id: str, workspace: str, files: dict[str, bytes], **extra):
        return self.client.post(
            COMPLETE_PATH.format(request_id=request_id),
            data={
                "workspace": workspace,
                "files": [{"path": p, "sha256": sha(d)} for p, d in files.items()],
                **extra,
            },
            content_type="application/json",
            headers={"Authorization": f"Bearer {self.token}"},
        )

    def release(self, request_id: str, workspace: str, files: dict[str, bytes]):
        """Upload every file, then complete; returns the completion's response."""
        for path, data in files.items():
            answer = self.upload(request_id, workspace, path, data)
            assert answer.status_code in (200, 201), answer.content
        return self.complete(request_id, workspace, files)
