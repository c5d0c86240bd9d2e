"""Small-number suppression then rounding, including OpenSAFELY's midpoint-6 worked example."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fedsafe.disclosure import (
    DisclosurePolicy,
    TableError,
    is_possible_protected_count,
    protect_counts,
    round_count,
)

DEFAULT = DisclosurePolicy()
MIDPOINT6 = DisclosurePolicy(rounding="midpoint", suppress_at_or_below=0, allow_zero_cells=True)
ZEROS_ALLOWED = DisclosurePolicy(allow_zero_cells=True)


def test_default_suppresses_seven_and_below_then_rounds_to_five():
    """Issue #16 changed the default for zeros: a zero cell is class disclosure, redacted."""
    assert protect_counts([0, 1, 5, 7, 8, 12, 13, 17, 18, 102, None], DEFAULT) == [
        None, None, None, None, 10, 10, 15, 15, 20, 100, None,
    ]  # fmt: skip


def test_zeros_kept_when_the_policy_allows_zero_cells():
    assert protect_counts([0, 1, 5, 7, 8, 12, 13, 17, 18, 102, None], ZEROS_ALLOWED) == [
        0, None, None, None, 10, 10, 15, 15, 20, 100, None,
    ]  # fmt: skip
    assert protect_counts([0], DisclosurePolicy(allow_zero_cells=True, suppress_zero=True)) == [
        None
    ]


def test_opensafely_midpoint_six_mapping():
    """The mapping table in OpenSAFELY's documentation, "Rounding to midpoint 6" (docs
    opensafely.org, Applying statistical disclosure control): 0 -> 0, 1-6 -> 3, 7-12 -> 9,
    13-18 -> 15."""
    assert protect_counts(range(19), MIDPOINT6) == [0] + [3] * 6 + [9] * 6 + [15] * 6


@given(st.integers(min_value=1, max_value=10**9))
def test_midpoint_rounding_is_within_documented_interval(count):
    """OpenSAFELY: for a non-zero rounded value x the true value lies in x-2 .. x+3."""
    rounded = round_count(count, MIDPOINT6)
    assert rounded - 2 <= count <= rounded + 3


@given(st.integers(min_value=0, max_value=10**9), st.integers(min_value=2, max_value=100))
def test_nearest_rounding_is_a_nearest_multiple(count, base):
    rounded = round_count(count, DisclosurePolicy(rounding_base=base))
    assert rounded % base == 0
    assert abs(rounded - count) <= base / 2


def test_even_base_rounds_halves_up():
    assert round_count(5, DisclosurePolicy(rounding_base=10)) == 10
    assert round_count(15, DisclosurePolicy(rounding_base=10)) == 20


def test_suppress_zero_redacts_zero():
    assert protect_counts([0, 9], DisclosurePolicy(suppress_zero=True)) == [None, 10]


def test_no_rounding_keeps_values_above_threshold():
    assert protect_counts([3, 8, 11], DisclosurePolicy(rounding="none")) == [None, 8, 11]


@given(st.lists(st.one_of(st.none(), st.integers(min_value=0, max_value=10**6))))
def test_no_published_count_is_small_or_unrounded(values):
    for policy in (DEFAULT, DisclosurePolicy(suppress_at_or_below=10, rounding_base=10)):
        for original, out in zip(values, protect_counts(values, policy), strict=True):
            if out is None:
                continue
            assert (original is not None and original > policy.suppress_at_or_below) or (
                original == 0 and out == 0
            )
            assert is_possible_protected_count(out, policy)


def test_possible_protected_values_under_the_default():
    possible = [v for v in range(31) if is_possible_protected_count(v, DEFAULT)]
    assert possible == [10, 15, 20, 25, 30]  # #16: zero is no longer publishable by default
    possible = [v for v in range(31) if is_possible_protected_count(v, ZEROS_ALLOWED)]
    assert possible == [0, 10, 15, 20, 25, 30]


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([1, 2.5], "value 1: expected a count (a whole number >= 0), got 2.5 (float)"),
        ([True], "value 0: expected a count"),
        (["8"], "value 0: expected a count (a whole number >= 0), got '8' (str)"),
        ([4, -1], "value 1: expected a count (a whole number >= 0), got -1"),
    ],
)
def test_bad_values_raise_naming_the_position(values, expected):
    with pytest.raises(TableError) as caught:
        protect_counts(values, DEFAULT)
    assert expected in str(caught.value)
