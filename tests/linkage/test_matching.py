"""Private set intersection finds exactly the shared pseudonyms; the fallback agrees."""

from __future__ import annotations

import os

import pytest

from fedsafe.linkage import matching
from fedsafe.linkage.errors import LinkageError


def pseudonyms(count: int) -> list[str]:
    return [os.urandom(32).hex() for _ in range(count)]


def test_psi_finds_the_intersection_and_only_it():
    shared, only_a, only_b = pseudonyms(40), pseudonyms(30), pseudonyms(200)
    cohort = only_a[:15] + shared + only_a[15:]
    requester = matching.Requester(cohort)
    request = requester.request()
    setup, response = matching.Provider(only_b + shared).respond(request, requester.size)
    assert sorted(requester.matched(setup, response)) == sorted(shared)
    assert matching.fallback_match(cohort, only_b + shared) == shared


def test_psi_messages_carry_no_pseudonym():
    cohort, population = pseudonyms(20), pseudonyms(50)
    requester = matching.Requester(cohort)
    request = requester.request()
    setup, response = matching.Provider(population + cohort[:5]).respond(request, 20)
    for message in (request, setup, response):
        for item in cohort + population:
            assert item.encode() not in message and bytes.fromhex(item) not in message


def test_an_empty_intersection_is_empty():
    requester = matching.Requester(pseudonyms(10))
    setup, response = matching.Provider(pseudonyms(10)).respond(requester.request(), 10)
    assert requester.matched(setup, response) == []


def test_a_request_whose_size_differs_from_the_announced_size_is_refused():
    requester = matching.Requester(pseudonyms(10))
    with pytest.raises(LinkageError, match="holds 10 items, not the 1000 announced"):
        matching.Provider(pseudonyms(10)).respond(requester.request(), 1000)


def test_malformed_messages_are_refused():
    requester = matching.Requester(pseudonyms(3))
    with pytest.raises(LinkageError, match=r"PSI request message .* is malformed"):
        matching.Provider(pseudonyms(3)).respond(b"\xff\xff\xff", 3)
    with pytest.raises(LinkageError, match="malformed"):
        requester.matched(b"\xff\xff", b"\x00")


def test_pseudonyms_encode_to_32_bytes_each_and_back():
    items = pseudonyms(5)
    data = matching.encode_pseudonyms(items)
    assert len(data) == 160 and matching.decode_pseudonyms(data) == items
    with pytest.raises(LinkageError):
        matching.encode_pseudonyms(["abc"])
    with pytest.raises(LinkageError):
        matching.decode_pseudonyms(b"x" * 33)
