"""An intruder who knows every published cell of a table with totals *exactly* (stronger than
the real one, who sees rounded values) and tries to recover the suppressed cells.

Written independently of fedsafe's suppression code: it knows nothing about graphs or bridges,
only the table's additivity equations, which it solves with linear algebra (exact recovery)
and with linear programming (the tightest interval each hidden count must lie in, using that
counts are non-negative). The constraint matrix of a table with margins is totally unimodular,
so the LP's bounds are the integer bounds.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linprog


def _equations(grid, hidden):
    """A x = b over the hidden cells, with published cells moved to the right-hand side."""
    rows, columns = len(grid), len(grid[0])
    unknowns = sorted(hidden)
    index = {cell: k for k, cell in enumerate(unknowns)}
    lines = []
    # Each body row sums to its total; each column (the totals column too) to its total.
    for r in range(rows - 1):
        lines.append([((r, c), 1) for c in range(columns - 1)] + [((r, columns - 1), -1)])
    for r in [rows - 1]:
        lines.append([((r, c), 1) for c in range(columns - 1)] + [((r, columns - 1), -1)])
    for c in range(columns):
        lines.append([((r, c), 1) for r in range(rows - 1)] + [((rows - 1, c), -1)])
    a = np.zeros((len(lines), len(unknowns)))
    b = np.zeros(len(lines))
    for i, line in enumerate(lines):
        for cell, sign in line:
            if cell in index:
                a[i, index[cell]] += sign
            else:
                b[i] -= sign * grid[cell[0]][cell[1]]
    return unknowns, a, b


def exactly_recovered(grid, hidden):
    """Hidden cells whose values follow from the published cells by linear algebra alone."""
    unknowns, a, _ = _equations(grid, hidden)
    rank = np.linalg.matrix_rank(a)
    found = set()
    for k, cell in enumerate(unknowns):
        unit = np.zeros((1, len(unknowns)))
        unit[0, k] = 1
        if np.linalg.matrix_rank(np.vstack([a, unit])) == rank:
            found.add(cell)
    return found


def feasible_interval(grid, hidden, cell):
    """The smallest and largest value ``cell`` can take in any non-negative table that agrees
    with everything published."""
    unknowns, a, b = _equations(grid, hidden)
    k = unknowns.index(cell)
    objective = np.zeros(len(unknowns))
    objective[k] = 1
    bounds = [(0, None)] * len(unknowns)
    low = linprog(objective, A_eq=a, b_eq=b, bounds=bounds, method="highs")
    high = linprog(-objective, A_eq=a, b_eq=b, bounds=bounds, method="highs")
    assert low.status == 0, low.message
    return low.fun, (-high.fun if high.status == 0 else float("inf"))
