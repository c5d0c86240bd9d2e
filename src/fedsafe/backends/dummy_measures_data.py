"""Dummy data for measures: random tables shaped by the measures, to run the real query on.

A stop-gap until ``fedsafe.dummy_data`` (which generates data from a definition's constraints)
can serve measures. It is simple but honest: every table the measures read gets
``population_size`` patients with values drawn from each column's declared categories and
ranges; dates fall within the measures' intervals (a few years before them for dates of birth);
code columns take codes from the codelists the measures use, so numerators can be non-zero. The
measures table is then computed by the same one-pass query that runs on real data.
"""

from __future__ import annotations

import datetime
import random
from typing import Any

import ibis
import pyarrow as pa

from fedsafe.backends.dummy_tables import arrow_type
from fedsafe.query_model import nodes as qm
from fedsafe.query_model.schema import Column, Constraint
from fedsafe.query_model.types import is_code_type

__all__ = ["dummy_measures_backend"]

DEFAULT_POPULATION_SIZE = 1000
MAX_EVENTS_PER_PATIENT = 6
SEED = 6  # fixed, so a researcher sees the same dummy output on every run


def dummy_measures_backend(
    measures: qm.Measures, *, population_size: int | None = None, seed: int = SEED
) -> ibis.BaseBackend:
    """An in-memory DuckDB holding random rows for every table the measures read."""
    size = population_size or DEFAULT_POPULATION_SIZE
    rng = random.Random(seed)
    intervals = measures.intervals
    first, last = intervals[0][0], intervals[-1][1]
    codes = _codes_used(measures)
    backend = ibis.duckdb.connect()
    for name, table in sorted(qm.tables_used(measures).items()):
        per_patient = isinstance(table, qm.SelectPatientTable)
        rows: dict[str, list[Any]] = {"patient_id": []}
        columns = table.schema.columns
        for column in columns:
            rows[column.name] = []
        for patient_id in range(1, size + 1):
            count = 1 if per_patient else rng.randint(0, MAX_EVENTS_PER_PATIENT)
            for _ in range(count):
                rows["patient_id"].append(patient_id)
                for column in columns:
                    rows[column.name].append(_value(rng, column, first, last, codes))
        arrays = {"patient_id": pa.array(rows["patient_id"], pa.int64())}
        for column in columns:
            arrays[column.name] = pa.array(rows[column.name], arrow_type(column.type))
        backend.create_table(name, pa.table(arrays))
    return backend


def _codes_used(measures: qm.Measures) -> dict[type, list[Any]]:
    """The codes in the measures' codelists, by code type: what dummy codes are drawn from."""
    found: dict[type, set[Any]] = {}
    for node in qm.walk(measures):
        if isinstance(node, qm.ValueSet) and is_code_type(node.type):
            found.setdefault(node.type, set()).update(node.values)
    return {t: sorted(v, key=lambda c: c.value) for t, v in found.items()}


def _value(
    rng: random.Random,
    column: Column,
    first: datetime.date,
    last: datetime.date,
    codes: dict[type, list[Any]],
) -> Any:
    if column.nullable and rng.random() < 0.05:
        return None
    categories = column.get_constraint(Constraint.Categorical)
    if categories is not None:
        return rng.choice(categories.values)
    type_ = column.type
    if type_ is datetime.date:
        if "birth" in column.name:
            start, end = first.replace(year=max(1, first.year - 100)), first
        else:
            start, end = first - datetime.timedelta(days=365), last
        value = start + datetime.timedelta(days=rng.randint(0, (end - start).days))
        if column.has_constraint(Constraint.FirstOfMonth):
            value = value.replace(day=1)
        return value
    if type_ is bool:
        return rng.random() < 0.5
    if type_ is int:
        bounds = column.get_constraint(Constraint.ClosedRange)
        return rng.randint(bounds.minimum, bounds.maximum) if bounds else rng.randint(0, 100)
    if type_ is float:
        return round(rng.uniform(0, 100), 1)
    if type_ is str:
        return rng.choice(["a", "b", "c"])
    if is_code_type(type_):
        choices = codes.get(type_)
        if not choices:
            return None  # no valid code of this system is known; NULL, not a made-up one
        return rng.choice(choices).value
    return None  # pragma: no cover - every column type is handled above
