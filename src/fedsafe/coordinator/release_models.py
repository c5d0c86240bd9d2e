"""What the coordinator keeps of releases and of the results it combines from them.

A backend's airlock uploads each approved file of a release request (``ReleasedFile``), then
says the request is complete (``Release.completed_at``). The bytes live in the content-addressed
store under the coordinator's data folder (``blobs``); these rows hold only where they came
from. When every backend a job request ran on has completed a release for it, the workspace's
combine actions run over those files (``CombineRun``), and what they wrote is kept the same way
(``CombinedFile``). A workspace may be published as a public ``Dashboard`` of its latest
combined results.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

__all__ = [
    "CombineRun",
    "CombineState",
    "CombinedFile",
    "Dashboard",
    "Release",
    "ReleasedFile",
]


class Release(models.Model):
    """One release request of one backend's airlock, as seen by the coordinator.

    ``request_id`` is the airlock's id; it is unique per backend only (two airlocks may pick
    the same id). ``job_request`` is the run whose outputs were released: given by the airlock
    when it knows it, otherwise the latest of the workspace's requests in which this backend's
    jobs succeeded when the release completed (``job_request_inferred``)."""

    backend = models.ForeignKey(
        "coordinator.Backend", on_delete=models.PROTECT, related_name="releases"
    )
    workspace = models.ForeignKey(
        "coordinator.Workspace", on_delete=models.PROTECT, related_name="releases"
    )
    request_id = models.CharField(max_length=64)
    job_request = models.ForeignKey(
        "coordinator.JobRequest",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="releases",
    )
    job_request_inferred = models.BooleanField(default=False)
    created_at = models.DateTimeField()  # when its first file arrived
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["backend", "request_id"], name="one_release_per_id")
        ]

    @property
    def complete(self) -> bool:
        return self.completed_at is not None


class ReleasedFile(models.Model):
    """One file of a release: where it came from and the hash of its bytes in the store."""

    release = models.ForeignKey(Release, on_delete=models.PROTECT, related_name="files")
    workspace = models.ForeignKey(
        "coordinator.Workspace", on_delete=models.PROTECT, related_name="released_files"
    )
    backend = models.ForeignKey(
        "coordinator.Backend", on_delete=models.PROTECT, related_name="released_files"
    )
    request_id = models.CharField(max_length=64)  # the airlock's release request id
    path = models.CharField(max_length=500)  # relative to the workspace, e.g. output/table.csv
    sha256 = models.CharField(max_length=64)
    size = models.BigIntegerField()
    released_at = models.DateTimeField()

    class Meta:
        ordering = ["path", "id"]
        constraints = [
            models.UniqueConstraint(fields=["release", "path"], name="one_file_per_release_path")
        ]

    @property
    def suffix(self) -> str:
        name = self.path.rsplit("/", 1)[-1]
        return "." + name.rsplit(".", 1)[-1].lower() if "." in name else ""


class CombineState(models.TextChoices):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"  # nothing to combine (no combine action, or no matching files)


class CombineRun(models.Model):
    """One run of one combine action of a workspace over the files its backends released.

    ``fingerprint`` is the SHA-256 of the commit, the action and every input (backend, path,
    hash): the same inputs are never combined twice, however many times the trigger fires,
    unless every earlier run of them failed and someone asks again."""

    workspace = models.ForeignKey(
        "coordinator.Workspace", on_delete=models.PROTECT, related_name="combine_runs"
    )
    job_request = models.ForeignKey(
        "coordinator.JobRequest",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="combine_runs",
    )
    action = models.CharField(max_length=100, blank=True, default="")
    commit = models.CharField(max_length=40)
    fingerprint = models.CharField(max_length=64)
    state = models.CharField(max_length=20, choices=CombineState.choices)
    error = models.TextField(blank=True, default="")
    inputs = models.JSONField(default=list)  # [{backend, path, sha256, request_id}]
    manifest = models.JSONField(default=dict)  # the combine step's manifest.json
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [
            # A failed run does not count: asking again (after fixing the repository, say) may
            # run the same inputs once more; anything else is combined once.
            models.UniqueConstraint(
                fields=["workspace", "action", "fingerprint"],
                condition=~models.Q(state="failed"),
                name="one_combine_per_input",
            )
        ]


class CombinedFile(models.Model):
    """One file a combine run wrote (relative to its output folder), kept in the store."""

    run = models.ForeignKey(CombineRun, on_delete=models.PROTECT, related_name="files")
    path = models.CharField(max_length=500)  # e.g. meta/model.csv, charts/model.forest.png
    kind = models.CharField(max_length=40, blank=True, default="")  # from the manifest
    sha256 = models.CharField(max_length=64)
    size = models.BigIntegerField()

    class Meta:
        ordering = ["path", "id"]
        constraints = [
            models.UniqueConstraint(fields=["run", "path"], name="one_combined_file_per_path")
        ]

    @property
    def suffix(self) -> str:
        name = self.path.rsplit("/", 1)[-1]
        return "." + name.rsplit(".", 1)[-1].lower() if "." in name else ""


class Dashboard(models.Model):
    """A workspace published as a public page of its latest combined results."""

    workspace = models.OneToOneField(
        "coordinator.Workspace", on_delete=models.PROTECT, related_name="dashboard"
    )
    title = models.CharField(max_length=200)
    published = models.BooleanField(default=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    published_at = models.DateTimeField()
