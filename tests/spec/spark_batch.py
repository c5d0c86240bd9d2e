"""Running a module's spec cases on Spark as one job instead of one job per case.

Spark spends about a second planning and scheduling each query however small its data, so
376 separate queries would take many minutes. Here each case reads its own copies of the tables
(``p_7``, ``e_7``), and the cases' results are stacked with UNION ALL into one query with a
value column per type. The per-case results are then checked exactly as on other engines. If
the batch fails as a whole, each case is run alone so the failure is pinned on the right case.
"""

from __future__ import annotations

from typing import Any

import ibis
import pyarrow as pa

from fedsafe.engines.compiler import PATIENT_ID, Compiler, ibis_type
from fedsafe.engines.execute import register_in_memory_tables, run_dataset
from fedsafe.query_model import nodes as qm
from spec.harness import SpecCase, dataset_for
from spec.runner import arrow_table

TYPES = ("boolean", "int64", "float64", "string", "date")
_RESULTS: dict[str, dict[str, Any]] = {}


def _register(con: Any, case: SpecCase, index: int) -> tuple[qm.Dataset, dict[str, str]]:
    dataset, data = dataset_for(case)
    for table in qm.tables_used(dataset).values():
        data.setdefault(table, [])
    names = {}
    for table, rows in data.items():
        name = f"{table.name}_{index}"
        con._session.createDataFrame(arrow_table(table, rows)).createOrReplaceTempView(name)
        names[table.name] = name
    return dataset, names


def _case_expr(con: Any, dataset: qm.Dataset, names: dict[str, str], index: int) -> ibis.Table:
    expr = Compiler(lambda t: con.table(names[t.name])).dataset(dataset)
    type_ = ibis_type(dataset.variables[0][1].type)
    columns: dict[str, Any] = {"case": ibis.literal(index), PATIENT_ID: expr[PATIENT_ID]}
    for t in TYPES:
        columns[f"v_{t}"] = expr["v"] if t == type_ else ibis.null(t)
    return expr.select(**columns)


def _decode(table: pa.Table, cases: dict[int, SpecCase], types: dict[int, str]) -> None:
    for case in cases.values():
        _RESULTS[case.name] = {}
    for row in table.to_pylist():
        index = row["case"]
        _RESULTS[cases[index].name][row[PATIENT_ID]] = row[f"v_{types[index]}"]


def spark_result(con: Any, cases: list[SpecCase], case: SpecCase) -> dict[int, Any]:
    """This case's {patient: value} on Spark, computing the whole module's batch on first use."""
    if case.name not in _RESULTS:
        _run_batch(con, cases)
    result = _RESULTS[case.name]
    if isinstance(result, BaseException):
        raise result
    return result


def _run_batch(con: Any, cases: list[SpecCase]) -> None:
    exprs: dict[int, ibis.Table] = {}
    datasets: dict[int, tuple[qm.Dataset, dict[str, str]]] = {}
    for index, case in enumerate(cases):
        try:
            dataset, names = _register(con, case, index)
            exprs[index] = _case_expr(con, dataset, names, index)
            datasets[index] = (dataset, names)
        except Exception as exc:  # reported by the case's own test
            _RESULTS[case.name] = exc  # type: ignore[assignment]
    if not exprs:
        return
    types = {i: ibis_type(datasets[i][0].variables[0][1].type) for i in exprs}
    try:
        batch = ibis.union(*exprs.values(), distinct=False)
        register_in_memory_tables(con, batch)
        table = con.to_pyarrow(batch)
        _decode(table, {i: cases[i] for i in exprs}, types)
    except Exception:
        for index in exprs:  # one case broke the batch: find which
            dataset, names = datasets[index]
            try:
                backend = _Renamed(con, names)
                rows = run_dataset(dataset, backend).read_all().to_pylist()  # type: ignore[arg-type]
                _RESULTS[cases[index].name] = {r[PATIENT_ID]: r["v"] for r in rows}
            except Exception as exc:
                _RESULTS[cases[index].name] = exc  # type: ignore[assignment]


class _Renamed:
    """The Spark backend, with each logical table name read from the case's own copy."""

    name = "pyspark"

    def __init__(self, con: Any, names: dict[str, str]) -> None:
        self._con, self._names = con, names
        self._session, self._memtables = con._session, con._memtables

    def table(self, name: str) -> ibis.Table:
        return self._con.table(self._names[name])

    def to_pyarrow_batches(self, expr: ibis.Table, **kwargs: Any) -> Any:
        return self._con.to_pyarrow_batches(expr, **kwargs)
