"""Dummy data: tables generated for a definition, then queried by the real engine.

Dummy data is never made up column by column at the end: tables are generated first (guided by
the definition's codelists, dates and values) and the definition's own query then runs on them
with the DuckDB engine, so a dummy dataset is exactly what the definition computes from some
possible record, with all its variables consistent with each other.
"""

from fedsafe.dummy_data.dataset import generate_dummy_dataset
from fedsafe.dummy_data.generator import Priors
from fedsafe.dummy_data.population import (
    DEFAULT_SEED,
    DummyTables,
    SearchProgress,
    UnreachablePopulationError,
    generate_dummy_tables,
)

__all__ = [
    "DEFAULT_SEED",
    "DummyTables",
    "Priors",
    "SearchProgress",
    "UnreachablePopulationError",
    "generate_dummy_dataset",
    "generate_dummy_tables",
]
