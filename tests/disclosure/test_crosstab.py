"""protect_crosstab / protect_with_total: suppression, secondary suppression and rounding of a
table published with its totals."""

import pytest

from fedsafe.disclosure import DisclosurePolicy, TableError
from fedsafe.disclosure.crosstab import protect_crosstab, protect_with_total

POLICY = DisclosurePolicy()


def test_single_small_cell_gets_a_rectangle_of_complements():
    """One small cell in a 3x3 table: the cheapest protection is the classic rectangle of four
    suppressed cells described for cell suppression by Hundepool et al., Statistical
    Disclosure Control (2012), section 5.2 (the values here are our own)."""
    table = protect_crosstab([[3, 20, 30], [15, 40, 22], [18, 25, 60]], POLICY)
    assert table.primary == {(0, 0)}
    assert len(table.complementary) == 3
    hidden = table.primary | table.complementary
    rows = {r for r, _ in hidden}
    columns = {c for _, c in hidden}
    assert len(rows) == 2 and len(columns) == 2  # a rectangle: the cheapest cycle
    assert table.grid()[0][0] is None
    assert table.grand_total == 235  # 233 rounded to 5


def test_one_dimensional_table_with_total():
    values, total = protect_with_total([3, 50, 60], POLICY)
    assert values == [None, None, 60]
    assert total == 115
    assert protect_with_total([30, 50, 60], POLICY) == ([30, 50, 60], 140)


def test_secondary_suppression_can_be_switched_off():
    policy = DisclosurePolicy(secondary_suppression=False)
    table = protect_crosstab([[3, 20], [15, 40]], policy)
    assert table.complementary == frozenset()
    assert table.cells == ((None, 20), (15, 40))


def test_small_totals_are_suppressed_too():
    table = protect_crosstab([[2, 3], [1, 2]], POLICY)  # row totals 5, 3; column totals 3, 5
    assert table.grid() == [[None, None, None], [None, None, None], [None, None, 10]]


@pytest.mark.parametrize(
    ("cells", "message"),
    [
        ([[1, 2], [3]], "row 1 has 1 cells; row 0 has 2"),
        ([[1, 2.0]], "row 0, column 1: expected a count"),
        ([[1, None]], "row 0 has a missing count"),
        ([], "at least one row and one column"),
        ([[1, -2]], "row 0, column 1: expected a count (a whole number >= 0), got -2"),
    ],
)
def test_bad_tables_are_refused(cells, message):
    with pytest.raises(TableError) as caught:
        protect_crosstab(cells, POLICY)
    assert message in str(caught.value)
