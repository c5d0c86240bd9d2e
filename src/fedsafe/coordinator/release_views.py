"""Pages for what backends released and what the coordinator combined from it.

Released files and a workspace's results need a login; a workspace's dashboard, once
published, is public and shows only combined results (the output of the combine step, which
re-applies the disclosure rules), never a single backend's files.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from fedsafe.coordinator import audit
from fedsafe.coordinator.combining import combine_if_ready
from fedsafe.coordinator.models import Workspace
from fedsafe.coordinator.previews import IMAGES, Preview, preview, raw_response
from fedsafe.coordinator.release_models import (
    CombinedFile,
    CombineRun,
    CombineState,
    Dashboard,
    Release,
    ReleasedFile,
)
from fedsafe.coordinator.releases import blob_store

__all__ = [
    "combine_again",
    "combined_raw",
    "dashboard",
    "dashboard_file",
    "publish_dashboard",
    "released_file",
    "released_raw",
    "results",
]

MAX_TITLE = 200


@dataclass(frozen=True)
class Shown:
    """A file with how to show it."""

    file: Any  # ReleasedFile or CombinedFile
    preview: Preview


def _shown(file: ReleasedFile | CombinedFile) -> Shown:
    data = None if file.suffix in IMAGES else blob_store().read(file.sha256)
    return Shown(file, preview(file.suffix, data))


def released_by_backend(workspace: Workspace) -> OrderedDict[str, list[ReleasedFile]]:
    """Every released file of the workspace, newest release first, grouped by backend."""
    files = (
        ReleasedFile.objects.filter(workspace=workspace)
        .select_related("backend", "release__job_request")
        .order_by("backend__name", "-release__created_at", "-release_id", "path")[:1000]
    )
    grouped: OrderedDict[str, list[ReleasedFile]] = OrderedDict()
    for file in files:
        grouped.setdefault(file.backend.name, []).append(file)
    return grouped


def latest_runs(workspace: Workspace, *, succeeded_only: bool) -> list[CombineRun]:
    """The newest run of each combine action (newest succeeded one, for the dashboard)."""
    runs = CombineRun.objects.filter(workspace=workspace).select_related("job_request")
    if succeeded_only:
        runs = runs.filter(state=CombineState.SUCCEEDED)
    latest: dict[str, CombineRun] = {}
    for run in runs.order_by("-started_at", "-id"):
        latest.setdefault(run.action, run)
    return sorted(latest.values(), key=lambda r: r.action)


def _run_files(run: CombineRun) -> dict[str, list[Shown]]:
    """A run's outputs for a page: charts (PNG; the SVG is a download), tables, the rest."""
    charts, tables, other = [], [], []
    for file in run.files.all():
        if file.suffix == ".png":
            charts.append(_shown(file))
        elif file.suffix == ".csv":
            tables.append(_shown(file))
        elif not file.path.endswith(".svg"):
            other.append(Shown(file, Preview("download")))
    return {"charts": charts, "tables": tables, "other": other}


@login_required
def released_file(request: HttpRequest, name: str, pk: int) -> HttpResponse:
    file = get_object_or_404(
        ReleasedFile.objects.select_related("backend", "workspace", "release__job_request"),
        pk=pk,
        workspace__name=name,
    )
    return render(request, "coordinator/released_file.html", {"shown": _shown(file)})


@login_required
def released_raw(request: HttpRequest, name: str, pk: int) -> HttpResponse:
    file = get_object_or_404(ReleasedFile, pk=pk, workspace__name=name)
    data = blob_store().read(file.sha256)
    return raw_response(
        data, file.suffix, file.path.rsplit("/", 1)[-1], inline="inline" in request.GET
    )


@login_required
def combined_raw(request: HttpRequest, name: str, pk: int) -> HttpResponse:
    file = get_object_or_404(CombinedFile, pk=pk, run__workspace__name=name)
    data = blob_store().read(file.sha256)
    return raw_response(
        data, file.suffix, file.path.rsplit("/", 1)[-1], inline="inline" in request.GET
    )


