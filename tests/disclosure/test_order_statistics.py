"""Extremes, percentiles and identical values (#16 points 1 and 3), tested as attacks.

ACRO passes a table of maxima and the mode of a group whose values are all equal; the SDC
Handbook (Hundepool et al. 2012, 4.3 on extreme values; 5.2 on group disclosure) and
SACRO's own statbarn guidance class maxima/minima as "unsafe" and percentiles as safe only with
enough observations around them. fedsafe fails them unless the counts show otherwise.
"""

import json

import pytest

from fedsafe.disclosure import DisclosurePolicy, TableError
from fedsafe.disclosure.checker import check_output_file
from fedsafe.disclosure.findings import Status
from fedsafe.disclosure.order_statistics import percentile, statistic_of
from fedsafe.disclosure.safe import safe_summary_table

POLICY = DisclosurePolicy()


def write(tmp_path, name, text, sidecar=None):
    path = tmp_path / name
    path.write_text(text)
    if sidecar is not None:
        (tmp_path / f"{name}.disclosure.json").write_text(json.dumps(sidecar))
    return path


def failures(report):
    return [(f.rule, f.row, f.column) for f in report.findings if f.status is Status.FAIL]


def test_a_table_of_maxima_never_passes_and_names_column_and_group(tmp_path):
    """Attack: the maximum age per practice is one patient's age, however big the practice."""
    path = write(tmp_path, "t.csv", "practice,n,max_age\nA,1000,104\nB,[REDACTED],[REDACTED]\n")
    report = check_output_file(path, POLICY)
    assert failures(report) == [("order_statistic", 1, "max_age")]
    (fail,) = [f for f in report.findings if f.status is Status.FAIL]
    assert "max in column 'max_age' for practice='A'" in fail.reason
    assert "inferred" in fail.reason  # said so: the kind came from the name


@pytest.mark.parametrize("column", ["min_bmi", "minimum", "age_max", "Maximum"])
def test_minima_and_maxima_are_recognised_by_name(tmp_path, column):
    path = write(tmp_path, "t.csv", f"g,{column}\nA,12.5\n")
    assert failures(check_output_file(path, POLICY)) == [("order_statistic", 1, column)]


def test_median_without_recorded_side_counts_fails(tmp_path):
    """A hand-made median: nothing shows more than 7 patients lie on each side."""
    path = write(tmp_path, "t.csv", "g,median_cost,p90_cost\nA,120.0,300.0\n")
    assert failures(check_output_file(path, POLICY)) == [
        ("order_statistic", 1, "median_cost"),
        ("order_statistic", 1, "p90_cost"),
    ]


def test_sidecar_cannot_label_a_maximum_as_a_label_to_escape(tmp_path):
    sidecar = {"columns": {"g": "label", "max_age": "label"}}
    path = write(tmp_path, "t.csv", "g,max_age\nA,104\n", sidecar)
    assert check_output_file(path, POLICY).status is Status.NEEDS_REVIEW


def test_percentile_with_few_patients_beyond_it_fails_even_in_a_big_group(tmp_path):
    """Attack: p95 of 100 patients has 5 above it; the helper withholds it, and a sidecar
    recording 5 makes the checker fail a hand-published value."""
    groups, values = ["A"] * 100, list(range(100))
    table = safe_summary_table(groups, values, tmp_path / "s.csv", statistics=["median", "p95"])
    assert table.column("p95_value").to_pylist() == [None]
    assert table.column("median_value").to_pylist() == [49.5]
    assert check_output_file(tmp_path / "s.csv", POLICY).status is Status.PASS
    sidecar = json.loads((tmp_path / "s.csv.disclosure.json").read_text())
    rule = next(r for r in sidecar["rules_applied"] if r.get("statistic") == "p95")
    assert rule["fewest_either_side"] == [None]
    rule["fewest_either_side"] = [5]
    (tmp_path / "h.csv.disclosure.json").write_text(json.dumps(sidecar))
    (tmp_path / "h.csv").write_text("group,n,median_value,p95_value\nA,100,49.5,94.05\n")
    report = check_output_file(tmp_path / "h.csv", POLICY)
    assert failures(report) == [("order_statistic", 1, "p95_value")]
    assert "has 5 patients on its sparser side" in str(report.findings)


