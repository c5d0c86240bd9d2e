"""Plain, frozen records of one job request: the input of the crate builder.

The coordinator turns its models into these (``fedsafe.coordinator.crates``); tests make them
directly. Keeping the builder on records means the provenance part imports no web app.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

__all__ = [
    "DisclosureDecision",
    "JobRecord",
    "PersonRecord",
    "ReleasedFileRecord",
    "RequestRecord",
]


@dataclass(frozen=True)
class PersonRecord:
    """The person who asked: their coordinator user name and the organisation they speak for."""

    username: str
    name: str
    affiliation: str


@dataclass(frozen=True)
class JobRecord:
    """One action of the request on one backend, as the coordinator saw it."""

    backend: str
    action: str
    state: str  # a fedsafe.agent_protocol.states.JobState value
    started_at: datetime | None = None
    finished_at: datetime | None = None
    exit_code: int | None = None
    error: str = ""
    leased: bool = False  # the backend's agent accepted (leased) the job at least once


@dataclass(frozen=True)
class ReleasedFileRecord:
    """A file a backend's airlock released: where it came from, its SHA-256, and (if the
    coordinator holds it) its bytes. Only released files are ever given to the builder."""

    backend: str
    path: str
    sha256: str
    content: bytes | None = None
    url: str = ""  # where to download it when ``content`` is not carried in the crate


@dataclass(frozen=True)
class DisclosureDecision:
    """One disclosure check of one output: a reviewer's decision or an automated check's."""

    backend: str
    path: str
    approved: bool
    at: datetime
    reviewer: str = ""  # empty for an automated check
    note: str = ""


@dataclass(frozen=True)
class RequestRecord:
    """Everything the crate says about one job request."""

    request_id: int
    crate_uuid: str  # the BagIt External-Identifier's UUID, kept for the request's life
    base_url: str  # the coordinator's address, for permalinks
    organisation: str  # who runs the coordinator: the crate's publisher
    project: str
    project_id: int
    workspace: str
    repo_url: str
    branch: str
    commit: str
    actions: tuple[str, ...]
    requested_backends: str | tuple[str, ...]
    reason: str
    person: PersonRecord
    created_at: datetime
    jobs: tuple[JobRecord, ...]
    cancelled_at: datetime | None = None
    # A crate submitted by a client: its metadata graph, kept and extended (never its
    # AssessActions), and when its BagIt checksums were checked.
    submitted_graph: tuple[Mapping[str, Any], ...] = field(default=())
    bag_checked_at: datetime | None = None

    @property
    def backends(self) -> tuple[str, ...]:
        return tuple(sorted({j.backend for j in self.jobs}))
