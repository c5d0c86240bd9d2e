"""``{% released_files workspace %}`` (the workspace page's released files) and
``{% job_request_releases request %}`` (a request's public page: what was released for it),
kept in tags of their own so the views and templates need only one line to show them."""

from __future__ import annotations

from typing import Any

from django import template

from fedsafe.coordinator.models import JobRequest, Workspace
from fedsafe.coordinator.release_models import Release
from fedsafe.coordinator.release_views import released_by_backend

register = template.Library()


@register.inclusion_tag("coordinator/released_files.html")
def released_files(workspace: Workspace) -> dict[str, Any]:
    return {"workspace": workspace, "by_backend": released_by_backend(workspace)}


@register.inclusion_tag("coordinator/request_releases.html")
def job_request_releases(job_request: JobRequest) -> dict[str, Any]:
    """What was released for a job request, for its public page: names and hashes only."""
    releases = (
        Release.objects.filter(job_request=job_request)
        .select_related("backend")
        .prefetch_related("files")
        .order_by("backend__name", "created_at", "id")
    )
    return {"releases": releases, "job_request": job_request}
