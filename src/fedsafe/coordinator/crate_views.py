"""HTTP for crates: each request's crate for download, and crates submitted as requests."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from fedsafe.coordinator.crates import MAX_CRATE_BYTES, crate_zip, submit_crate
from fedsafe.coordinator.errors import CoordinatorError, NotAllowed
from fedsafe.coordinator.models import JobRequest
from fedsafe.coordinator.user_tokens import user_for_token


@require_GET
def download(request: HttpRequest, pk: int) -> HttpResponse:
    """The request's Five Safes crate (``?backend=name`` for one backend's). Public, like the
    jobs log: it holds no more than the log does, plus released files."""
    job_request = get_object_or_404(JobRequest, pk=pk)
    backend = request.GET.get("backend") or None
    try:
        data = crate_zip(job_request, request.build_absolute_uri("/"), backend=backend)
    except ValueError as exc:
        return JsonResponse({"detail": str(exc)}, status=404)
    name = f"fedsafe-request-{pk}" + (f"-{backend}" if backend else "") + ".zip"
    response = HttpResponse(data, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Link"] = '<https://w3id.org/ro/crate>; rel="profile"'
    return response


@csrf_exempt
@require_POST
def submit(request: HttpRequest) -> HttpResponse:
    """POST a Five Safes crate (BagIt zip) with a user token; answers the new request's id and
    where its crate (the submitted one with trail and results added) will be."""
    header = request.headers.get("Authorization", "")
    user = (
        user_for_token(header.removeprefix("Bearer ").strip(), request.path)
        if header.startswith("Bearer ")
        else None
    )
    if user is None:
        return JsonResponse({"detail": "send a fedsafe user API token as Bearer"}, status=401)
    length = int(request.META.get("CONTENT_LENGTH") or 0)
    if length > MAX_CRATE_BYTES:
        return JsonResponse(
            {"detail": f"a crate must be at most {MAX_CRATE_BYTES} bytes"}, status=413
        )
    # Read the stream directly: request.body stops at the forms' 64 KiB limit, and a crate
    # may be larger; the crate limit is checked here instead.
    body = request.read(MAX_CRATE_BYTES + 1)
    if len(body) > MAX_CRATE_BYTES:
        return JsonResponse(
            {"detail": f"a crate must be at most {MAX_CRATE_BYTES} bytes"}, status=413
        )
    try:
        job_request = submit_crate(user, body)
    except NotAllowed as exc:
        return JsonResponse({"detail": str(exc)}, status=403)
    except CoordinatorError as exc:
        return JsonResponse({"detail": str(exc)}, status=400)
    return JsonResponse(
        {
            "id": job_request.pk,
            "crate": request.build_absolute_uri(f"/jobs/{job_request.pk}/crate.zip"),
        },
        status=201,
    )
