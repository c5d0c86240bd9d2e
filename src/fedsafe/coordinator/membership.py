"""Who may submit work for a project: its creator, its members, and staff."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser

from fedsafe.coordinator.errors import NotAllowed
from fedsafe.coordinator.models import Project, ProjectMember

__all__ = ["check_may_submit", "may_submit"]


def may_submit(user: AbstractBaseUser, project: Project) -> bool:
    return (
        user.is_staff
        or project.created_by_id == user.pk
        or ProjectMember.objects.filter(project=project, user=user).exists()
    )


def check_may_submit(user: AbstractBaseUser, project: Project) -> None:
    if not may_submit(user, project):
        raise NotAllowed(
            f"{user.get_username()} has no permission to submit work for project {project.name!r}"
        )
