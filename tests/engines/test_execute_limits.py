"""An engine's fixed limits give a clear error, not a driver traceback."""

from __future__ import annotations

import functools

import ibis
import pyarrow as pa
import pytest

from fedsafe.engines.execute import QueryTooComplexError, run_dataset
from fedsafe.language import create_dataset
from fedsafe.language.dataset import compile_dataset
from fedsafe.language.frames import PatientFrame, Series, table


@table
class numbers(PatientFrame):
    value = Series(int)


def _deep(depth: int):
    dataset = create_dataset()
    dataset.define_population(numbers.exists_for_patient())
    nested = functools.reduce(lambda acc, i: (acc + i) * 1, range(depth), numbers.value)
    dataset.deep = nested
    return compile_dataset(dataset)


def _sqlite() -> ibis.BaseBackend:
    backend = ibis.sqlite.connect()
    backend.create_table("numbers", pa.table({"patient_id": [1, 2], "value": [1, 2]}))
    return backend


def test_a_query_too_deep_for_sqlite_is_a_clear_error() -> None:
    backend = _sqlite()
    with pytest.raises(QueryTooComplexError, match="nested too deeply for sqlite's SQL parser"):
        run_dataset(_deep(60), backend)


def test_a_shallower_one_runs() -> None:
    rows = run_dataset(_deep(5), _sqlite()).read_all().to_pylist()
    assert [r["deep"] for r in rows] == [1 + 10, 2 + 10]
