"""fedsafe beside SACRO's ``acro`` on the same cases (issue #16 point 7).

``acro_cases.py`` holds the microdata; ``acro_side_by_side.py`` ran them through acro 1.0.2
in its own environment and its output is committed as ``acro_verdicts.json`` (the command that
regenerates it is in that file and in the script's docstring). Here fedsafe, with acro's
default parameters (``ACRO_LIKE_POLICY``), judges what a researcher would release from the same
rows, and every verdict is compared case by case: fedsafe is never looser, and where it is
stricter the reason is written beside the case (and in docs/disclosure.md, "fedsafe beside
ACRO"). The slow test rebuilds acro's environment and checks the committed record is still
what acro says.
"""

import csv
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from disclosure.acro_cases import ACRO_LIKE_POLICY, CASES
from fedsafe.disclosure import DisclosurePolicy, check_magnitude_cell, describe_model
from fedsafe.disclosure.checker import check_output_file
from fedsafe.disclosure.findings import Status
from fedsafe.disclosure.ledger import ReleaseLedger
from fedsafe.disclosure.safe import safe_summary_table
from fedsafe.disclosure.sidecar import write_sidecar

HERE = Path(__file__).resolve().parent
RECORDED = json.loads((HERE / "acro_verdicts.json").read_text())
POLICY = DisclosurePolicy(**ACRO_LIKE_POLICY)
ORDER = ["pass", "review", "fail"]

# case -> (acro's verdict, fedsafe's verdict, why they differ or agree)
EXPECTED = {
    "table_of_maxima": (
        "pass",
        "fail",
        "a maximum is one patient's value (the oldest is 103); acro does not check maxima",
    ),
    "median": (
        "pass",
        "fail",
        "a bare median does not show how many patients lie on each side; fedsafe needs more "
        "than the threshold on each side, which safe_summary_table records (and then passes)",
    ),
    "mode_all_same": (
        "pass",
        "fail",
        "the mode of group b is every member's score; acro does not look at identical values, "
        "fedsafe fails a mode nothing shows is not over identical values",
    ),
    "two_tables_difference_one_person": (
        "pass",
        "fail",
        "each table passes both tools alone; acro only notes that a manual review against other "
        "outputs is recommended, fedsafe's release ledger fails the second (11 - 10 = 1 woman)",
    ),
    "small_cells": ("fail", "fail", "a cell of 3: both fail it"),
    "dominance": (
        "fail",
        "fail",
        "both apply the (n, k) and p% rules to the contributions and fail practice A",
    ),
    "regression_small_category": (
        "pass",
        "fail",
        "196 residual degrees of freedom pass both; acro checks nothing else, fedsafe fails "
        "the design-matrix category with one patient (ethnicity C)",
    ),
}


def write_rows(path, header, rows):
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def by_group(rows, key, value):
    groups = {}
    for row in rows:
        groups.setdefault(row[key], []).append(row[value])
    return dict(sorted(groups.items()))


def worst(statuses):
    return max((s.value.replace("needs review", "review") for s in statuses), key=ORDER.index)


def fedsafe_statistic(tmp_path, case):
    """The table a researcher computes from the rows, checked as a file."""
    release = case["release"]
    compute = {"max": max, "median": statistics.median, "mode": statistics.mode}[
        release["statistic"]
    ]
    groups = by_group(case["rows"], release["by"], release["value"])
    name = f"{release['statistic']}_{release['value']}"
    path = write_rows(
        tmp_path / "table.csv",
        [release["by"], name],
        [(g, compute(values)) for g, values in groups.items()],
    )
    return worst([check_output_file(path, POLICY).status])


def fedsafe_two_tables(tmp_path, case):
    """Each table through the checker, then the second against the first in the ledger."""
    release = case["release"]
    ((column, value),) = release["subgroup"].items()
    ledger = ReleaseLedger(tmp_path / "ledger")
    statuses = []
    for name, filters in (("everyone", None), ("subgroup", {column: [value]})):
        rows = [r for r in case["rows"] if filters is None or r[column] == value]
        counts = {}
        for row in rows:
            counts[row[release["by"]]] = counts.get(row[release["by"]], 0) + 1
        path = write_rows(tmp_path / f"{name}.csv", [release["by"], "n"], sorted(counts.items()))
        record = {"columns": {release["by"]: "label", "n": "count"}}
        if filters:
            record["release"] = {"filters": filters}
        write_sidecar(path, record)
        statuses.append(check_output_file(path, POLICY).status)
        statuses.extend(f.status for f in ledger.check_file(path, POLICY, backend="b"))
        ledger.record_file(path, backend="b", project="p", released_by="researcher")
    return worst(statuses)


def fedsafe_crosstab(tmp_path, case):
    release = case["release"]
    columns = sorted({r[release["columns"]] for r in case["rows"]})
    counts = {}
    for row in case["rows"]:
        key = (row[release["rows"]], row[release["columns"]])
        counts[key] = counts.get(key, 0) + 1
    bands = sorted({r[release["rows"]] for r in case["rows"]})
    path = write_rows(
        tmp_path / "crosstab.csv",
        [release["rows"], *columns],
        [(b, *(counts.get((b, c), 0) for c in columns)) for b in bands],
    )
    return worst([check_output_file(path, POLICY).status])


def fedsafe_dominance(tmp_path, case):
    """The magnitude rules on each cell's contributions (what acro sees too). The finished file
    alone would need review: dominance cannot be judged without the contributions."""
    release = case["release"]
    groups = by_group(case["rows"], release["by"], release["value"])
    verdicts = [check_magnitude_cell(values, POLICY, where=g) for g, values in groups.items()]
    return "pass" if all(v.safe for v in verdicts) else "fail"


