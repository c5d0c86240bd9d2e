import itertools

import pytest

from fedsafe.agent_protocol.states import (
    TERMINAL,
    TRANSITIONS,
    Actor,
    JobState,
    can_move,
    request_state,
)

AGENT_MOVES = {
    ("pending", "leased"),
    ("leased", "running"),
    ("leased", "failed"),
    ("running", "succeeded"),
    ("running", "failed"),
    ("cancelling", "cancelled"),
    ("cancelling", "succeeded"),
    ("cancelling", "failed"),
}


def test_an_agent_may_make_exactly_the_documented_moves():
    allowed = {
        (a.value, b.value)
        for a, b in itertools.product(JobState, repeat=2)
        if can_move(a, b, Actor.AGENT)
    }
    assert allowed == AGENT_MOVES


def test_nothing_leaves_a_final_state():
    for final, new, actor in itertools.product(TERMINAL, JobState, Actor):
        assert not can_move(final, new, actor)


def test_people_only_cancel_and_the_system_only_expires_leases():
    user = {(a, b) for (a, b), actors in TRANSITIONS.items() if Actor.USER in actors}
    system = {(a, b) for (a, b), actors in TRANSITIONS.items() if Actor.SYSTEM in actors}
    assert {b for _, b in user} == {JobState.CANCELLED, JobState.CANCELLING}
    assert system == {
        (JobState.LEASED, JobState.PENDING),
        (JobState.RUNNING, JobState.PENDING),
        (JobState.CANCELLING, JobState.CANCELLED),
    }


@pytest.mark.parametrize(
    ("states", "expected"),
    [
        ([], "empty"),
        (["pending", "pending"], "pending"),
        (["pending", "leased"], "running"),
        (["succeeded", "pending"], "running"),
        (["succeeded", "succeeded"], "succeeded"),
        (["succeeded", "failed"], "failed"),
        (["cancelled", "succeeded"], "cancelled"),
        (["cancelled", "failed"], "failed"),
        (["cancelling", "running"], "cancelling"),
    ],
)
def test_a_request_state_summarises_its_jobs(states, expected):
    assert request_state([JobState(s) for s in states]) == expected
