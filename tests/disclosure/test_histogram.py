"""Histograms are tables (#16 point 4): the counts behind a chart are checked like any table.

The SDC Handbook (Hundepool et al. 2012, 4.4: graphs are tables of their underlying data) and
OpenSAFELY's output-checking guidance (the counts behind every figure must be given) say a
bar of 3 patients discloses like a cell of 3, and a histogram whose end edges are the data's
minimum and maximum publishes two patients' values.
"""

import json

import pytest

from fedsafe.disclosure import DisclosurePolicy, OutputFileError, TableError
from fedsafe.disclosure.checker import check_output_file
from fedsafe.disclosure.findings import Status
from fedsafe.disclosure.safe import safe_histogram

POLICY = DisclosurePolicy()


def failures(report):
    return [(f.rule, f.row) for f in report.findings if f.status is Status.FAIL]


@pytest.mark.parametrize("suffix", [".png", ".svg"])
def test_safe_histogram_writes_image_and_sidecar_and_passes(tmp_path, suffix):
    values = [20 + (i % 50) for i in range(500)] + [99.5, 3.0]  # two outliers, one patient each
    output = tmp_path / f"age{suffix}"
    histogram = safe_histogram(values, output, bins=10, label="age")
    assert output.stat().st_size > 0
    sidecar = json.loads((tmp_path / f"age{suffix}.disclosure.json").read_text())
    assert sidecar["histogram"]["edges"] == list(histogram.edges)
    assert min(values) not in histogram.edges and max(values) not in histogram.edges
    assert histogram.edges[0] < 3.0 and histogram.edges[-1] > 99.5
    # The bins holding only an outlier are suppressed, not drawn as 1.
    assert all(c is None or c > 7 for c in histogram.counts) and None in histogram.counts
    assert check_output_file(output, POLICY).status is Status.PASS


def test_image_without_sidecar_needs_review(tmp_path):
    (tmp_path / "plot.png").write_bytes(b"\x89PNG\r\n")
    report = check_output_file(tmp_path / "plot.png", POLICY)
    assert report.status is Status.NEEDS_REVIEW


def hand_sidecar(tmp_path, histogram):
    (tmp_path / "h.png").write_bytes(b"\x89PNG\r\n")
    (tmp_path / "h.png.disclosure.json").write_text(
        json.dumps({"columns": {}, "histogram": histogram})
    )
    return tmp_path / "h.png"


def test_small_and_unrounded_bins_fail(tmp_path):
    """Attack: a chart whose bars are 3 and 12 patients."""
    path = hand_sidecar(
        tmp_path, {"edges": [0, 10, 20, 30], "counts": [3, 12, 20], "extremes_on_edges": False}
    )
    assert failures(check_output_file(path, POLICY)) == [
        ("small_number_suppression", 1),
        ("rounding", 2),
    ]


def test_edges_on_the_raw_extremes_fail(tmp_path):
    path = hand_sidecar(
        tmp_path, {"edges": [17.3, 50, 96.1], "counts": [40, 25], "extremes_on_edges": True}
    )
    assert failures(check_output_file(path, POLICY)) == [("histogram_edges", None)]


def test_helper_refuses_edges_on_the_extremes_and_values_outside():
    with pytest.raises(TableError, match="equals the data's minimum or maximum"):
        safe_histogram([1.0, 5.0, 9.0], "unused.png", bins=[1.0, 5.5, 10.0])
    with pytest.raises(TableError, match="leave out values"):
        safe_histogram([1.0, 5.0, 19.0], "unused.png", bins=[0.0, 10.0])
    with pytest.raises(TableError, match="item 1: expected a finite number"):
        safe_histogram([1.0, float("inf")], "unused.png")
    with pytest.raises(TableError, match=r"\.png or \.svg"):
        safe_histogram([1.0], "plot.pdf")


@pytest.mark.parametrize(
    ("record", "message"),
    [
        ({"edges": [0], "counts": [], "extremes_on_edges": False}, "at least two finite"),
        ({"edges": [0, 5, 3], "counts": [1, 2], "extremes_on_edges": False}, "increasing"),
        ({"edges": [0, 5], "counts": [1, 2], "extremes_on_edges": False}, "one count per bin"),
        ({"edges": [0, 5], "counts": [-1], "extremes_on_edges": False}, r"counts\[0\]"),
        ({"edges": [0, 5], "counts": ["x"], "extremes_on_edges": False}, r"counts\[0\]"),
        ({"edges": [0, 5], "counts": [10]}, "extremes_on_edges' must be true or false"),
    ],
)
def test_bad_histogram_records_are_clear_errors(tmp_path, record, message):
    path = hand_sidecar(tmp_path, record)
    with pytest.raises(OutputFileError, match=rf"h\.png\.disclosure\.json: .*{message}"):
        check_output_file(path, POLICY)
