"""A live coordinator ready to receive releases: backends with tokens, a workspace whose code
is a real git repository, and a job request whose jobs succeeded on those backends. Used by the
airlock's tests, which release to it over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from airlock.backend_fixture import make_backend, write_output
from airlock.flows import reviewed
from coordinator.live import LiveCoordinator, in_coordinator, query
from coordinator.study_repo import NO_COMBINE, study_repo
from fedsafe.airlock.config import load_config
from fedsafe.airlock.service import Airlock
from fedsafe.airlock.states import Status
from fedsafe.airlock.upload import Uploader


@dataclass(frozen=True)
class ReleaseWorld:
    server: LiveCoordinator
    tokens: dict[str, str]
    job_request_id: int
    data_dir: Path

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def database(self) -> str:
        return self.server.database

    def released(self) -> list[tuple]:
        """(backend, request id, workspace, path, sha256) of every stored file."""
        return query(
            self.database,
            "SELECT b.name, f.request_id, w.name, f.path, f.sha256"
            " FROM coordinator_releasedfile f"
            " JOIN coordinator_backend b ON b.id = f.backend_id"
            " JOIN coordinator_workspace w ON w.id = f.workspace_id ORDER BY f.path",
        )

    def completed(self) -> list[tuple]:
        return query(
            self.database,
            "SELECT request_id, job_request_id FROM coordinator_release"
            " WHERE completed_at IS NOT NULL ORDER BY id",
        )

    def blob(self, sha256: str) -> bytes:
        return (self.data_dir / "blobs" / sha256[:2] / sha256).read_bytes()


@contextmanager
def release_coordinator(
    folder: Path,
    backends: tuple[str, ...] = ("test-backend",),
    workspace: str = "study",
    project: str = NO_COMBINE,
    users: tuple[tuple[str, str], ...] = (("rita", "x" * 12),),
) -> Iterator[ReleaseWorld]:
    folder.mkdir(parents=True, exist_ok=True)
    repo_url, commit = study_repo(folder / "repo", project)
    database = f"sqlite:///{folder / 'coordinator.sqlite3'}"
    tokens, job_request_id = in_coordinator(
        database,
        f"""
from fedsafe.coordinator.setup_records import add_backend
names = {list(backends)!r}
tokens = {{name: add_backend(name, "patients").token for name in names}}
users = [User.objects.create_user(n, password=p) for n, p in {list(users)!r}]
ws = create_workspace(users[0], create_project(users[0], "p"), {workspace!r}, {repo_url!r}, "main")
spec = RequestSpec(actions=["model"], backends=names, reason="testing", commit={commit!r})
job_request = create_job_request(users[0], ws, spec)
Job.objects.filter(job_request=job_request).update(state="succeeded")
result = [tokens, job_request.pk]
""",
    )
    server = LiveCoordinator(database).start()
    try:
        yield ReleaseWorld(server, tokens, job_request_id, folder / "coordinator-data")
    finally:
        server.stop()


def airlock_for(folder: Path, url: str, token: str) -> Airlock:
    """A backend folder (from the airlock's test fixture) whose airlock releases to ``url``."""
    backend = make_backend(folder, coordinator=url, token=token)
    config = load_config(backend)
    return Airlock(config, Uploader(url, config.coordinator_token, first_pause=0))


def release(airlock: Airlock, data: bytes) -> None:
    """Write ``output/model.csv``, have it reviewed by two checkers, approved and released."""
    study = airlock.config.workspaces_dir / "study"
    write_output(study, "output/model.csv", data, "moderately_sensitive")
    request_id = reviewed(airlock, ["output/model.csv"])
    airlock.approve("carl", request_id)
    assert airlock.release("carl", request_id) is Status.RELEASED
