"""Dummy data for measures: tables generated for the measures, then the real measures query.

A measures definition has no single population: a patient is counted in some intervals and not
others. The dummy tables are generated for a *guide dataset* whose population is the patients
counted in at least one interval of at least one measure (each denominator with ``INTERVAL``
replaced by each interval's dates) and whose variables are the numerators and groups over the
first and last intervals, so the generator sees the measures' codelists, dates and values. The
one-pass measures query then runs on those tables, as it would on real data.
"""

from __future__ import annotations

import functools

import ibis

from fedsafe.dummy_data.generator import Priors
from fedsafe.dummy_data.population import DEFAULT_SEED, generate_dummy_tables
from fedsafe.query_model import nodes as qm
from fedsafe.query_model.intervals import substitute_interval

__all__ = ["dummy_measures_backend", "guide_dataset"]


def guide_dataset(measures: qm.Measures) -> qm.Dataset:
    """The dataset whose dummy data the measures run on (see the module's docstring)."""
    counted: dict[qm.Series, None] = {}
    variables: dict[qm.Series, None] = {}
    for measure in measures.measures:
        for start, end in measure.intervals:
            counted[substitute_interval(measure.counted, start, end)] = None
        for start, end in {measure.intervals[0], measure.intervals[-1]}:
            for series in (measure.numerator, *(s for _, s in measure.group_by)):
                variables[substitute_interval(series, start, end)] = None
    population = functools.reduce(lambda a, b: qm.Function(qm.Op.OR, (a, b)), list(counted))
    return qm.Dataset(population, tuple((f"v{i}", s) for i, s in enumerate(variables)))


def dummy_measures_backend(
    measures: qm.Measures,
    *,
    population_size: int,
    seed: int = DEFAULT_SEED,
    timeout: float = 60.0,
    additional_population_constraint: qm.Series | None = None,
    priors: Priors | None = None,
) -> ibis.BaseBackend:
    """An in-memory DuckDB holding dummy tables for ``population_size`` counted patients."""
    tables = generate_dummy_tables(
        guide_dataset(measures),
        population_size=population_size,
        seed=seed,
        timeout=timeout,
        additional_population_constraint=additional_population_constraint,
        priors=priors,
    )
    backend = ibis.duckdb.connect()
    for name, table in tables.tables.items():
        backend.create_table(name, table)
    return backend
