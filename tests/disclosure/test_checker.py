"""The output checker: per-file findings with reasons and cell locations."""

import gzip
import json

import pyarrow as pa
import pyarrow.ipc
import pyarrow.parquet as pq
import pytest

from fedsafe.disclosure import DisclosurePolicy, OutputFileError, protect_measure_table
from fedsafe.disclosure.checker import check_output_file
from fedsafe.disclosure.findings import Status
from fedsafe.disclosure.sidecar import write_sidecar

POLICY = DisclosurePolicy()
OLD_RULES = DisclosurePolicy(allow_zero_cells=True, allow_full_cells=True)  # before #16


def write(tmp_path, name, text, sidecar=None):
    path = tmp_path / name
    path.write_text(text)
    if sidecar is not None:
        (tmp_path / f"{name}.disclosure.json").write_text(json.dumps(sidecar))
    return path


def failures(report):
    return [(f.rule, f.row, f.line, f.column) for f in report.findings if f.status is Status.FAIL]


def test_safe_counts_pass_and_say_the_kind_was_inferred(tmp_path):
    path = write(tmp_path, "t.csv", "region,n\nNorth,15\nSouth,[REDACTED]\nEast,0\n")
    report = check_output_file(path, OLD_RULES)
    assert report.status is Status.PASS
    (finding,) = report.findings
    assert finding.column == "n" and finding.inferred
    assert "inferred" in finding.reason and "1 suppressed" in finding.reason


def test_small_and_unrounded_counts_fail_with_cell_locations(tmp_path):
    path = write(tmp_path, "t.csv", "region,n,d\nNorth,15,100\nSouth,5,101\nEast,12,40\n")
    report = check_output_file(path, POLICY)
    assert report.status is Status.FAIL
    assert failures(report) == [
        ("small_number_suppression", 2, 3, "n"),
        ("rounding", 3, 4, "n"),
        ("rounding", 2, 3, "d"),
    ]
    reasons = [f.reason for f in report.findings]
    assert any("count 5 is at or below 7 and not redacted" in r for r in reasons)
    assert any("count 12 is not rounded to the nearest 5" in r for r in reasons)


def test_midpoint_policy_checks_midpoint_values(tmp_path):
    policy = DisclosurePolicy(rounding="midpoint", suppress_at_or_below=0, allow_zero_cells=True)
    path = write(tmp_path, "t.csv", "n\n3\n9\n0\n10\n")
    assert failures(check_output_file(path, policy)) == [("rounding", 4, 5, "n")]


def test_suppressed_cell_recoverable_from_the_total_fails(tmp_path):
    """Attack: a redacted cell in a table that publishes its total is the total minus the
    rest. The checker works that out from the pattern of redactions and fails the cell."""
    path = write(tmp_path, "t.csv", "group,n\nA,[REDACTED]\nB,40\nTotal,45\n")
    report = check_output_file(path, POLICY)
    assert failures(report) == [("secondary_suppression", 1, 2, "n")]
    assert "recovered from the published totals" in report.findings[-1].reason


def test_two_suppressed_cells_beside_a_total_pass(tmp_path):
    path = write(tmp_path, "t.csv", "group,n\nA,[REDACTED]\nB,40\nC,\nTotal,50\n")
    report = check_output_file(path, POLICY)
    assert report.status is Status.PASS
    assert report.findings[-1].rule == "secondary_suppression"
    assert "none of the 2 suppressed cell(s) can be recovered" in report.findings[-1].reason


def test_two_way_table_redactions_checked_from_the_pattern(tmp_path):
    """True table A = (10, 10, 20), B = (15, 10, 30), C = (15, 15, 10). Hiding A and B under x
    and y (a rectangle) leaves one unknown the totals cannot fix: pass. Publishing B's y
    (10) lets an intruder solve B's x from row B's total, then A's x, then A's y: all three
    fail."""
    text = "g,x,y,z,Total\nA,,,20,40\nB,,,30,55\nC,15,15,10,40\nTotal,40,35,60,135\n"
    assert check_output_file(write(tmp_path, "a.csv", text), POLICY).status is Status.PASS
    broken = text.replace("B,,,30,55", "B,,10,30,55")
    report = check_output_file(write(tmp_path, "b.csv", broken), POLICY)
    assert sorted(failures(report)) == [
        ("secondary_suppression", 1, 2, "x"),
        ("secondary_suppression", 1, 2, "y"),
        ("secondary_suppression", 2, 3, "x"),
    ]


