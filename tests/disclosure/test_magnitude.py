"""Dominance and threshold rules for magnitude tables, with worked examples."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fedsafe.disclosure import DisclosurePolicy, TableError
from fedsafe.disclosure.magnitude import check_magnitude_cell, nk_dominated, p_percent_unsafe

POLICY = DisclosurePolicy()


def test_dominance_worked_example_statistics_finland():
    """Statistics Finland's Tilastokoulu course, "Tutkimusaineistot etäkäytössä", example
    "Dominanssisäännön käyttö suojattavien solujen määrittelyssä 2": a cell of twelve
    observations, largest 61, second 20, the other ten summing to 19 (total 100).
    Published answers: (1, 60) -> must be protected (61% > 60%); (2, 90) -> need not be
    (81% <= 90%); threshold 3 with (1, 60) -> must be protected (by the dominance rule;
    twelve contributors pass the threshold)."""
    cell = [61, 20] + [2] * 9 + [1]
    assert len(cell) == 12 and sum(cell) == 100
    assert nk_dominated(cell, 1, 60)
    assert not nk_dominated(cell, 2, 90)
    verdict = check_magnitude_cell(
        cell, DisclosurePolicy(suppress_at_or_below=2, dominance_n=1, dominance_k=60)
    )
    assert not verdict.safe
    assert not any("contributors" in r for r in verdict.reasons)
    assert any("(n, k) rule" in r for r in verdict.reasons)


def test_p_percent_boundary():
    """Constructed from the rule's definition (Hundepool et al., Statistical Disclosure
    Control, 2012, section 4.2.2), not a published example: contributions 100, 10, 5, 3, 2
    (total 120). The second largest knows the
    total less their own, 110, and so knows the largest is at most 110: an estimate within 10,
    10% of its true value 100. p = 10 is on the boundary (not unsafe: 10 is not under 10); p = 15
    makes it unsafe."""
    cell = [100, 10, 5, 3, 2]
    assert not p_percent_unsafe(cell, 10)
    assert p_percent_unsafe(cell, 15)


def test_nk_worked_example():
    """(n, k) = (2, 90): the two largest of 50, 45, 3, 2 are 95% of the total: dominated;
    with k = 95 they are not *more* than 95%, so not dominated."""
    assert nk_dominated([50, 45, 3, 2], 2, 90)
    assert not nk_dominated([50, 45, 3, 2], 2, 95)
    assert not nk_dominated([10] * 20, 2, 90)


def test_cell_with_few_contributors_fails_threshold_and_names_every_rule():
    verdict = check_magnitude_cell([900, 50, 20], POLICY)
    assert not verdict.safe
    assert any("only 3 contributors" in r for r in verdict.reasons)
    assert any("(n, k) rule" in r for r in verdict.reasons)
    assert any("p% rule" in r for r in verdict.reasons)


def test_balanced_cell_is_safe():
    assert check_magnitude_cell([10, 12, 9, 11, 10, 13, 8, 10, 9, 12], POLICY).safe


def test_all_zero_contributions_are_not_dominated():
    assert not nk_dominated([0, 0, 0], 1, 50)
    assert not p_percent_unsafe([0, 0, 0], 10)


@given(st.lists(st.floats(0, 1e6), min_size=1, max_size=30), st.floats(1, 99))
def test_single_dominant_contributor_is_always_caught(rest, k):
    """Attack: one contributor larger than everyone else together times 100 is identified by
    the total; the (n, k) rule with n=1 must flag it whatever k below 99 is."""
    big = (sum(rest) + 1) * 100
    assert nk_dominated([big, *rest], 1, k)


@pytest.mark.parametrize(
    ("cell", "message"),
    [
        ([1, -2], "contribution 1: dominance rules need non-negative contributions"),
        ([1, "x"], "contribution 1: expected a finite number, got 'x'"),
        ([float("inf")], "contribution 0: expected a finite number"),
    ],
)
def test_bad_contributions_are_refused(cell, message):
    with pytest.raises(TableError) as caught:
        check_magnitude_cell(cell, POLICY, where="region 'North'")
    assert "region 'North'" in str(caught.value) and message in str(caught.value)
