"""Refuse oversized agent API bodies before anything reads them."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse

from fedsafe.agent_protocol.messages import MAX_BODY_BYTES

API_PREFIX = "/api/agent/"


class BodySizeLimit:
    """A report is a few hundred bytes; a body of more than ``MAX_BODY_BYTES`` is refused with
    413 so an agent (or someone holding its token) cannot push logs or data through the API."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith(API_PREFIX):
            declared = request.META.get("CONTENT_LENGTH") or "0"
            try:
                length = int(declared)
            except ValueError:
                length = MAX_BODY_BYTES + 1
            chunked = "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower()
            if length > MAX_BODY_BYTES or length < 0 or chunked:
                return JsonResponse(
                    {"detail": f"request body must be at most {MAX_BODY_BYTES} bytes"},
                    status=413,
                )
        return self.get_response(request)