def test_totals_in_a_table_of_unknown_shape_need_review(tmp_path):
    path = write(tmp_path, "t.csv", "sex,age,n\nF,young,[REDACTED]\nF,old,40\nAll,All,45\n")
    report = check_output_file(path, POLICY)
    assert report.status is Status.NEEDS_REVIEW
    assert report.findings[-1].rule == "secondary_suppression"
    assert "row 3 of column 'sex' is 'All'" in report.findings[-1].reason


def test_sidecar_says_which_columns_are_counts(tmp_path):
    """Without the sidecar 'code' would be taken for a count and fail rounding; with it, it is
    a label, and findings about 'n' are not marked inferred."""
    path = write(
        tmp_path, "t.csv", "code,n\nA12,10\nB07,3\n",
        {"columns": {"code": "label", "n": "count"}},
    )  # fmt: skip
    report = check_output_file(path, POLICY)
    assert failures(report) == [("small_number_suppression", 2, 3, "n")]
    assert not any(f.inferred for f in report.findings)
    assert [f.column for f in report.findings] == ["n"]


def test_numbers_called_labels_by_a_sidecar_need_review(tmp_path):
    """Attack: a sidecar that calls a count column a label to switch its checks off."""
    path = write(tmp_path, "t.csv", "region,n\nA,3\nB,4\n", {"columns": {"n": "label"}})
    report = check_output_file(path, POLICY)
    assert report.status is Status.NEEDS_REVIEW
    review = [f for f in report.findings if f.status is Status.NEEDS_REVIEW]
    assert [(f.rule, f.column) for f in review] == [("declared_label", "n")]
    unlabelled = check_output_file(write(tmp_path, "u.csv", "year,n\n2021,10\n"), POLICY)
    assert ("rounding", 1, 2, "year") in failures(unlabelled)


def test_measures_output_is_safe_by_construction(tmp_path):
    table = pa.table({
        "measure": ["m", "m", "m"], "numerator": [3, 40, 17], "denominator": [100, 80, 41],
    })  # fmt: skip
    protected, record = protect_measure_table(table, POLICY)
    path = tmp_path / "measures.arrow"
    with pa.OSFile(str(path), "wb") as sink, pyarrow.ipc.new_file(sink, protected.schema) as w:
        w.write_table(protected)
    write_sidecar(path, record)
    report = check_output_file(path, POLICY)
    assert report.status is Status.PASS, report
    assert {f.column for f in report.findings} == {"numerator", "denominator", "ratio"}
    assert any("recorded in its sidecar" in f.reason for f in report.findings)


def test_raw_ratio_beside_protected_counts_fails(tmp_path):
    """Attack: a ratio kept from the raw counts (13/17) gives them back next to rounded ones."""
    sidecar = {
        "columns": {"numerator": "count", "denominator": "count", "ratio": "derived"},
        "rules_applied": [{"rule": "derived_from_protected", "columns": ["ratio"],
                           "from": ["numerator", "denominator"],
                           "how": "numerator / denominator"}],
    }  # fmt: skip
    path = write(tmp_path, "m.csv", "numerator,denominator,ratio\n15,15,0.7647\n", sidecar)
    report = check_output_file(path, OLD_RULES)
    assert failures(report) == [("derived", 1, 2, "ratio")]


def test_ratio_published_for_a_suppressed_count_fails(tmp_path):
    sidecar = {
        "columns": {"numerator": "count", "denominator": "count", "ratio": "derived"},
        "rules_applied": [{"rule": "derived_from_protected", "columns": ["ratio"],
                           "from": ["numerator", "denominator"], "how": "other"}],
    }  # fmt: skip
    path = write(tmp_path, "m.csv", "numerator,denominator,ratio\n,15,0.2\n", sidecar)
    assert failures(check_output_file(path, POLICY)) == [("derived", 1, 2, "ratio")]


