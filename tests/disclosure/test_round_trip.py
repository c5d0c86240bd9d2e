"""Whatever fedsafe's own producers write, its checker passes: generated inputs, real files."""

import random

import pyarrow as pa
import pyarrow.csv
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from disclosure.attacker import exactly_recovered
from fedsafe.disclosure import DisclosurePolicy, protect_measure_table, write_sidecar
from fedsafe.disclosure.checker import check_output_file
from fedsafe.disclosure.findings import Status
from fedsafe.disclosure.safe import safe_crosstab
from fedsafe.disclosure.writing import write_protected_table

POLICIES = st.sampled_from(
    [
        DisclosurePolicy(),
        DisclosurePolicy(rounding="midpoint", suppress_at_or_below=0),
        DisclosurePolicy(suppress_at_or_below=10, rounding_base=10),
    ]
)
COUNT = st.one_of(st.integers(0, 12), st.integers(0, 10_000))
SETTINGS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@SETTINGS
@given(st.lists(st.tuples(COUNT, COUNT), min_size=1, max_size=12), POLICIES)
def test_protected_measures_pass_the_checker(tmp_path, rows, policy):
    table = pa.table(
        {
            "measure": ["m"] * len(rows),
            "group": [f"g{i}" for i in range(len(rows))],
            "numerator": pa.array([n for n, _ in rows], pa.int64()),
            "denominator": pa.array([d for _, d in rows], pa.int64()),
        }
    )
    protected, record = protect_measure_table(table, policy)
    output = tmp_path / "measures.csv"
    write_protected_table(protected, output, record)
    report = check_output_file(output, policy)
    assert report.status is Status.PASS, report.to_dict()


@SETTINGS
@given(st.integers(1, 4), st.integers(1, 4), st.integers(0, 2**32))
def test_written_crosstabs_pass_and_resist_differencing(tmp_path, n_rows, n_columns, seed):
    generator = random.Random(seed)
    size = generator.randint(0, 120)
    rows = [generator.randrange(n_rows) for _ in range(size)]
    columns = [generator.randrange(n_columns) for _ in range(size)]
    output = tmp_path / "crosstab.csv"
    table = safe_crosstab(rows, columns, output, row_name="r")
    report = check_output_file(output, DisclosurePolicy())
    assert report.status is Status.PASS, report.to_dict()
    # Attack the file as written: hidden cells, with the true counts known exactly elsewhere.
    row_keys, column_keys = sorted(set(rows)), sorted(set(columns))
    if not row_keys:
        return
    true = [[sum(1 for a, b in zip(rows, columns) if (a, b) == (r, c)) for c in column_keys]
            for r in row_keys]  # fmt: skip
    grid = [[*line, sum(line)] for line in true]
    grid.append([sum(column) for column in zip(*grid)])
    published = [[table.column(name)[i].as_py() for name in table.column_names[1:]]
                 for i in range(table.num_rows)]  # fmt: skip
    hidden = {(r, c) for r, line in enumerate(published) for c, v in enumerate(line) if v is None}
    assert exactly_recovered(grid, hidden) == set()


def test_write_sidecar_for_a_table_written_elsewhere(tmp_path):
    """A producer that writes the table its own way and adds the sidecar after."""
    protected, record = protect_measure_table(
        pa.table({"numerator": [20], "denominator": [40]}), DisclosurePolicy()
    )
    output = tmp_path / "m.csv"
    pyarrow.csv.write_csv(protected, str(output))
    write_sidecar(output, record)
    assert check_output_file(output, DisclosurePolicy()).status is Status.PASS
