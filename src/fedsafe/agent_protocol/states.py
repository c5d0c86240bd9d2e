"""Job states and who may move a job from one state to another, as data.

A transition table instead of scattered ``if`` statements means one place to read, one place to
test (every pair is either allowed for named actors or refused), and the same rules on both
sides of the API.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "TERMINAL",
    "TRANSITIONS",
    "Actor",
    "JobState",
    "can_move",
    "request_state",
]


class JobState(StrEnum):
    """Where one action of one request is on one backend."""

    PENDING = "pending"  # waiting for the backend's agent to lease it
    LEASED = "leased"  # an agent holds it; not started yet
    RUNNING = "running"  # the agent says it has started
    CANCELLING = "cancelling"  # a person cancelled it while an agent held it
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


class Actor(StrEnum):
    """Who asks for a transition: the backend's agent, a person, or the coordinator itself."""

    AGENT = "agent"
    USER = "user"
    SYSTEM = "system"  # lease expiry


TERMINAL = frozenset({JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED})

_S, _A = JobState, Actor
TRANSITIONS: dict[tuple[JobState, JobState], frozenset[Actor]] = {
    (_S.PENDING, _S.LEASED): frozenset({_A.AGENT}),
    (_S.PENDING, _S.CANCELLED): frozenset({_A.USER}),
    (_S.LEASED, _S.RUNNING): frozenset({_A.AGENT}),
    (_S.LEASED, _S.FAILED): frozenset({_A.AGENT}),  # e.g. project.yaml refused before starting
    (_S.LEASED, _S.PENDING): frozenset({_A.SYSTEM}),  # lease expired: offered again
    (_S.LEASED, _S.CANCELLING): frozenset({_A.USER}),
    (_S.RUNNING, _S.SUCCEEDED): frozenset({_A.AGENT}),
    (_S.RUNNING, _S.FAILED): frozenset({_A.AGENT}),
    (_S.RUNNING, _S.PENDING): frozenset({_A.SYSTEM}),
    (_S.RUNNING, _S.CANCELLING): frozenset({_A.USER}),
    (_S.CANCELLING, _S.CANCELLED): frozenset({_A.AGENT, _A.SYSTEM}),
    (_S.CANCELLING, _S.SUCCEEDED): frozenset({_A.AGENT}),  # finished before it could stop
    (_S.CANCELLING, _S.FAILED): frozenset({_A.AGENT}),
}


def can_move(current: JobState, new: JobState, actor: Actor) -> bool:
    """Whether ``actor`` may move a job from ``current`` to ``new``."""
    return actor in TRANSITIONS.get((current, new), frozenset())


def request_state(job_states: list[JobState]) -> str:
    """One word for a whole request, from its jobs' states, for the public log.

    ``failed`` wins over ``cancelled`` once everything has stopped, because a failure is what
    someone reading the log needs to know about.
    """
    if not job_states:
        return "empty"
    states = set(job_states)
    if states <= TERMINAL:
        if JobState.FAILED in states:
            return "failed"
        if JobState.CANCELLED in states:
            return "cancelled"
        return "succeeded"
    if JobState.CANCELLING in states:
        return "cancelling"
    if states & {JobState.LEASED, JobState.RUNNING} or states & TERMINAL:
        return "running"
    return "pending"