def test_recorded_counts_are_checked_against_the_checking_policy(tmp_path):
    """A median made under threshold 7 (8 on each side) fails a backend whose threshold is 10."""
    groups, values = ["A"] * 17, list(range(17))
    safe_summary_table(groups, values, tmp_path / "s.csv", statistics=["median"], policy=POLICY)
    assert check_output_file(tmp_path / "s.csv", POLICY).status is Status.PASS
    stricter = DisclosurePolicy(suppress_at_or_below=10, rounding_base=10)
    assert ("order_statistic", 1, "median_value") in failures(
        check_output_file(tmp_path / "s.csv", stricter)
    )


def test_helper_refuses_minimum_and_maximum():
    for stat in ("min", "max", "maximum"):
        with pytest.raises(TableError, match="never safe to publish"):
            safe_summary_table(["A"], [1.0], "unused.csv", statistics=[stat])
    with pytest.raises(TableError, match="unknown statistic 'mode'"):
        safe_summary_table(["A"], [1.0], "unused.csv", statistics=["mode"])
    with pytest.raises(TableError, match="given twice"):
        safe_summary_table(["A"], [1.0], "unused.csv", statistics=["median", "p50"])


def test_identical_values_withhold_every_statistic_and_flag_it(tmp_path):
    """Attack: all 30 patients in group A have the same value; mean, median and SD each give
    it away (an SD of 0 says so). ACRO passes this mean."""
    groups = ["A"] * 30 + ["B"] * 30
    values = [5.0] * 30 + [float(v) for v in range(30)]
    table = safe_summary_table(
        groups, values, tmp_path / "s.csv", statistics=["mean", "median", "sd"]
    )
    rows = table.to_pylist()
    assert rows[0] == {
        "group": "A",
        "n": 30,
        "mean_value": None,
        "median_value": None,
        "sd_value": None,
    }
    assert rows[1]["mean_value"] == 14.5 and rows[1]["sd_value"] > 0
    assert check_output_file(tmp_path / "s.csv", POLICY).status is Status.PASS
    # The same file with group A's mean put back by hand fails on the recorded flag.
    text = (tmp_path / "s.csv").read_text().splitlines()
    text[1] = '"A",30,5,,'
    (tmp_path / "s.csv").write_text("\n".join(text) + "\n")
    assert failures(check_output_file(tmp_path / "s.csv", POLICY)) == [
        ("identical_values", 1, "mean_value")
    ]


def test_zero_spread_beside_a_mean_fails(tmp_path):
    """Hand-made: a group's SD (or IQR, range) of 0 reveals every member's value."""
    path = write(tmp_path, "t.csv", "g,n,mean_age,sd_age,iqr_age\nA,30,41.0,0,0\nB,40,50.5,3.2,4\n")
    assert failures(check_output_file(path, POLICY)) == [
        ("identical_values", 1, "sd_age"),
        ("identical_values", 1, "iqr_age"),
    ]


def test_statistic_names_and_percentiles():
    assert [statistic_of(n) for n in ["age_p90", "q1", "Q3", "p50", "pct5", "maximum", "age"]] == [
        "p90", "p25", "p75", "median", "p5", "max", None,
    ]  # fmt: skip
    assert percentile([1.0, 2.0, 3.0, 4.0], "median") == 2.5
    assert percentile([10.0, 0.0, 5.0], "p50") == 5.0 and percentile([1.0, 9.0], "p75") == 7.0


def test_bad_values_are_refused_naming_the_item(tmp_path):
    with pytest.raises(TableError, match=r"values, item 1: expected a finite number, got nan"):
        safe_summary_table(["A", "A"], [1.0, float("nan")], tmp_path / "s.csv")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("sidecar", "expected"),
    [
        # a bare mode: nothing shows the group's values are not all the same
        (None, [("order_statistic", 1, "mode_score"), ("order_statistic", 2, "mode_score")]),
        # the producer recorded which groups are all-equal: only that row fails
        (
            {
                "columns": {"group": "label", "mode_score": "order_statistic"},
                "rules_applied": [
                    {
                        "rule": "identical_values",
                        "columns": ["mode_score"],
                        "all_equal": [False, True],
                    }
                ],
            },
            [("identical_values", 2, "mode_score")],
        ),
    ],
)
def test_a_mode_fails_unless_identical_values_are_ruled_out(tmp_path, sidecar, expected):
    """Attack (ACRO passes it): the mode of group b, whose members all scored 5, is every
    member's score."""
    path = write(tmp_path, "t.csv", "group,mode_score\na,2\nb,5\n", sidecar)
    assert failures(check_output_file(path, POLICY)) == expected
    assert statistic_of("modal_age") == "mode"