def test_magnitudes_and_fractions_need_review(tmp_path):
    path = write(
        tmp_path, "t.csv", "region,cost,mean_age\nN,1200.5,40.2\nS,88000.25,51.0\n",
        {"columns": {"region": "label", "cost": "magnitude"}},
    )  # fmt: skip
    report = check_output_file(path, POLICY)
    assert report.status is Status.NEEDS_REVIEW
    by_column = {f.column: f for f in report.findings}
    assert by_column["cost"].rule == "dominance" and not by_column["cost"].inferred
    assert by_column["mean_age"].rule == "unclassified" and by_column["mean_age"].inferred


def test_model_residual_degrees_of_freedom(tmp_path):
    path = write(tmp_path, "model.csv", "term,estimate,df_resid\nage,0.3,9\nsex,0.1,120\n")
    report = check_output_file(path, POLICY)
    assert failures(report) == [("residual_degrees_of_freedom", 1, 2, "df_resid")]


def test_small_range_marker_needs_review_and_keeps_column_a_count(tmp_path):
    path = write(tmp_path, "t.csv", "n\n<8\n3\n")
    report = check_output_file(path, POLICY)
    assert report.status is Status.FAIL
    assert failures(report) == [("small_number_suppression", 2, 3, "n")]
    assert any(f.status is Status.NEEDS_REVIEW and "'<8'" in f.reason for f in report.findings)


def test_parquet_and_gzip_are_read(tmp_path):
    pq.write_table(pa.table({"n": pa.array([4, None], pa.int64())}), tmp_path / "t.parquet")
    report = check_output_file(tmp_path / "t.parquet", POLICY)
    assert failures(report) == [("small_number_suppression", 1, None, "n")]
    (tmp_path / "g.csv.gz").write_bytes(gzip.compress(b"n\n20\n"))
    assert check_output_file(tmp_path / "g.csv.gz", POLICY).status is Status.PASS


BAD_FILES = [
    ("t.csv", "a,b\n1,2\n3\n", None, "t.csv, line 3: 1 fields, but the header has 2"),
    ("t.csv", "", None, "empty file; expected a header line"),
    ("t.csv", "a,a\n1,2\n", None, "line 1: column names must be unique"),
    ("t.csv", 'a\n"unclosed\n', None, "malformed CSV"),
    (
        "t.csv", "n\n10\nmany\n", {"columns": {"n": "count"}},
        "t.csv, line 3, column 'n': expected a whole number >= 0 (the sidecar says this "
        "column holds counts), got 'many'",
    ),
    ("t.csv", "n\n10.5\n", {"columns": {"n": "count"}}, "line 2, column 'n'"),
    ("t.csv", "n\n10\n", {"columns": {"m": "count"}}, "names column 'm' that"),
    ("t.csv", "n\n10\n", {"columns": {"n": "count"}, "extra": 1}, "unknown key 'extra'"),
    ("t.arrow", "not arrow", None, "not a readable table"),
]  # fmt: skip


@pytest.mark.parametrize(("name", "text", "sidecar", "expected"), BAD_FILES)
def test_bad_files_raise_clear_errors(tmp_path, name, text, sidecar, expected):
    path = write(tmp_path, name, text, sidecar)
    before = sorted((p.name, p.read_bytes()) for p in tmp_path.iterdir())
    with pytest.raises(OutputFileError) as caught:
        check_output_file(path, POLICY)
    assert expected in str(caught.value)
    assert sorted((p.name, p.read_bytes()) for p in tmp_path.iterdir()) == before


def test_missing_file(tmp_path):
    with pytest.raises(OutputFileError, match="no such file"):
        check_output_file(tmp_path / "nope.csv", POLICY)


def test_values_rounding_can_produce_pass_even_at_the_threshold(tmp_path):
    """Found by the round-trip property: under threshold 10 and base 10, 11 is kept and
    published as 10, so a 10 must not be called an unredacted small count; a 9 still is."""
    policy = DisclosurePolicy(suppress_at_or_below=10, rounding_base=10)
    path = write(tmp_path, "t.csv", "n\n10\n9\n20\n")
    assert failures(check_output_file(path, policy)) == [("small_number_suppression", 2, 3, "n")]


def test_files_that_are_not_tables_need_review(tmp_path):
    path = write(tmp_path, "figure.png", "not really a png")
    report = check_output_file(path, POLICY)
    assert report.status is Status.NEEDS_REVIEW
    assert report.findings[0].rule == "not_a_table"


