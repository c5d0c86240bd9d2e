"""Running a spec case on an engine and comparing with what it states."""

from __future__ import annotations

from typing import Any

import ibis
import pyarrow as pa

from fedsafe.engines.compiler import PATIENT_ID, arrow_type
from fedsafe.engines.execute import run_dataset
from fedsafe.query_model import nodes as qm
from spec.harness import SpecCase, dataset_for, normalise, patients_in


def arrow_table(
    table: qm.SelectTable | qm.SelectPatientTable, rows: list[dict[str, Any]]
) -> pa.Table:
    columns = {PATIENT_ID: pa.array([r["patient_id"] for r in rows], pa.int64())}
    for column in table.schema.columns:
        values = [_raw(r.get(column.name)) for r in rows]
        columns[column.name] = pa.array(values, arrow_type(column.type))
    return pa.table(columns)


def _raw(value: Any) -> Any:
    return value.value if hasattr(value, "system_id") else value


# Live connections to the server engines, set by conftest for the engines under test.
SERVERS: dict[str, Any] = {}


def connect(engine: str, data: dict[Any, list[dict[str, Any]]]) -> ibis.BaseBackend:
    """A database of the named engine holding exactly these tables (replacing earlier ones)."""
    if engine == "duckdb":
        backend = ibis.duckdb.connect()
    elif engine == "sqlite":
        backend = ibis.sqlite.connect()
    elif engine in SERVERS:
        backend = SERVERS[engine]
    else:
        raise ValueError(f"no spec engine {engine!r}")
    for table, rows in data.items():
        arrow = arrow_table(table, rows)
        if engine == "spark":
            # A temporary view read from Arrow: Ibis's create_table goes through pandas, which
            # loses NULLs (see engines.execute.register_in_memory_tables), and a view leaves no
            # files behind.
            backend._session.createDataFrame(arrow).createOrReplaceTempView(table.name)
        else:
            backend.create_table(table.name, arrow, overwrite=True)
    return backend


def run_case(case: SpecCase, engine: str) -> dict[int, Any]:
    dataset, data = dataset_for(case)
    for table in qm.tables_used(dataset).values():
        data.setdefault(table, [])
    backend = connect(engine, data)
    result = run_dataset(dataset, backend).read_all().to_pylist()
    return {row["patient_id"]: row["v"] for row in result}


def module_cases(case: SpecCase) -> list[SpecCase]:
    """Every case in the module that defines ``case`` (Spark runs them as one batch)."""
    import sys

    for module in list(sys.modules.values()):
        cases = getattr(module, "CASES", None)
        if isinstance(cases, list) and any(c is case for c in cases):
            return cases
    return [case]


def check_case(case: SpecCase, engine: str) -> None:
    _, data = dataset_for(case)
    missing = patients_in(data) - set(case.expected)
    assert not missing, f"{case.name}: expected gives no value for patients {sorted(missing)}"
    if engine == "spark":
        from spec.spark_batch import spark_result

        actual = spark_result(SERVERS["spark"], module_cases(case), case)
    else:
        actual = run_case(case, engine)
    expected = {pid: normalise(v) for pid, v in case.expected.items()}
    actual = {pid: normalise(v) for pid, v in actual.items()}
    differences = {
        pid: {"expected": expected.get(pid), "actual": actual.get(pid)}
        for pid in sorted(set(expected) | set(actual))
        if expected.get(pid) != actual.get(pid) or (pid in expected) != (pid in actual)
    }
    assert not differences, f"{case.name} on {engine}: {differences}"
