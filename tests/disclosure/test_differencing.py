"""The checker's differencing check agrees with an independent intruder on generated tables."""

import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from disclosure.attacker import exactly_recovered
from fedsafe.disclosure import DisclosurePolicy
from fedsafe.disclosure.checker import check_output_file
from fedsafe.disclosure.differencing import table_shape
from fedsafe.disclosure.findings import Status

# Any positive value is publishable, so only the differencing check can fail.
ANYTHING_GOES = DisclosurePolicy(suppress_at_or_below=0, rounding="none")


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.integers(1, 4), st.integers(1, 4), st.integers(0, 2**32), st.booleans())
def test_checker_fails_exactly_the_cells_an_intruder_recovers(
    tmp_path, n_rows, n_columns, seed, publish_row_totals
):
    generator = random.Random(seed)
    body = [[generator.randint(1, 50) for _ in range(n_columns)] for _ in range(n_rows)]
    grid = [[*row, sum(row)] for row in body]
    grid.append([sum(column) for column in zip(*grid)])
    hidden_body = {
        (r, c) for r in range(n_rows) for c in range(n_columns) if generator.random() < 0.4
    }
    names = [f"c{c}" for c in range(n_columns)] + (["Total"] if publish_row_totals else [])
    lines = [",".join(["group", *names])]
    for r, row in enumerate(grid):
        label = "Total" if r == n_rows else f"g{r}"
        shown = row if publish_row_totals else row[:-1]
        cells = ["" if (r, c) in hidden_body else str(v) for c, v in enumerate(shown)]
        lines.append(",".join([label, *cells]))
    path = tmp_path / "t.csv"
    path.write_text("\n".join(lines) + "\n")

    unpublished = set() if publish_row_totals else {(r, n_columns) for r in range(n_rows + 1)}
    intruder = exactly_recovered(grid, hidden_body | unpublished) & hidden_body
    report = check_output_file(path, ANYTHING_GOES)
    flagged = {
        (f.row - 1, names.index(f.column))
        for f in report.findings
        if f.status is Status.FAIL and f.rule == "secondary_suppression"
    }
    assert flagged == intruder
    assert (report.status is Status.FAIL) == bool(intruder)


def test_shapes_that_are_not_plain_tables():
    assert table_shape({"a": ["x"], "b": ["y"], "n": [1]}, {"a": "label", "b": "label",
                                                            "n": "count"}) is None  # fmt: skip
    assert table_shape({"a": ["Total", "All"], "n": [1, 2]}, {"a": "label", "n": "count"}) is None
    shape = table_shape({"a": ["x", "Total"], "n": [1, 1]}, {"a": "label", "n": "count"})
    assert shape is not None and shape.total_row == 1 and shape.body_rows == (0,)
