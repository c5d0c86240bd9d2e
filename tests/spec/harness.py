"""Spec cases: small tables written as text, one series, the value expected for each patient.

A case names no engine: the same list runs on every engine under test, so adding an engine
means adding it to ``ENGINES`` in ``conftest.py`` and nothing else.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fedsafe.language.frames import BaseFrame
from fedsafe.language.series import BaseSeries
from fedsafe.query_model import nodes as qm
from fedsafe.query_model.types import is_code_type


@dataclass(frozen=True)
class SpecCase:
    """One behaviour: ``series()`` over ``tables`` gives ``expected`` per patient.

    ``series`` is a function so that building the query happens inside the test, where a
    failure is reported against this case. Patients in any table but missing from
    ``expected`` are an error, so every patient's value is stated.
    """

    name: str
    tables: dict[BaseFrame, str]
    series: Callable[[], BaseSeries]
    expected: dict[int, Any]
    notes: str = field(default="", compare=False)

    def __repr__(self) -> str:
        return self.name


def parse_table(frame: BaseFrame, text: str) -> list[dict[str, Any]]:
    """Rows from a text table: ``|``-separated, a header line, blanks are NULL."""
    node = frame._node
    schema = node.schema
    lines = [line.strip() for line in text.strip().splitlines()]
    lines = [line for line in lines if line and not set(line) <= set("-+| ")]
    header = [cell.strip() for cell in lines[0].split("|")]
    if header[0] != "patient_id":
        raise ValueError(f"the first column must be patient_id, not {header[0]!r}")
    rows = []
    for line in lines[1:]:
        cells = [cell.strip() for cell in line.split("|")]
        if len(cells) != len(header):
            raise ValueError(f"row {line!r} has {len(cells)} cells; the header has {len(header)}")
        row: dict[str, Any] = {"patient_id": int(cells[0])}
        for name, cell in zip(header[1:], cells[1:], strict=True):
            row[name] = parse_value(schema.get_column(name).type, cell)
        rows.append(row)
    return rows


def parse_value(type_: type, cell: str) -> Any:
    if cell == "":
        return None
    if type_ is bool:
        return {"T": True, "F": False}[cell]
    if type_ is int:
        return int(cell)
    if type_ is float:
        return float(cell)
    if type_ is datetime.date:
        return datetime.date.fromisoformat(cell)
    if is_code_type(type_):
        return type_(cell)
    return cell


def table_node(frame: BaseFrame) -> qm.SelectTable | qm.SelectPatientTable:
    node = frame._node
    assert isinstance(node, qm.SelectTable | qm.SelectPatientTable), "spec tables are whole tables"
    return node


def dataset_for(case: SpecCase) -> tuple[qm.Dataset, dict[qm.Node, list[dict[str, Any]]]]:
    """The query (population: everyone in the tables) and the parsed input rows."""
    data = {table_node(frame): parse_table(frame, text) for frame, text in case.tables.items()}
    population: qm.Series | None = None
    for node in data:
        exists = qm.Aggregate(qm.AggOp.EXISTS, node)
        population = exists if population is None else qm.Function(qm.Op.OR, (population, exists))
    series = case.series()
    assert isinstance(series, BaseSeries), f"{case.name}: series() must return a series"
    assert population is not None
    return qm.Dataset(population, (("v", series._node),)), data


def patients_in(data: dict[qm.Node, list[dict[str, Any]]]) -> set[int]:
    return {row["patient_id"] for rows in data.values() for row in rows}


def normalise(value: Any) -> Any:
    """Codes compare as their strings; floats are rounded so engines' last bits don't matter."""
    if hasattr(value, "value") and not isinstance(value, int | float | str):
        return value.value
    if isinstance(value, float):
        return round(value, 9)
    return value
