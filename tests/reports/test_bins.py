"""Histogram edges never show the smallest or largest value, and small columns get none."""

import datetime
import random

import pytest

from fedsafe.reports.bins import MIN_VALUES, date_bins, number_bins


@pytest.mark.parametrize("seed", range(20))
def test_number_edges_are_never_the_extremes(seed):
    rng = random.Random(seed)
    values = [rng.uniform(-50, 500) for _ in range(rng.randint(MIN_VALUES, 400))]
    values += [-1234.5678, 98765.4321]  # a lone patient at each end
    bins = number_bins(values, whole=False)
    assert bins is not None
    assert min(values) not in bins.edges and max(values) not in bins.edges
    assert not any("1234" in label or "98765" in label for label in bins.labels)
    # everything falls in some bin; the extremes in the open outer bins
    assert bins.index(min(values)) == 0
    assert bins.index(max(values)) == len(bins.labels) - 1


def test_bins_include_their_lower_edge_and_are_in_order():
    bins = number_bins(list(range(1000)), whole=True)
    assert bins is not None
    assert all(a < b for a, b in zip(bins.edges, bins.edges[1:]))
    for i, edge in enumerate(bins.edges):
        assert bins.index(edge) == i + 1
        assert bins.index(edge - 0.5) == i


def test_too_few_values_give_no_histogram():
    assert number_bins(list(range(MIN_VALUES - 1)), whole=True) is None
    assert date_bins([datetime.date(2020, 1, 1)] * (MIN_VALUES - 1)) is None


def test_date_edges_are_calendar_periods_and_never_the_extremes():
    start = datetime.date(1950, 1, 1)
    rng = random.Random(3)
    dates = [start + datetime.timedelta(days=rng.randint(0, 20000)) for _ in range(300)]
    dates += [datetime.date(1901, 2, 3), datetime.date(2031, 7, 9)]
    bins = date_bins(dates)
    assert bins is not None
    assert all(edge.month == 1 and edge.day == 1 for edge in bins.edges)
    assert not any("1901" in label or "2031" in label for label in bins.labels)


def test_short_date_spans_are_binned_by_month():
    dates = [datetime.date(2020, 1, 1) + datetime.timedelta(days=i % 300) for i in range(200)]
    bins = date_bins(dates)
    assert bins is not None
    assert all(edge.day == 1 for edge in bins.edges)
    assert "2020-03 (month)" in bins.labels
