"""protect_measure_table: counts protected per row, the ratio recomputed from them."""

import json

import pyarrow as pa
import pytest

from fedsafe.disclosure import DisclosurePolicy, TableError, protect_measure_table

POLICY = DisclosurePolicy()
ZEROS_ALLOWED = DisclosurePolicy(allow_zero_cells=True, allow_full_cells=True)


def measures(numerators, denominators, ratios=None):
    columns = {
        "measure": ["m"] * len(numerators),
        "region": [f"r{i}" for i in range(len(numerators))],
        "numerator": pa.array(numerators, type=pa.int64()),
        "denominator": pa.array(denominators, type=pa.int64()),
    }
    if ratios is not None:
        columns["ratio"] = pa.array(ratios, type=pa.float64())
    return pa.table(columns)


def test_counts_are_protected_and_ratio_recomputed():
    table = measures([3, 12, 0, 40, 9], [100, 33, 0, 41, 5], [0.03, 12 / 33, None, 40 / 41, 1.8])
    out, record = protect_measure_table(table, ZEROS_ALLOWED)
    assert out.column("numerator").to_pylist() == [None, 10, 0, 40, 10]
    assert out.column("denominator").to_pylist() == [100, 35, 0, 40, None]
    assert out.column("ratio").to_pylist() == [None, 10 / 35, None, 1.0, None]
    assert out.column_names == table.column_names
    assert out.column("region").to_pylist() == table.column("region").to_pylist()
    json.dumps(record)  # the record must be JSON-able for the sidecar
    assert record["columns"] == {
        "measure": "label", "region": "label", "numerator": "count",
        "denominator": "count", "ratio": "derived",
    }  # fmt: skip
    assert [r["rule"] for r in record["rules_applied"]] == [
        "small_number_suppression", "rounding", "derived_from_protected",
    ]  # fmt: skip
    assert record["policy"]["suppress_at_or_below"] == 7


def test_zero_numerators_are_redacted_by_default():
    """#16: "none of region r2 had X" is class disclosure; the default policy redacts zeros."""
    out, _ = protect_measure_table(measures([0, 20], [30, 40]), POLICY)
    assert out.column("numerator").to_pylist() == [None, 20]
    assert out.column("ratio").to_pylist() == [None, 0.5]


def test_full_numerators_are_redacted_by_default():
    """#16: a numerator equal to its denominator (after rounding: 40 of 41) reads as "all of
    them had X"; the default policy redacts it and the ratio."""
    out, _ = protect_measure_table(measures([40, 20], [41, 40]), POLICY)
    assert out.column("numerator").to_pylist() == [None, 20]
    assert out.column("denominator").to_pylist() == [40, 40]
    assert out.column("ratio").to_pylist() == [None, 0.5]


def test_raw_ratio_does_not_survive():
    """A raw ratio beside rounded counts would give the raw counts back (3/7 identifies both)."""
    out, _ = protect_measure_table(measures([13], [17], [13 / 17]), ZEROS_ALLOWED)
    assert out.column("ratio").to_pylist() == [15 / 15]


def test_ratio_column_is_added_when_missing_and_names_are_configurable():
    table = pa.table({"n": pa.array([20], pa.int32()), "d": pa.array([40], pa.int32())})
    out, record = protect_measure_table(table, POLICY, numerator="n", denominator="d", ratio="r")
    assert out.column_names == ["n", "d", "r"]
    assert out.column("r").to_pylist() == [0.5]
    assert record["columns"] == {"n": "count", "d": "count", "r": "derived"}


def test_midpoint_policy_is_applied():
    policy = DisclosurePolicy(rounding="midpoint", suppress_at_or_below=0, allow_zero_cells=True)
    out, record = protect_measure_table(measures([4, 0], [14, 7]), policy)
    assert out.column("numerator").to_pylist() == [3, 0]
    assert out.column("denominator").to_pylist() == [15, 9]
    assert out.column("ratio").to_pylist() == [3 / 15, 0.0]
    assert record["rules_applied"][1] == {
        "rule": "rounding", "columns": ["numerator", "denominator"], "method": "midpoint",
        "base": 6,
    }  # fmt: skip


def test_missing_count_column_is_named():
    with pytest.raises(TableError, match="no column 'denominator'; its columns are numerator"):
        protect_measure_table(pa.table({"numerator": [1]}), POLICY)


def test_non_integer_count_column_is_refused():
    table = pa.table({"numerator": [1.5], "denominator": [10.0]})
    with pytest.raises(TableError, match=r"'numerator' must hold whole-number counts.*double"):
        protect_measure_table(table, POLICY)


def test_negative_count_is_refused_with_row():
    with pytest.raises(TableError, match=r"column 'denominator', row 1: .*got -4"):
        protect_measure_table(measures([10, 10], [20, -4]), POLICY)
