"""The tables a definition reads, built from hand-made test patients and checked by schema.

Values go through the same checks as dummy table files (:mod:`fedsafe.backends.dummy_tables`),
so a date that is not a date or a code that is not a code is reported with its patient, row and
column, and the engine sees exactly the column types a real backend has.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import Any

import pyarrow as pa

from fedsafe.assurance.cases import PatientCase, TestDataError
from fedsafe.backends.dummy_tables import convert_table
from fedsafe.errors import DataSourceError
from fedsafe.query_model import nodes as qm

__all__ = ["build_tables"]


def build_tables(dataset: qm.Dataset, cases: Sequence[PatientCase]) -> dict[str, pa.Table]:
    """One Arrow table per table the dataset reads, holding every test patient's rows."""
    used = qm.tables_used(dataset)
    for case in cases:
        for name in case.tables:
            if name not in used:
                raise TestDataError(
                    f"{case.source}, patient {case.patient_id}: the definition does not use a "
                    f"table called {name!r}; it uses {', '.join(sorted(used))}"
                )
    return {name: _build(name, node, cases) for name, node in sorted(used.items())}


def _build(name: str, node: Any, cases: Sequence[PatientCase]) -> pa.Table:
    columns = node.schema.column_names
    one_row = isinstance(node, qm.SelectPatientTable)
    ids: list[str] = []
    cells: dict[str, list[str | None]] = {c: [] for c in columns}
    places: list[str] = []
    for case in cases:
        rows = case.tables.get(name, ())
        if one_row and len(rows) > 1:
            raise TestDataError(
                f"{case.source}, patient {case.patient_id}, table {name}: has {len(rows)} rows, "
                f"but {name} has one row per patient; give one dict, not a list"
            )
        for index, row in enumerate(rows, start=1):
            unknown = [c for c in row if c not in columns]
            if unknown:
                raise TestDataError(
                    f"{case.source}, patient {case.patient_id}, table {name}, row {index}: no "
                    f"column "
                    f"{unknown[0]!r}; {name} has {', '.join(columns)}"
                )
            ids.append(str(case.patient_id))
            for column in columns:
                cells[column].append(_text(row.get(column)))
            places.append(f"patient {case.patient_id}, row {index}")
    # Where the rows were written: one file (or definition), or more when patients are split.
    source = " and ".join(sorted({c.source for c in cases if c.tables.get(name)})) or "test data"
    raw = pa.table(
        {"patient_id": pa.array(ids, pa.string())}
        | {c: pa.array(v, pa.string()) for c, v in cells.items()}
    )
    try:
        return convert_table(
            raw, name, node, source=f"{source}, table {name}", locate=places.__getitem__
        )
    except DataSourceError as exc:
        raise TestDataError(str(exc)) from None


def _text(value: Any) -> str | None:
    """A value as the text a table file would hold, so one set of checks serves both."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime.datetime):
        return value.isoformat()  # refused by the date check: a date and time is not a date
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value)
