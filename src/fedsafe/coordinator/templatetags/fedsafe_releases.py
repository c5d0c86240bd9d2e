"""``{% released_files workspace %}``: the workspace page's list of released files, kept in a
tag of its own so the workspace view and template need only one line to show it."""

from __future__ import annotations

from typing import Any

from django import template

from fedsafe.coordinator.models import Workspace
from fedsafe.coordinator.release_views import released_by_backend

register = template.Library()


@register.inclusion_tag("coordinator/released_files.html")
def released_files(workspace: Workspace) -> dict[str, Any]:
    return {"workspace": workspace, "by_backend": released_by_backend(workspace)}
