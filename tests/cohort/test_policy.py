"""Safe counts: below 10 -> 0, nearest 10 with halves up, and never anything in 1..9."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fedsafe.cohort.errors import CohortQueryError
from fedsafe.cohort.policy import CohortCountPolicy


@pytest.mark.parametrize(
    ("raw", "safe"),
    [
        (0, 0),
        (1, 0),
        (9, 0),
        (10, 10),
        (14, 10),
        (15, 20),
        (24, 20),
        (25, 30),
        (35, 40),
        (104, 100),
        (105, 110),
    ],
)
def test_default_rule_halves_up(raw, safe):
    assert CohortCountPolicy().safe(raw) == safe


def test_configurable():
    p = CohortCountPolicy(threshold=5, rounding_base=5)
    assert [p.safe(n) for n in (4, 5, 7, 8, 12, 13)] == [0, 5, 5, 10, 10, 15]
    # Nearest 3 would turn 10 into 9, inside 1..9; it is released as 0 instead.
    odd = CohortCountPolicy(threshold=10, rounding_base=3)
    assert [odd.safe(n) for n in (10, 11, 12, 13, 14)] == [0, 12, 12, 12, 15]


@given(
    st.integers(0, 10**7),
    st.integers(1, 50),
    st.integers(1, 100),
)
def test_safe_counts_never_reveal_a_small_number(raw, threshold, base):
    safe = CohortCountPolicy(threshold=threshold, rounding_base=base).safe(raw)
    assert safe == 0 or safe >= threshold
    assert safe % base == 0
    assert abs(safe - raw) <= max(base // 2, threshold)  # close to the truth, or suppressed


@pytest.mark.parametrize(
    ("settings", "path"),
    [
        ({"threshold": 0}, "policy.threshold"),
        ({"rounding_base": 0}, "policy.rounding_base"),
        ({"threshold": 10.0}, "policy.threshold"),
        ({"rounding_base": True}, "policy.rounding_base"),
        ({"auto_release": "yes"}, "policy.auto_release"),
    ],
)
def test_bad_settings(settings, path):
    with pytest.raises(CohortQueryError) as err:
        CohortCountPolicy(**settings)
    assert err.value.path == path