def fedsafe_ols(tmp_path, case):
    """Fit the model (least squares), write the estimates with describe_model's sidecar."""
    release = case["release"]
    rows = case["rows"]
    levels = sorted({r[release["categorical"]] for r in rows} - {release["reference"]})
    design = np.array(
        [
            [1.0]
            + [float(r[c]) for c in release["numeric"]]
            + [float(r[release["categorical"]] == level) for level in levels]
            for r in rows
        ]
    )
    outcome = np.array([r[release["outcome"]] for r in rows])
    estimates, *_ = np.linalg.lstsq(design, outcome, rcond=None)
    terms = ["intercept", *release["numeric"], *(f"{release['categorical']}[{v}]" for v in levels)]
    path = write_rows(tmp_path / "model.csv", ["term", "estimate"], zip(terms, estimates))
    model = describe_model(
        design.shape[1], {release["categorical"]: [r[release["categorical"]] for r in rows]}
    )
    write_sidecar(path, {"columns": {"term": "label", "estimate": "estimate"}, "model": model})
    return worst([check_output_file(path, POLICY).status])


ROUTES = {
    "statistic": fedsafe_statistic,
    "two_tables": fedsafe_two_tables,
    "crosstab": fedsafe_crosstab,
    "ols": fedsafe_ols,
}


def fedsafe_verdict(tmp_path, case):
    if case["release"]["kind"] == "statistic" and case["release"]["statistic"] == "sum":
        return fedsafe_dominance(tmp_path, case)
    return ROUTES[case["release"]["kind"]](tmp_path, case)


def test_every_case_is_recorded_and_expected():
    assert set(RECORDED["cases"]) == set(CASES) == set(EXPECTED)
    assert RECORDED["acro_version"] == "1.0.2"


@pytest.mark.parametrize("name", sorted(CASES))
def test_fedsafe_beside_acro(tmp_path, name):
    acro_expected, fedsafe_expected, _why = EXPECTED[name]
    assert RECORDED["cases"][name]["verdict"] == acro_expected
    fedsafe = fedsafe_verdict(tmp_path, CASES[name])
    assert fedsafe == fedsafe_expected
    assert ORDER.index(fedsafe) >= ORDER.index(acro_expected), "fedsafe must never be looser"


def test_two_tables_pass_the_checker_alone_and_fail_in_the_ledger(tmp_path):
    """fedsafe's stricter verdict comes from the ledger, not from a cell of either table."""
    case = CASES["two_tables_difference_one_person"]
    assert fedsafe_two_tables(tmp_path / "both", case) == "fail"
    for name in ("everyone.csv", "subgroup.csv"):
        assert check_output_file(tmp_path / "both" / name, POLICY).status is Status.PASS
    ledger = ReleaseLedger(tmp_path / "both" / "ledger")
    (failure,) = [
        f
        for f in ledger.check_file(tmp_path / "both" / "subgroup.csv", POLICY, backend="b")
        if f.status is Status.FAIL
    ]
    assert "gives 1" in failure.reason and "age_band='21-30'" in failure.reason


def test_the_median_made_by_the_safe_helper_passes(tmp_path):
    """The median case's stricter verdict is about a bare median: made by safe_summary_table,
    which records 10 patients on each side (more than the threshold of 9), it passes."""
    rows = CASES["median"]["rows"]
    path = tmp_path / "medians.csv"
    safe_summary_table(
        [r["group"] for r in rows],
        [r["age"] for r in rows],
        path,
        value_name="age",
        statistics=["median"],
        policy=POLICY,
    )
    assert check_output_file(path, POLICY).status is Status.PASS


def test_acro_notes_differencing_but_passes_both_tables():
    outputs = RECORDED["cases"]["two_tables_difference_one_person"]["outputs"]
    assert [o["status"] for o in outputs] == ["pass", "pass"]
    assert all("manual review against other outputs" in o["summary"] for o in outputs)


def acro_python(cache: Path) -> Path:
    """acro 1.0.2 in a virtual environment of its own under the test cache, built once."""
    venv = cache / "acro-1.0.2"
    python = venv / "bin" / "python"
    if not (venv / ".complete").exists():
        from uv import find_uv_bin  # the uv fedsafe depends on (python:v1 is built with it)

        uv = find_uv_bin()
        subprocess.run([uv, "venv", "--quiet", "--python", sys.executable, str(venv)], check=True)
        subprocess.run(
            [uv, "pip", "install", "--quiet", "--python", str(python), "acro==1.0.2"],
            check=True,
        )
        (venv / ".complete").write_text("acro==1.0.2\n")
    return python


@pytest.mark.slow
def test_the_committed_record_is_what_acro_says():
    """Runs acro itself (its environment is built on first use under the test cache, as the
    python:v1 runtime is: about a minute, 0.5 GB) and compares each case's verdict and
    outputs with acro_verdicts.json."""
    cache = Path(os.environ.get("FEDSAFE_TEST_CACHE") or HERE.parents[1] / ".cache" / "fedsafe")
    python = acro_python(cache)
    done = subprocess.run(
        [str(python), str(HERE / "acro_side_by_side.py")],
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    fresh = json.loads(done.stdout)
    assert fresh["acro_version"] == RECORDED["acro_version"]
    assert fresh["cases"] == RECORDED["cases"]
