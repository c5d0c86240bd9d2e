"""Safe helpers for analysis code: protected as they are made, recognised by the checker."""

import csv

import pytest

from disclosure.attacker import exactly_recovered, feasible_interval
from fedsafe.disclosure import DisclosurePolicy, OutputFileError, TableError, read_sidecar
from fedsafe.disclosure.checker import check_output_file
from fedsafe.disclosure.findings import Status
from fedsafe.disclosure.safe import safe_counts, safe_crosstab, safe_summary_table

POLICY = DisclosurePolicy()


def patients(spec):
    """(row category, column category, how many) triples -> two per-patient lists."""
    rows, columns = [], []
    for row, column, n in spec:
        rows += [row] * n
        columns += [column] * n
    return rows, columns


SPEC = [
    ("0-17", "F", 3), ("0-17", "M", 20), ("18-64", "F", 42), ("18-64", "M", 38),
    ("65+", "F", 25), ("65+", "M", 31),
]  # fmt: skip


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.reader(f))


def test_crosstab_hides_the_small_cell_and_what_would_reveal_it(tmp_path):
    rows, columns = patients(SPEC)
    output = tmp_path / "age_by_sex.csv"
    table = safe_crosstab(rows, columns, output, row_name="age_band")
    assert table.column_names == ["age_band", "F", "M", "Total"]
    written = read_csv(output)
    assert written[0] == ["age_band", "F", "M", "Total"]
    assert written[1][:2] == ["0-17", ""]  # the 3 is redacted
    hidden = {
        (r, c)
        for r, line in enumerate(written[1:])
        for c, value in enumerate(line[1:])
        if value == ""
    }
    assert len(hidden) >= 4
    # Attack with the true table and every published cell exact: nothing is recovered.
    true_grid = [[3, 20, 23], [42, 38, 80], [25, 31, 56], [70, 89, 159]]
    assert exactly_recovered(true_grid, hidden) == set()
    low, high = feasible_interval(true_grid, hidden, (0, 0))
    assert low <= 2 and high >= 4
    # The checker recognises it as safe by construction.
    report = check_output_file(output, POLICY)
    assert report.status is Status.PASS, report
    sidecar = read_sidecar(output)
    assert sidecar is not None
    assert [r["rule"] for r in sidecar.rules_applied] == [
        "small_number_suppression", "secondary_suppression", "rounding",
    ]  # fmt: skip


def test_counts_with_total(tmp_path):
    values = ["a"] * 5 + ["b"] * 30 + ["c"] * 41
    table = safe_counts(values, tmp_path / "c.arrow", name="code")
    assert table.to_pylist() == [
        {"code": "a", "n": None}, {"code": "b", "n": None}, {"code": "c", "n": 40},
        {"code": "Total", "n": 75},
    ]  # fmt: skip
    assert check_output_file(tmp_path / "c.arrow", POLICY).status is Status.PASS


def test_counts_without_secondary_suppression_fail_the_checker(tmp_path):
    """Switching secondary suppression off is allowed by policy, but the checker then finds
    the redacted category is the total minus the others."""
    policy = DisclosurePolicy(secondary_suppression=False)
    values = ["a"] * 5 + ["b"] * 30
    table = safe_counts(values, tmp_path / "c.csv", policy=policy)
    assert table.column("n").to_pylist() == [None, 30, 35]
    report = check_output_file(tmp_path / "c.csv", POLICY)
    assert [(f.rule, f.row) for f in report.findings if f.status is Status.FAIL] == [
        ("secondary_suppression", 1)
    ]


def test_summary_table_hides_dominated_means(tmp_path):
    groups = ["north"] * 20 + ["south"] * 20 + ["east"] * 4
    values = [10.0] * 20 + [1.0] * 19 + [5000.0] + [3.0] * 4
    table = safe_summary_table(groups, values, tmp_path / "s.csv", group_name="region",
                               value_name="cost")  # fmt: skip
    assert table.to_pylist() == [
        {"region": "east", "n": None, "mean_cost": None},
        # #16 changed this row: all 20 values are 10.0, so the mean would give each one.
        {"region": "north", "n": 20, "mean_cost": None},
        {"region": "south", "n": 20, "mean_cost": None},
    ]
    report = check_output_file(tmp_path / "s.csv", POLICY)
    assert report.status is Status.PASS, report


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda out: safe_crosstab([1, 2], [1], out), "rows has 2 values but columns has 1"),
        (lambda out: safe_counts(["a", None], out), "contains a missing value"),
        (lambda out: safe_crosstab(["a"], ["row"], out), "clash"),
        (lambda out: safe_summary_table(["a"], [1, 2], out), "groups has 1 values"),
        (lambda out: safe_summary_table(["a"], ["x"], out), "expected a finite number"),
        (lambda out: safe_summary_table(["a"], [1], out, group_name="n"), "clashes"),
    ],
)
def test_bad_input_writes_nothing(tmp_path, call, message):
    with pytest.raises(TableError, match=message):
        call(tmp_path / "out.csv")
    assert list(tmp_path.iterdir()) == []


def test_bad_output_paths(tmp_path):
    with pytest.raises(OutputFileError, match="cannot write this kind of file"):
        safe_counts(["a"], tmp_path / "out.xlsx")
    with pytest.raises(OutputFileError, match="does not exist"):
        safe_counts(["a"], tmp_path / "missing" / "out.csv")
    assert list(tmp_path.iterdir()) == []


def test_helpers_use_the_backend_policy_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("FEDSAFE_DISCLOSURE_POLICY", '{"suppress_at_or_below": 10}')
    table = safe_counts(["a"] * 9 + ["b"] * 30 + ["c"] * 20, tmp_path / "c.csv")
    assert table.column("n").to_pylist() == [None, 30, None, 60]
