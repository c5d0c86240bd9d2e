"""Secondary suppression, tested as attacks: an intruder who sees every published cell exactly
and all totals tries to recover each suppressed cell, and fails."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from disclosure.attacker import exactly_recovered, feasible_interval
from fedsafe.disclosure import DisclosurePolicy
from fedsafe.disclosure.crosstab import protect_crosstab, protect_with_total
from fedsafe.disclosure.secondary import complementary_cells, determined_cells

POLICY = DisclosurePolicy()


def with_totals(cells):
    grid = [[*row, sum(row)] for row in cells]
    return [*grid, [sum(col) for col in zip(*grid, strict=True)]]


def hidden_cells(table):
    return table.primary | table.complementary


def test_primary_suppression_alone_is_recovered_by_differencing():
    """The attack the rule exists for: one hidden cell in a row = row total minus the rest."""
    grid = with_totals([[3, 20, 30], [15, 40, 22], [18, 25, 60]])
    assert exactly_recovered(grid, {(0, 0)}) == {(0, 0)}
    assert determined_cells({(0, 0)}) == {(0, 0)}


def test_two_per_line_is_not_enough():
    """Two 2x2 blocks of suppressions joined through one cell: every row and column has two
    suppressed cells, yet the joining cell (2, 2) is fixed by the totals. The usual
    'at least two per line' check passes this table; the intruder still wins."""
    cells = [[9, 9, 0, 0], [9, 9, 0, 0], [0, 9, 9, 9], [0, 0, 9, 9], [0, 0, 9, 9]]
    grid = with_totals(cells)
    hidden = {(0, 0), (0, 1), (1, 0), (1, 1), (2, 1), (2, 2), (3, 2), (3, 3), (4, 2), (4, 3)}
    for line in range(5):
        assert sum(1 for r, _ in hidden if r == line) >= 2
        assert line == 4 or sum(1 for _, c in hidden if c == line) >= 2
    assert (2, 1) in exactly_recovered(grid, hidden)
    assert (2, 1) in determined_cells(hidden)
    repaired = hidden | complementary_cells(grid, hidden)
    assert exactly_recovered(grid, repaired) == set()


def test_worked_example_hundepool_style_table():
    """A 3x3 frequency table with one small cell, in the style of the worked examples of
    Hundepool et al., Statistical Disclosure Control (2012), section 5.2 (cell suppression):
    the small cell needs three complements forming a rectangle with it."""
    table = protect_crosstab([[3, 20, 30], [15, 40, 22], [18, 25, 60]], POLICY)
    assert table.primary == {(0, 0)}
    assert len(table.complementary) == 3
    hidden = hidden_cells(table)
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


tables = st.integers(min_value=1, max_value=5).flatmap(
    lambda rows: st.integers(min_value=1, max_value=5).flatmap(
        lambda columns: st.lists(
            st.lists(
                st.one_of(st.integers(0, 9), st.integers(0, 60)),
                min_size=columns,
                max_size=columns,
            ),
            min_size=rows,
            max_size=rows,
        )
    )
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables)
def test_no_suppressed_cell_can_be_recovered_by_differencing(cells):
    """Property: for generated tables, no hidden cell follows from the published numbers,
    and (counts being non-negative) each could be at least one more or one less."""
    table = protect_crosstab(cells, POLICY)
    grid = with_totals(cells)
    hidden = hidden_cells(table)
    assert exactly_recovered(grid, hidden) == set()
    for r, c in hidden:
        low, high = feasible_interval(grid, hidden, (r, c))
        true = grid[r][c]
        assert low <= true - 1 and high >= true + 1, (r, c, true, low, high)
    for r, row in enumerate(table.grid()):
        for c, value in enumerate(row):
            if (r, c) in hidden:
                assert value is None
            else:
                assert value is not None
                assert grid[r][c] == 0 or grid[r][c] > 7


@settings(max_examples=60, deadline=None)
@given(tables, st.integers(min_value=1, max_value=15))
def test_no_recovery_under_other_thresholds(cells, threshold):
    policy = DisclosurePolicy(suppress_at_or_below=threshold)
    table = protect_crosstab(cells, policy)
    assert exactly_recovered(with_totals(cells), hidden_cells(table)) == set()


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
    from fedsafe.disclosure import TableError

    with pytest.raises(TableError) as caught:
        protect_crosstab(cells, POLICY)
    assert message in str(caught.value)
