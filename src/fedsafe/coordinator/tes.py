"""GA4GH Task Execution Service 1.1 at ``/ga4gh/tes/v1``: how a TRE-FX-style submission layer
sends work to a fedsafe federation without knowing fedsafe.

A task is a job request. Its executors each name a fedsafe runtime as ``image`` (``python:v1``,
``r:v1``, ``fedsafe:v1``) and an action of a workspace as ``command[0]``; ``tags`` choose the
project (``project`` or TRE-FX's ``Project``), the backends (``backends`` or TRE-FX's ``tres``:
``"a|b"`` or ``"all"``) and optionally the ``workspace`` and ``commit``. The action must exist
in the workspace's project.yaml at that commit and run on that runtime. States map from job
states to the TES enum; outputs are the released files only. Authentication: a person's API
token (``fedsafe coordinator issue-user-token``) as ``Authorization: Bearer``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from fedsafe.coordinator import audit
from fedsafe.coordinator.crates import released_files_for
from fedsafe.coordinator.errors import CoordinatorError, NotAllowed
from fedsafe.coordinator.membership import check_may_submit
from fedsafe.coordinator.models import AuditEvent, JobRequest, Project
from fedsafe.coordinator.requests import RequestSpec, cancel_request, create_job_request
from fedsafe.coordinator.user_tokens import user_for_token
from fedsafe.pipeline.errors import ProjectError
from fedsafe.pipeline.model import parse_project
from fedsafe.pipeline.runline import RUNTIMES

__all__ = ["task_state"]

MAX_BODY = 64 * 1024
DEFAULT_PAGE = 256
MAX_PAGE = 2048
VIEWS = ("MINIMAL", "BASIC", "FULL")


class TesError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def task_state(job_request: JobRequest) -> str:
    """The TES state of a request, from its jobs' states."""
    states = {j.state for j in job_request.jobs.all()}
    terminal = {"succeeded", "failed", "cancelled"}
    if not states:
        return "SYSTEM_ERROR"
    if states <= terminal:
        if states == {"succeeded"}:
            return "COMPLETE"
        if "failed" in states:
            return "EXECUTOR_ERROR"
        return "CANCELED"
    if job_request.cancelled_at is not None:
        return "CANCELING"
    if states & {"running", "cancelling"} or states & terminal:
        return "RUNNING"
    if "leased" in states:
        return "INITIALIZING"
    return "QUEUED"


def _json(data: Any, status: int = 200) -> JsonResponse:
    return JsonResponse(data, status=status, safe=False)


def _api(view: Callable[..., Any]) -> Callable[..., HttpResponse]:
    """Authenticate by user token, turn errors into TES-style JSON with a clear message."""

    @csrf_exempt
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            if view.__name__ != "service_info":
                header = request.headers.get("Authorization", "")
                token = (
                    header.removeprefix("Bearer ").strip() if header.startswith("Bearer ") else ""
                )
                user = user_for_token(token, request.path) if token else None
                if user is None:
                    raise TesError(
                        401, "send a fedsafe user API token as 'Authorization: Bearer ...'"
                    )
                request.tes_user = user  # type: ignore[attr-defined]
            return _json(view(request, *args, **kwargs))
        except TesError as exc:
            return _json({"message": str(exc)}, exc.status)
        except NotAllowed as exc:
            return _json({"message": str(exc)}, 403)
        except CoordinatorError as exc:
            return _json({"message": str(exc)}, 400)

    wrapped.__name__ = view.__name__
    return wrapped


@_api
def service_info(request: HttpRequest) -> dict[str, Any]:
    if request.method != "GET":
        raise TesError(405, "use GET")
    return {
        "id": "org.fedsafe.coordinator.tes",
        "name": "fedsafe coordinator TES",
        "type": {"group": "org.ga4gh", "artifact": "tes", "version": "1.1.0"},
        "description": "Runs actions of fedsafe workspaces on federated backends; executor "
        "images are fedsafe runtimes, commands are action names.",
        "organization": {"name": "fedsafe", "url": request.build_absolute_uri("/")},
        "version": "1",
        "storage": [request.build_absolute_uri("/jobs/")],
        "tesResources_backend_parameters": [],
    }