@login_required
def results(request: HttpRequest, name: str) -> HttpResponse:
    workspace = get_object_or_404(Workspace, name=name)
    per_backend = []
    latest_complete = (
        Release.objects.filter(workspace=workspace, completed_at__isnull=False)
        .select_related("backend", "job_request")
        .order_by("backend__name", "-completed_at", "-id")
    )
    seen: set[int] = set()
    for release in latest_complete:
        if release.backend_id in seen:
            continue
        seen.add(release.backend_id)
        per_backend.append({"release": release, "files": [_shown(f) for f in release.files.all()]})
    runs = latest_runs(workspace, succeeded_only=False)
    context = {
        "workspace": workspace,
        "per_backend": per_backend,
        "runs": [{"run": r, **_run_files(r)} for r in runs],
        "history": CombineRun.objects.filter(workspace=workspace).select_related("job_request")[
            :50
        ],
        "dashboard": Dashboard.objects.filter(workspace=workspace).first(),
        "file_url": "combined_raw",
    }
    return render(request, "coordinator/results.html", context)


@login_required
@require_POST
def publish_dashboard(request: HttpRequest, name: str) -> HttpResponse:
    """Publish (or withdraw) the workspace's public dashboard; audited either way."""
    workspace = get_object_or_404(Workspace, name=name)
    publish = request.POST.get("publish") == "1"
    title = (request.POST.get("title") or "").strip()[:MAX_TITLE] or f"{workspace.name} results"
    actor = f"user:{request.user.get_username()}"
    with transaction.atomic():
        board = Dashboard.objects.select_for_update().filter(workspace=workspace).first()
        if board is None:
            board = Dashboard(workspace=workspace)
        board.title = title
        board.published = publish
        board.published_by = request.user
        board.published_at = timezone.now()
        board.save()
        audit.record(
            actor,
            "dashboard.published" if publish else "dashboard.withdrawn",
            f"workspace:{workspace.pk}",
            workspace=workspace.name,
            title=title,
        )
    return redirect("results", name=workspace.name)


def _published(name: str) -> Dashboard:
    board = Dashboard.objects.select_related("workspace").filter(workspace__name=name).first()
    if board is None or not board.published:
        raise Http404("no published dashboard for this workspace")
    return board


def dashboard(request: HttpRequest, name: str) -> HttpResponse:
    """The public dashboard: the newest successful combined results of each combine action.
    The page reloads itself, so a newer release (combined on arrival) shows up unattended."""
    board = _published(name)
    runs = latest_runs(board.workspace, succeeded_only=True)
    context = {
        "board": board,
        "workspace": board.workspace,
        "runs": [{"run": r, **_run_files(r)} for r in runs],
        "updated": max((r.finished_at for r in runs if r.finished_at), default=None),
        "file_url": "dashboard_file",
    }
    return render(request, "coordinator/dashboard.html", context)


def dashboard_file(request: HttpRequest, name: str, pk: int) -> HttpResponse:
    """A combined file of a published dashboard's workspace (from a successful run only)."""
    board = _published(name)
    file = get_object_or_404(
        CombinedFile, pk=pk, run__workspace=board.workspace, run__state=CombineState.SUCCEEDED
    )
    data = blob_store().read(file.sha256)
    return raw_response(
        data, file.suffix, file.path.rsplit("/", 1)[-1], inline="inline" in request.GET
    )


@login_required
@require_POST
def combine_again(request: HttpRequest, name: str) -> HttpResponse:
    """Run a failed combine step again (after the repository or a release was fixed)."""
    run = get_object_or_404(
        CombineRun,
        pk=request.POST.get("run") or 0,
        workspace__name=name,
        state=CombineState.FAILED,
        job_request__isnull=False,
    )
    audit.record(
        f"user:{request.user.get_username()}",
        "combine.requested",
        f"combine:{run.pk}",
        workspace=name,
        job_request=run.job_request_id,
    )
    combine_if_ready(run.job_request_id)
    return redirect("results", name=name)