def test_folders_are_expanded_without_sidecars_or_hidden_files(tmp_path):
    from fedsafe.disclosure.checker import output_files_in

    write(tmp_path, "a.csv", "n\n10\n", {"columns": {"n": "count"}})
    (tmp_path / "sub").mkdir()
    write(tmp_path / "sub", "b.png", "x")
    write(tmp_path, ".hidden.csv", "n\n3\n")
    assert output_files_in([tmp_path]) == [tmp_path / "a.csv", tmp_path / "sub" / "b.png"]


def test_zero_cell_is_class_disclosure_and_fails_by_default(tmp_path):
    """#16, attack: "none of the men aged 45-49 had X" (SDC Handbook 5.2, group disclosure;
    ONS/GSS guidance on zeros in frequency tables). ACRO passes zeros by default."""
    path = write(tmp_path, "t.csv", "age_band,n\n45-49,0\n50-54,15\n")
    assert failures(check_output_file(path, POLICY)) == [("zero_cell", 1, 2, "n")]
    assert check_output_file(path, DisclosurePolicy(allow_zero_cells=True)).status is Status.PASS
    # suppress_zero still wins over allow_zero_cells: a published zero then fails as before.
    strict = DisclosurePolicy(allow_zero_cells=True, suppress_zero=True)
    assert failures(check_output_file(path, strict)) == [("small_number_suppression", 1, 2, "n")]


def test_full_cell_is_class_disclosure_and_fails_by_default(tmp_path):
    """#16, attack: every one of the 20 women aged 65+ had X: a 100% cell, no small count."""
    path = write(
        tmp_path,
        "t.csv",
        "age_band,had_x,no_x,Total\n18-64,40,60,100\n65+,20,[REDACTED],20\nTotal,60,80,140\n",
    )
    report = check_output_file(path, POLICY)
    assert ("full_cell", 2, 3, "had_x") in failures(report)
    assert any("is all of its row's total 'Total'" in f.reason for f in report.findings)
    allowed = check_output_file(path, DisclosurePolicy(allow_full_cells=True))
    assert "full_cell" not in [f[0] for f in failures(allowed)]


def test_full_ratio_fails_by_default(tmp_path):
    sidecar = {
        "columns": {"numerator": "count", "denominator": "count", "ratio": "derived"},
        "rules_applied": [{"rule": "derived_from_protected", "columns": ["ratio"],
                           "from": ["numerator", "denominator"],
                           "how": "numerator / denominator"}],
    }  # fmt: skip
    path = write(tmp_path, "m.csv", "numerator,denominator,ratio\n15,15,1.0\n20,40,0.5\n", sidecar)
    assert failures(check_output_file(path, POLICY)) == [("full_cell", 1, 2, "ratio")]
    assert check_output_file(path, OLD_RULES).status is Status.PASS


# Issue #16, "bad input": each never passes, and each gets its own reason.
NEVER_PASS = [
    ("header only", "group,n\n", None, "empty_table", "no rows"),
    ("all-null column", "group,n\na,\nb,\n", None, "all_missing", "every value"),
    ("all-redacted column", "group,n\na,[REDACTED]\nb,\n", None, "all_missing", "no sidecar"),
    ("negative counts", "group,n\na,-10\nb,250\n", None, "unclassified", "negatives"),
    ("labels only", "group,label\na,x\nb,y\n", None, "no_statistics", "no column"),
    ("declared labels only", "group\na\n", {"columns": {"group": "label"}}, "no_statistics", ""),
]  # fmt: skip


@pytest.mark.parametrize(("case", "text", "sidecar", "rule", "reason"), NEVER_PASS)
def test_bad_input_never_passes_and_says_why(tmp_path, case, text, sidecar, rule, reason):
    report = check_output_file(write(tmp_path, "t.csv", text, sidecar), POLICY)
    assert report.status is not Status.PASS, case
    found = [f for f in report.findings if f.rule == rule and f.status is not Status.PASS]
    assert found and reason in found[0].reason, (case, report.findings)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("n\n-10\n", "expected a whole number >= 0"),  # negative, declared a count
        ("n\nmany\n", "expected a whole number >= 0"),  # not a number, declared a count
    ],
)
def test_declared_counts_that_are_not_counts_are_errors(tmp_path, text, expected):
    with pytest.raises(OutputFileError, match=expected):
        check_output_file(write(tmp_path, "t.csv", text, {"columns": {"n": "count"}}), POLICY)