def _body(request: HttpRequest) -> dict[str, Any]:
    if len(request.body) > MAX_BODY:
        raise TesError(413, f"a task must be at most {MAX_BODY} bytes of JSON")
    try:
        body = json.loads(request.body or b"{}")
    except json.JSONDecodeError as exc:
        raise TesError(400, f"the task is not JSON: {exc}") from None
    if not isinstance(body, dict):
        raise TesError(400, "a task is a JSON object")
    return body


def _tag(tags: dict[str, Any], *names: str) -> str | None:
    for name in names:
        if isinstance(tags.get(name), str) and tags[name].strip():
            return tags[name].strip()
    return None


def _create(request: HttpRequest) -> dict[str, Any]:
    user = request.tes_user  # type: ignore[attr-defined]
    body = _body(request)
    tags = body.get("tags") or {}
    if not isinstance(tags, dict):
        raise TesError(400, "tags must be an object of strings")
    if body.get("inputs") or body.get("outputs"):
        raise TesError(
            400,
            "inputs come from the workspace's git repository and outputs are the released "
            "files only: leave task inputs and outputs empty",
        )
    project_name = _tag(tags, "project", "Project")
    if project_name is None:
        raise TesError(400, "tags.project (or tags.Project) must name a project")
    project = Project.objects.filter(name=project_name).first()
    if project is None:
        raise TesError(400, f"tags.project: no project called {project_name!r}")
    check_may_submit(user, project)
    backends = _tag(tags, "backends", "tres") or ""
    if not backends:
        raise TesError(400, "tags.backends (or tags.tres) must be 'all' or names joined by '|'")
    workspaces = list(project.workspaces.order_by("name"))
    ws_name = _tag(tags, "workspace")
    if ws_name:
        workspaces = [w for w in workspaces if w.name == ws_name]
        if not workspaces:
            raise TesError(
                400, f"tags.workspace: project {project.name!r} has no workspace {ws_name!r}"
            )
    if len(workspaces) != 1:
        raise TesError(
            400,
            f"project {project.name!r} has {len(workspaces)} workspaces: "
            "name one in tags.workspace",
        )
    workspace = workspaces[0]
    executors = body.get("executors")
    if not isinstance(executors, list) or not executors:
        raise TesError(400, "executors: give at least one executor")
    wanted: list[tuple[str, str]] = []
    for i, ex in enumerate(executors):
        image = ex.get("image") if isinstance(ex, dict) else None
        command = ex.get("command") if isinstance(ex, dict) else None
        if image not in RUNTIMES:
            raise TesError(
                400,
                f"executors[{i}].image {image!r} is not a fedsafe runtime; use one of "
                + ", ".join(sorted(RUNTIMES)),
            )
        if not isinstance(command, list) or len(command) != 1 or not isinstance(command[0], str):
            raise TesError(400, f"executors[{i}].command must be [<action name>]")
        wanted.append((image, command[0]))
    commit = _tag(tags, "commit")
    if commit is None:
        from fedsafe.coordinator.gitrefs import branch_head

        commit = branch_head(workspace.repo_url, workspace.branch)
    from fedsafe.coordinator.gitcode import read_file

    text = read_file(workspace.repo_url, commit, "project.yaml")
    try:
        actions = parse_project(text).actions
    except ProjectError as exc:
        raise TesError(400, f"project.yaml of {workspace.name} at {commit}: {exc}") from None
    for i, (image, action) in enumerate(wanted):
        if action not in actions:
            raise TesError(
                400,
                f"executors[{i}].command: {action!r} is not an action of workspace "
                f"{workspace.name} at {commit[:12]} (its actions: {', '.join(sorted(actions))})",
            )
        runtime = actions[action].run.runtime
        if runtime != image:
            raise TesError(
                400, f"executors[{i}].image {image!r}: action {action!r} runs on {runtime}"
            )
    spec = RequestSpec(
        actions=[a for _, a in wanted],
        backends="all" if backends == "all" else backends.split("|"),
        reason=str(body.get("description") or body.get("name") or "GA4GH TES task"),
        commit=commit,
    )
    with transaction.atomic():
        job_request = create_job_request(user, workspace, spec)
        audit.record(
            f"user:{user.get_username()}",
            "tes.task_created",
            f"request:{job_request.pk}",
            name=str(body.get("name") or "")[:200],
            executors=[{"image": i, "command": [a]} for i, a in wanted],
            tags={str(k): str(v)[:200] for k, v in tags.items()},
        )
    return {"id": str(job_request.pk)}


