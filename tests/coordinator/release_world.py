"""Shared pieces of the release and combine tests: a study repository with a combine action,
a workspace whose job request ran on some backends, and an airlock-like client that uploads
over the release contract (through Django's test client, or real HTTP in the live tests)."""

from __future__ import annotations

import hashlib
import subprocess
from dataclasses import dataclass
from pathlib import Path

from django.test import Client

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

PROJECT = """\
version: '1'
actions:
  model:
    run: python:v1 analysis/model.py
    outputs:
      moderately_sensitive:
        estimates: output/model.csv
  notes:
    run: python:v1 analysis/notes.py
    outputs:
      moderately_sensitive:
        notes: output/notes.txt
  combine:
    run: fedsafe:v1 combine released --output output/combined
    needs_released: [model]
    outputs:
      moderately_sensitive:
        tables: output/combined/**/*.csv
        records: output/combined/**/*.json
        svg: output/combined/**/*.svg
        png: output/combined/**/*.png
"""

NO_COMBINE = """\
version: '1'
actions:
  model:
    run: python:v1 analysis/model.py
    outputs:
      moderately_sensitive:
        estimates: output/model.csv
"""


def estimates(*rows: tuple[str, float, float]) -> bytes:
    return (
        "term,estimate,std_error\n" + "".join(f"{t},{e!r},{s!r}\n" for t, e, s in rows)
    ).encode()


def study_repo(folder: Path, project: str = PROJECT) -> tuple[str, str]:
    """A bare git repository holding ``project.yaml``; returns its file:// URL and commit."""
    work, bare = folder / "work", folder / "study.git"
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.org"]
    subprocess.run([*git, "-c", "init.defaultBranch=main", "init", "-q", str(work)], check=True)
    (work / "project.yaml").write_text(project)
    subprocess.run([*git, "-C", str(work), "add", "."], check=True)
    subprocess.run([*git, "-C", str(work), "commit", "-qm", "study"], check=True)
    subprocess.run([*git, "clone", "-q", "--bare", str(work), str(bare)], check=True)
    head = subprocess.run(
        ["git", "-C", str(bare), "rev-parse", "main"], capture_output=True, text=True, check=True
    ).stdout.strip()
    return f"file://{bare}", head


def make_workspace(user, name: str, repo_url: str):
    return create_workspace(user, create_project(user, f"p-{name}"), name, repo_url, "main")


def run_request(user, workspace, backends: list[str], commit: str, state="succeeded"):
    """A job request of ``workspace`` on ``backends`` whose jobs all reached ``state``."""
    spec = RequestSpec(actions="model", backends=backends, reason="testing", commit=commit)
    request = create_job_request(user, workspace, spec)
    Job.objects.filter(job_request=request).update(state=state)
    return JobRequest.objects.get(pk=request.pk)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


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
