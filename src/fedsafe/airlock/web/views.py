"""HTTP in, service call, HTML out. A refusal from the service is shown to the person (400, or
403 for permissions) with its sentence, and has already been logged by the service."""

from __future__ import annotations

import csv
import io
import mimetypes
from collections.abc import Callable
from functools import cache, wraps
from typing import Any

from django.conf import settings
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_POST

from fedsafe.airlock.config import check_password, load_config
from fedsafe.airlock.errors import AirlockError, PermissionDenied
from fedsafe.airlock.service import Airlock
from fedsafe.airlock.states import Owner

SANDBOX_CSP = (
    "sandbox; default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; "
    "frame-ancestors 'self'"
)
TEXT = {".txt", ".log", ".md", ".json"}
IMAGES = {".png", ".jpg", ".svg"}
MAX_TABLE_ROWS = 1000


@cache
def airlock() -> Airlock:
    return Airlock(load_config(settings.BACKEND_DIR))


def _user(request: HttpRequest) -> str | None:
    name = request.session.get("user")
    return name if name in airlock().config.users else None


def login_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        name = _user(request)
        if name is None:
            return redirect("login")
        try:
            return view(request, name, *args, **kwargs)
        except AirlockError as exc:
            status = 403 if isinstance(exc, PermissionDenied) else 400
            return render(
                request, "airlock/error.html", {"user": name, "error": str(exc)}, status=status
            )

    return wrapper


def login(request: HttpRequest) -> HttpResponse:
    error = ""
    if request.method == "POST":
        name = request.POST.get("username", "")
        user = airlock().config.users.get(name)
        if user and check_password(request.POST.get("password", ""), user.password_hash):
            request.session.cycle_key()
            request.session["user"] = name
            return redirect("index")
        error = "username or password: not recognised"
    return render(request, "airlock/login.html", {"error": error}, status=400 if error else 200)


def logout(request: HttpRequest) -> HttpResponse:
    request.session.flush()
    return redirect("login")


@login_required
def index(request: HttpRequest, name: str) -> HttpResponse:
    user = airlock().config.users[name]
    return render(
        request,
        "airlock/index.html",
        {
            "user": name,
            "workspaces": sorted(user.workspaces),
            "requests": airlock().requests_for(name),
        },
    )


@login_required
def workspace(request: HttpRequest, name: str, workspace: str) -> HttpResponse:
    context: dict[str, Any] = {"user": name, "workspace": workspace, "error": ""}
    if request.method == "POST":
        try:
            request_id = airlock().add_files(
                name,
                workspace,
                request.POST.getlist("files"),
                group=request.POST.get("group", ""),
                context=request.POST.get("context", ""),
                controls=request.POST.get("controls", ""),
                kind=request.POST.get("kind", "output"),
            )
            return redirect("request", request_id=request_id)
        except PermissionDenied:
            raise
        except AirlockError as exc:
            context["error"] = str(exc)
    context["outputs"] = airlock().outputs(name, workspace)
    return render(
        request, "airlock/workspace.html", context, status=400 if context["error"] else 200
    )


def _csv_rows(data: bytes) -> list[list[str]]:
    reader = csv.reader(io.StringIO(data.decode("utf-8", errors="replace")))
    return [row for _, row in zip(range(MAX_TABLE_ROWS + 1), reader)]


@login_required
def view_file(request: HttpRequest, name: str, workspace: str, path: str) -> HttpResponse:
    output = airlock().open_file(name, workspace, path)
    suffix = output.absolute.suffix.lower()
    context: dict[str, Any] = {"user": name, "file": output, "suffix": suffix}
    if suffix == ".csv":
        context["rows"] = _csv_rows(output.absolute.read_bytes())
    elif suffix in TEXT:
        context["text"] = output.absolute.read_text(encoding="utf-8", errors="replace")
    context["image"] = suffix in IMAGES
    context["html"] = suffix == ".html"
    return render(request, "airlock/file.html", context)


@xframe_options_sameorigin
@login_required
def raw_file(request: HttpRequest, name: str, workspace: str, path: str) -> HttpResponse:
    download = request.GET.get("download") == "1"
    output = airlock().open_file(name, workspace, path, download=download)
    kind = mimetypes.guess_type(output.absolute.name)[0] or "application/octet-stream"
    response = FileResponse(
        output.absolute.open("rb"),
        content_type=kind,
        as_attachment=download,
        filename=output.absolute.name,
    )
    response["Content-Security-Policy"] = SANDBOX_CSP
    return response


def _request_page(
    request: HttpRequest, name: str, request_id: str, error: str = ""
) -> HttpResponse:
    view = airlock().view_request(name, request_id)
    user = airlock().config.users[name]
    context = {
        "user": name,
        "req": view,
        "is_author": view.author == name,
        "is_checker": user.is_checker and view.author != name,
        "author_turn": view.owner is Owner.AUTHOR,
        "checker_turn": view.owner is Owner.CHECKERS,
        "approved": view.status.value == "approved",
        "status": view.status.value,
        "error": error,
    }
    return render(request, "airlock/request.html", context, status=400 if error else 200)


@login_required
def request_page(request: HttpRequest, name: str, request_id: str) -> HttpResponse:
    return _request_page(request, name, request_id)


ACTIONS = {"submit", "withdraw", "approve", "reject", "return", "release"}


@require_POST
@login_required
def request_action(request: HttpRequest, name: str, request_id: str, action: str) -> HttpResponse:
    service = airlock()
    form = request.POST
    try:
        if action == "vote":
            service.vote(
                name,
                request_id,
                form.get("path", ""),
                form.get("vote", ""),
                form.get("comment", ""),
            )
        elif action == "comment":
            service.comment(name, request_id, form.get("path", ""), form.get("text", ""))
        elif action == "justify":
            service.justify(name, request_id, form.get("path", ""), form.get("justification", ""))
        elif action == "group":
            service.set_group_text(
                name,
                request_id,
                form.get("group", ""),
                form.get("context", ""),
                form.get("controls", ""),
            )
        elif action == "return":
            service.return_request(name, request_id)
        elif action in ACTIONS:
            getattr(service, action)(name, request_id)
        else:
            raise AirlockError(f"unknown action {action!r}", field="action")
    except PermissionDenied:
        raise
    except AirlockError as exc:
        return _request_page(request, name, request_id, str(exc))
    return redirect("request", request_id=request_id)