def _task(job_request: JobRequest, view: str, request: HttpRequest) -> dict[str, Any]:
    task: dict[str, Any] = {"id": str(job_request.pk), "state": task_state(job_request)}
    if view == "MINIMAL":
        return task
    created = (
        AuditEvent.objects.filter(kind="tes.task_created", target=f"request:{job_request.pk}")
        .values_list("data", flat=True)
        .first()
        or {}
    )
    jobs = list(job_request.jobs.all())
    task.update(
        {
            "name": created.get("name") or f"request {job_request.pk}",
            "description": job_request.reason,
            "executors": created.get("executors")
            or [{"image": "fedsafe:v1", "command": [a]} for a in job_request.actions],
            "tags": created.get("tags") or {},
            "creation_time": job_request.created_at.isoformat(),
            "inputs": [],
            "outputs": [
                {
                    "url": request.build_absolute_uri(f.url or f"/jobs/{job_request.pk}/crate.zip"),
                    "path": f"/{f.backend}/{f.path}",
                    "type": "FILE",
                    "description": f"released by {f.backend}; sha256 {f.sha256}",
                }
                for f in released_files_for(job_request)
            ],
            "logs": [
                {
                    "start_time": job_request.started_at.isoformat()
                    if job_request.started_at
                    else None,
                    "end_time": job_request.finished_at.isoformat()
                    if job_request.finished_at
                    else None,
                    "logs": [
                        {
                            "start_time": j.started_at.isoformat() if j.started_at else None,
                            "end_time": j.finished_at.isoformat() if j.finished_at else None,
                            "exit_code": j.exit_code,
                            **(
                                {"stdout": "", "stderr": f"{j.backend.name}/{j.action}: {j.state}"}
                                if view == "FULL"
                                else {}
                            ),
                        }
                        for j in jobs
                    ],
                    "metadata": {f"{j.backend.name}/{j.action}": j.state for j in jobs},
                    "outputs": [],
                    **(
                        {
                            "system_logs": [
                                (
                                    f"{j.backend.name}/{j.action}: {j.state} "
                                    f"{j.error_class} {j.message}"
                                ).strip()
                                for j in jobs
                            ]
                        }
                        if view == "FULL"
                        else {}
                    ),
                }
            ],
        }
    )
    return task


def _view(request: HttpRequest, default: str) -> str:
    view = request.GET.get("view", default).upper()
    if view not in VIEWS:
        raise TesError(400, f"view must be one of {', '.join(VIEWS)}")
    return view


def _visible(request: HttpRequest):
    return (
        JobRequest.objects.filter(created_by=request.tes_user)  # type: ignore[attr-defined]
        .select_related("workspace")
        .prefetch_related("jobs__backend")
        .order_by("-id")
    )


@_api
def tasks(request: HttpRequest) -> dict[str, Any]:
    if request.method == "POST":
        return _create(request)
    if request.method != "GET":
        raise TesError(405, "use GET or POST")
    view = _view(request, "MINIMAL")
    try:
        size = int(request.GET.get("page_size") or DEFAULT_PAGE)
        after = int(request.GET.get("page_token") or 0)
    except ValueError:
        raise TesError(400, "page_size and page_token are integers") from None
    if not 1 <= size <= MAX_PAGE:
        raise TesError(400, f"page_size must be 1 to {MAX_PAGE}")
    found = _visible(request)
    if after:
        found = found.filter(id__lt=after)
    page = list(found[: size + 1])
    result: dict[str, Any] = {"tasks": [_task(r, view, request) for r in page[:size]]}
    if len(page) > size:
        result["next_page_token"] = str(page[size - 1].pk)
    return result


def _one(request: HttpRequest, task_id: str) -> JobRequest:
    found = _visible(request).filter(pk=int(task_id)).first() if task_id.isdigit() else None
    if found is None:
        raise TesError(404, f"no task {task_id!r} of yours")
    return found


@_api
def task(request: HttpRequest, task_id: str) -> dict[str, Any]:
    if request.method != "GET":
        raise TesError(405, "use GET")
    return _task(_one(request, task_id), _view(request, "MINIMAL"), request)


@_api
def cancel(request: HttpRequest, task_id: str) -> dict[str, Any]:
    if request.method != "POST":
        raise TesError(405, "use POST")
    cancel_request(request.tes_user, _one(request, task_id))  # type: ignore[attr-defined]
    return {}
