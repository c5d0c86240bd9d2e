from fedsafe.airlock.states import OWNERS, TRANSITIONS, Owner, Status


def test_every_state_has_exactly_one_owner():
    assert set(OWNERS) == set(Status)
    assert all(isinstance(owner, Owner) for owner in OWNERS.values())


def test_every_state_is_reachable_from_pending_and_final_states_lead_nowhere():
    reachable = {Status.PENDING}
    frontier = [Status.PENDING]
    while frontier:
        state = frontier.pop()
        for (start, end), _ in TRANSITIONS.items():
            if start is state and end not in reachable:
                reachable.add(end)
                frontier.append(end)
    assert reachable == set(Status)
    final = {s for s, owner in OWNERS.items() if owner is Owner.NOBODY}
    assert final == {Status.REJECTED, Status.RELEASED, Status.WITHDRAWN}
    assert not [pair for pair in TRANSITIONS if pair[0] in final]


def test_only_the_owner_of_a_state_moves_a_request_out_of_it_unless_the_airlock_does():
    for (start, _end), mover in TRANSITIONS.items():
        assert mover in (OWNERS[start], Owner.SYSTEM), (start, mover)
