"""Histogram edges never show the smallest or largest value, and small columns get none."""

import datetime
import random

import numpy as np
import pytest

from fedsafe.reports.bins import EPOCH, MIN_VALUES, date_bins, number_bins


def days(dates):
    return np.array([(d - EPOCH).days for d in dates], dtype=float)


@pytest.mark.parametrize("seed", range(20))
def test_number_edges_are_never_the_extremes(seed):
    rng = random.Random(seed)
    values = [rng.uniform(-50, 500) for _ in range(rng.randint(MIN_VALUES, 400))]
    values += [-1234.5678, 98765.4321]  # a lone patient at each end
    bins = number_bins(np.array(values), whole=False)
    assert bins is not None
    assert min(values) not in bins.edges and max(values) not in bins.edges
    assert not any("1234" in label or "98765" in label for label in bins.labels)
    counts = bins.counts(np.array(values))
    assert sum(counts) == len(values)
    # the extremes are in the open outer bins
    assert bins.counts(np.array([min(values)]))[0] == 1
    assert bins.counts(np.array([max(values)]))[-1] == 1


def test_bins_include_their_lower_edge_and_are_in_order():
    bins = number_bins(np.arange(1000.0), whole=True)
    assert bins is not None
    assert all(a < b for a, b in zip(bins.edges, bins.edges[1:]))
    for i, edge in enumerate(bins.edges):
        assert bins.counts(np.array([edge])).index(1) == i + 1
        assert bins.counts(np.array([edge - 0.5])).index(1) == i


def test_too_few_values_give_no_histogram():
    assert number_bins(np.arange(MIN_VALUES - 1.0), whole=True) is None
    assert date_bins(days([datetime.date(2020, 1, 1)] * (MIN_VALUES - 1))) is None


def test_date_edges_are_calendar_periods_and_never_the_extremes():
    start = datetime.date(1950, 1, 1)
    rng = random.Random(3)
    dates = [start + datetime.timedelta(days=rng.randint(0, 20000)) for _ in range(300)]
    dates += [datetime.date(1901, 2, 3), datetime.date(2031, 7, 9)]
    bins = date_bins(days(dates))
    assert bins is not None
    edges = [EPOCH + datetime.timedelta(days=int(e)) for e in bins.edges]
    assert all(edge.month == 1 and edge.day == 1 for edge in edges)
    assert not any("1901" in label or "2031" in label for label in bins.labels)
    assert sum(bins.counts(days(dates))) == len(dates)


def test_short_date_spans_are_binned_by_month():
    dates = [datetime.date(2020, 1, 1) + datetime.timedelta(days=i % 300) for i in range(200)]
    bins = date_bins(days(dates))
    assert bins is not None
    edges = [EPOCH + datetime.timedelta(days=int(e)) for e in bins.edges]
    assert all(edge.day == 1 for edge in edges)
    assert "2020-03 (month)" in bins.labels
    march = bins.labels.index("2020-03 (month)")
    assert bins.counts(days(dates))[march] == sum(
        1 for d in dates if (d.year, d.month) == (2020, 3)
    )
