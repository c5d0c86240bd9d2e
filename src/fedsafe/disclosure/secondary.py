"""Secondary suppression: choose further cells to hide so that no suppressed cell of a 2-D
table can be worked out from the published cells and its row, column and grand totals.

Why the usual rule is not enough. "Every row and column with a suppressed cell has at least two"
is necessary but not sufficient: two blocks of suppressed cells joined through one cell can
still pin that cell down. The sound criterion, used here, comes from writing the table as a
graph (the network view of the cell suppression problem; Willenborg & de Waal, *Elements of
Statistical Disclosure Control*, 2001, ch. 5; Hundepool et al., *Statistical Disclosure
Control*, Wiley 2012, section 5.2 and 5.4):

* every row (the totals row too) and every column (the totals column too) is a node, and every
  suppressed cell an edge between its row and its column;
* flipping the sign of the single-margin cells (row totals and column totals) turns the
  additivity equations into "the edges at each node sum to a known number", so the unknowns
  the published numbers leave free are exactly the cycles of this bipartite graph;
* hence a suppressed cell's value is determined by the published numbers if and only if its
  edge is a *bridge* (lies on no cycle).

The algorithm repeats: find a suppressed cell that is a bridge; join its row and column by the
cheapest path through other cells (already suppressed cells cost nothing, others cost their
value plus one, zeros are avoided while any other path exists), and suppress that path's cells,
which puts the bridge on a cycle. Adding cells never turns a cycle edge into a bridge, so this
ends, and then every suppressed cell lies on a cycle. When every suppressed cell is at least 1
(zeros are not suppressed), moving one unit around that cycle keeps every cell non-negative, so
at least two tables of counts agree with everything published: the attacker cannot tell which.
This is the shortest-path heuristic for cell suppression (as in Castro's and in
tau-ARGUS's "hypercube"/network methods): not optimal in lost information, but sound.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Sequence

__all__ = ["Cell", "complementary_cells", "determined_cells"]

Cell = tuple[int, int]
"""(row, column) in the table with totals: row ``len(rows)`` is the totals row, likewise columns."""

_Node = tuple[str, int]


def complementary_cells(grid: Sequence[Sequence[int]], primary: set[Cell]) -> set[Cell]:
    """The cells to suppress besides ``primary`` so that no suppressed cell is determined.

    ``grid`` is the table *with* its totals: the last row holds the column totals and the last
    column the row totals (the bottom-right cell is the grand total). It must be additive.
    """
    rows, columns = len(grid), len(grid[0])
    # Dearer than any path without zeros, so a zero is used only when nothing else connects.
    zero_cost = sum(map(sum, grid)) + rows * columns + 1
    suppressed = set(primary)
    while True:
        bridge = next(iter(sorted(determined_cells(suppressed))), None)
        if bridge is None:
            return suppressed - set(primary)
        path = _cheapest_path(grid, suppressed, bridge, zero_cost=None)
        if path is None:
            path = _cheapest_path(grid, suppressed, bridge, zero_cost=zero_cost)
        assert path is not None, "a complete bipartite graph with both sides >= 2 is connected"
        suppressed.update(path)


def determined_cells(suppressed: set[Cell]) -> set[Cell]:
    """The suppressed cells whose values the published numbers pin down: the bridges.

    Tarjan's bridge-finding in one depth-first pass (iterative, so large tables cannot exhaust
    Python's recursion limit): an edge to a child is a bridge when nothing below the child
    reaches back above it.
    """
    adjacency: dict[_Node, list[tuple[_Node, Cell]]] = {}
    for r, c in sorted(suppressed):
        adjacency.setdefault(("r", r), []).append((("c", c), (r, c)))
        adjacency.setdefault(("c", c), []).append((("r", r), (r, c)))
    order: dict[_Node, int] = {}
    low: dict[_Node, int] = {}
    bridges: set[Cell] = set()
    for root in adjacency:
        if root in order:
            continue
        order[root] = low[root] = len(order)
        stack: list[tuple[_Node, Cell | None, int]] = [(root, None, 0)]
        while stack:
            node, via, next_edge = stack[-1]
            if next_edge < len(adjacency[node]):
                stack[-1] = (node, via, next_edge + 1)
                child, cell = adjacency[node][next_edge]
                if cell == via:
                    continue
                if child in order:
                    low[node] = min(low[node], order[child])
                else:
                    order[child] = low[child] = len(order)
                    stack.append((child, cell, 0))
                continue
            stack.pop()
            if stack and via is not None:
                parent = stack[-1][0]
                low[parent] = min(low[parent], low[node])
                if low[node] > order[parent]:
                    bridges.add(via)
    return bridges


def _cheapest_path(
    grid: Sequence[Sequence[int]],
    suppressed: set[Cell],
    bridge: Cell,
    *,
    zero_cost: int | None,
) -> set[Cell] | None:
    """Cells (new ones only) on the cheapest row-column path from the bridge's column back to
    its row, not using the bridge itself; None if there is none.

    Suppressed cells cost nothing and others their value plus one (so fewer, smaller cells
    are preferred); zeros cost ``zero_cost``, or cannot be used when it is None: a zero cannot
    go lower, so it protects nothing in one direction.
    """
    rows, columns = len(grid), len(grid[0])
    start, goal = ("c", bridge[1]), ("r", bridge[0])
    best: dict[_Node, float] = {start: 0}
    came_from: dict[_Node, tuple[_Node, Cell]] = {}
    queue: list[tuple[float, _Node]] = [(0, start)]
    while queue:
        cost, node = heapq.heappop(queue)
        if node == goal:
            break
        if cost > best[node]:
            continue
        kind, index = node
        others = range(rows) if kind == "c" else range(columns)
        for other_index in others:
            cell = (other_index, index) if kind == "c" else (index, other_index)
            if cell == bridge:
                continue
            if cell in suppressed:
                step = 0
            elif grid[cell[0]][cell[1]] == 0:
                if zero_cost is None:
                    continue
                step = zero_cost
            else:
                step = grid[cell[0]][cell[1]] + 1
            other = ("r" if kind == "c" else "c", other_index)
            if cost + step < best.get(other, math.inf):
                best[other] = cost + step
                came_from[other] = (node, cell)
                heapq.heappush(queue, (cost + step, other))
    if goal not in came_from:
        return None
    path: set[Cell] = set()
    node = goal
    while node != start:
        node, cell = came_from[node]
        if cell not in suppressed:
            path.add(cell)
    return path
