"""A dummy dataset: the definition's real query, run on generated tables."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import ibis
import pyarrow as pa

from fedsafe.dummy_data.generator import Priors
from fedsafe.dummy_data.population import (
    DEFAULT_SEED,
    DummyTables,
    SearchProgress,
    generate_dummy_tables,
)
from fedsafe.engines.execute import run_dataset
from fedsafe.query_model import nodes as qm


def generate_dummy_dataset(
    dataset: qm.Dataset,
    *,
    population_size: int,
    seed: int = DEFAULT_SEED,
    timeout: float = 60.0,
    additional_population_constraint: qm.Series | None = None,
    priors: Priors | None = None,
    on_progress: Callable[[SearchProgress], None] | None = None,
) -> tuple[pa.Table, DummyTables]:
    """Exactly ``population_size`` rows of the dataset, and the tables they came from."""
    tables = generate_dummy_tables(
        dataset,
        population_size=population_size,
        seed=seed,
        timeout=timeout,
        additional_population_constraint=additional_population_constraint,
        priors=priors,
        on_progress=on_progress,
    )
    result = run_on_tables(dataset, tables.tables)
    if result.num_rows != population_size:  # pragma: no cover - a fedsafe bug if it happens
        raise AssertionError(
            f"dummy tables held {population_size} patients in the population, but the dataset "
            f"has {result.num_rows} rows"
        )
    return result, tables


def run_on_tables(dataset: qm.Dataset, tables: Mapping[str, pa.Table]) -> pa.Table:
    """Run ``dataset`` with the DuckDB engine over in-memory Arrow tables."""
    backend = ibis.duckdb.connect()
    try:
        for name, table in tables.items():
            backend.con.register(name, table)
        return run_dataset(dataset, backend).read_all()
    finally:
        backend.disconnect()
