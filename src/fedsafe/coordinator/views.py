"""Web pages: the signed-in pages for projects, workspaces and requests, and the public jobs
log, which needs no login. Views only translate between HTTP and the service modules; every
rule is checked there."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from fedsafe.coordinator.errors import CoordinatorError
from fedsafe.coordinator.models import (
    Backend,
    Job,
    JobRequest,
    LinkageCheck,
    Project,
    Workspace,
)
from fedsafe.coordinator.requests import RequestSpec, cancel_request, create_job_request
from fedsafe.coordinator.schedules import create_schedule
from fedsafe.coordinator.setup_records import create_project, create_workspace

PUBLIC_LOG_SIZE = 200


def _requests_with_jobs():
    return JobRequest.objects.select_related("workspace", "created_by").prefetch_related(
        Prefetch("jobs", queryset=Job.objects.select_related("backend"))
    )


@login_required
def home(request: HttpRequest) -> HttpResponse:
    error = None
    if request.method == "POST":
        try:
            if request.POST.get("form") == "project":
                create_project(request.user, request.POST.get("name", ""))
                return redirect("home")
            project = Project.objects.filter(pk=request.POST.get("project") or 0).first()
            if project is None:
                raise CoordinatorError("project: choose a project")
            workspace = create_workspace(
                request.user,
                project,
                request.POST.get("name", ""),
                request.POST.get("repo_url", ""),
                request.POST.get("branch", ""),
            )
            return redirect("workspace", name=workspace.name)
        except CoordinatorError as exc:
            error = str(exc)
    context = {
        "projects": Project.objects.prefetch_related("workspaces").order_by("name"),
        "error": error,
        "form": request.POST if error else {},
    }
    return render(request, "coordinator/home.html", context, status=400 if error else 200)


@login_required
def workspace(request: HttpRequest, name: str) -> HttpResponse:
    ws = get_object_or_404(Workspace, name=name)
    error = None
    if request.method == "POST":
        chosen = request.POST.getlist("backend")
        spec = RequestSpec(
            actions=request.POST.get("actions", ""),
            backends="all" if "all" in chosen else [c for c in chosen if c != "all"],
            reason=request.POST.get("reason", ""),
            needed_tables=request.POST.get("needed_tables", ""),
            commit=request.POST.get("commit", ""),
        )
        try:
            if request.POST.get("form") == "schedule":
                create_schedule(
                    request.user, ws, request.POST.get("cron", ""), spec, timezone.now()
                )
                return redirect("workspace", name=ws.name)
            job_request = create_job_request(request.user, ws, spec)
            return redirect("request", pk=job_request.pk)
        except CoordinatorError as exc:
            error = str(exc)
    context = {
        "workspace": ws,
        "backends": Backend.objects.order_by("name"),
        "requests": _requests_with_jobs().filter(workspace=ws)[:50],
        "schedules": ws.schedules.order_by("id"),
        "error": error,
        "form": request.POST if error else {},
    }
    return render(request, "coordinator/workspace.html", context, status=400 if error else 200)


def jobs_log(request: HttpRequest) -> HttpResponse:
    """The public log: every request, who asked, why, where, at which commit, and how it went."""
    requests = list(_requests_with_jobs()[:PUBLIC_LOG_SIZE])
    checks = LinkageCheck.objects.filter(job_request__in=[r.pk for r in requests]).order_by(
        "-job_request_id", "id"
    )
    return render(
        request, "coordinator/jobs_log.html", {"requests": requests, "linkage_checks": checks}
    )


def request_detail(request: HttpRequest, pk: int) -> HttpResponse:
    job_request = get_object_or_404(_requests_with_jobs(), pk=pk)
    checks = LinkageCheck.objects.filter(job_request=job_request).order_by("id")
    response = render(
        request, "coordinator/request.html", {"r": job_request, "linkage_checks": checks}
    )
    # Signposting to the request's Five Safes crate, as the profile asks of landing pages.
    crate = request.build_absolute_uri(f"/jobs/{pk}/crate.zip")
    response["Link"] = (
        f'<{crate}>; rel="item"; type="application/zip", '
        f'<https://w3id.org/ro/crate>; rel="profile"; type="application/zip"; anchor="{crate}"'
    )
    return response


@login_required
@require_POST
def cancel(request: HttpRequest, pk: int) -> HttpResponse:
    job_request = get_object_or_404(JobRequest, pk=pk)
    try:
        cancel_request(request.user, job_request)
    except CoordinatorError as exc:
        return render(
            request,
            "coordinator/request.html",
            {
                "r": _requests_with_jobs().get(pk=pk),
                "error": str(exc),
                "linkage_checks": LinkageCheck.objects.filter(job_request_id=pk).order_by("id"),
            },
            status=403,
        )
    return redirect("request", pk=pk)
