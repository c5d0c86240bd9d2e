"""The linkage benchmark runs end to end at a small size and its linked rows equal the baseline's.

No timings are asserted: the benchmark itself exits 1 when the linked rows differ from the
plain join's, and that is what this checks (for PSI and for the fallback).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

import bench_linkage


@pytest.mark.parametrize("mode", [[], ["--fallback"]], ids=["psi", "fallback"])
def test_the_benchmark_links_the_same_rows_as_a_plain_join(mode, capsys):
    assert bench_linkage.main(["--cohort", "300", "--population", "3000", *mode]) == 0
    out = capsys.readouterr().out
    assert "the linked rows equal the baseline's, row for row" in out
    assert "identifiers failed normalisation" in out


def test_the_generated_nhs_numbers_are_valid_and_distinct():
    import numpy as np

    from fedsafe.linkage.identifiers import nhs_number_problem

    numbers = bench_linkage.nhs_numbers(5000, np.random.default_rng(1))
    assert len(set(numbers.tolist())) == 5000
    assert all(nhs_number_problem(f"{n:010d}") is None for n in numbers.tolist())
