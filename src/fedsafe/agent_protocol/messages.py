"""The bodies of agent API requests and responses, as pydantic models.

Reports are defined narrowly, as an allow-list: a state, timings, an exit code, an error class
and one short line of text. There is no free-form field, so log contents, output file names and
data values have nowhere to go; anything else in a body is refused (``extra="forbid"``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

from fedsafe.agent_protocol.states import JobState

__all__ = [
    "MAX_BODY_BYTES",
    "MAX_MESSAGE_CHARS",
    "BackendInfo",
    "HeartbeatIn",
    "HeartbeatOut",
    "JobOut",
    "LeaseIn",
    "ProvidesIn",
    "StateReport",
]

MAX_MESSAGE_CHARS = 200
MAX_BODY_BYTES = 4096  # a report is a few hundred bytes; anything bigger is not a report
MAX_LEASE_BATCH = 10
MAX_PROVIDED_TABLES = 40  # with names of up to 64 characters, still within MAX_BODY_BYTES


def _not_a_bool(value: object) -> object:
    if isinstance(value, bool):
        raise ValueError("must be a number, not true or false")
    return value


# For JSON's integers (4 or 4.0, as JSON Schema allows), but never true/false, which pydantic's
# lax mode would otherwise read as 1 and 0.
NO_BOOL = BeforeValidator(_not_a_bool)

# One line of printable text: no newlines, tabs or other control characters, so a multi-line
# traceback or log excerpt cannot be smuggled into the summary.
SafeMessage = Annotated[
    str,
    StringConstraints(max_length=MAX_MESSAGE_CHARS, pattern=r"^[\x20-\x7E]*$"),
]
ErrorClass = Annotated[
    str, StringConstraints(max_length=64, pattern=r"^[A-Za-z][A-Za-z0-9_.]{0,63}$")
]
LeaseId = Annotated[
    str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
]
TableName = Annotated[str, StringConstraints(max_length=64, pattern=r"^[a-z][a-z0-9_]{0,63}$")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LeaseIn(_Strict):
    """Ask for up to ``max_jobs`` pending jobs of the calling backend."""

    max_jobs: Annotated[int, Field(ge=1, le=MAX_LEASE_BATCH), NO_BOOL] = 1


class JobOut(_Strict):
    """A job as its backend's agent sees it: enough to fetch the code and run one action."""

    id: int
    job_request_id: int
    backend: str
    workspace: str  # names the folder the agent's stores keep this workspace's outputs in
    action: str
    repo_url: str
    branch: str
    commit: str
    state: JobState
    lease_id: str | None
    lease_expires_at: datetime | None


class HeartbeatIn(_Strict):
    """Keep a lease alive: only the holder of the current lease id may."""

    lease_id: LeaseId


class HeartbeatOut(_Strict):
    state: JobState
    lease_expires_at: datetime
    cancel_requested: bool


class StateReport(_Strict):
    """A new state for a job, with the only facts an agent may send back about it."""

    lease_id: LeaseId
    state: JobState
    started_at: datetime | None = None
    finished_at: datetime | None = None
    exit_code: Annotated[int, Field(ge=-255, le=255), NO_BOOL] | None = None
    error_class: ErrorClass | None = None
    message: SafeMessage | None = None


class ProvidesIn(_Strict):
    """The logical tables a backend provides, so "all backends that can run it" is real."""

    tables: list[TableName] = Field(max_length=MAX_PROVIDED_TABLES)


class BackendInfo(_Strict):
    name: str
    provides: list[str]
