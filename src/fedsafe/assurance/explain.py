"""Why a patient is or isn't in the population: the population's parts, evaluated per patient.

The population is usually a chain of conditions joined by ``&`` and ``|`` (and negated with
``~``). Each part is run through the real engine as a variable of a second dataset, over the
same test tables, so the values shown are the ones the engine computes, NULLs included. That
second dataset covers every patient who has a row in any table the population reads, which is
exactly who the real population is chosen from.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from fedsafe.dummy_data.dataset import run_on_tables
from fedsafe.query_model import nodes as qm
from fedsafe.query_model.describe import describe

__all__ = ["Part", "PopulationExplanation", "explain_population", "population_parts"]


@dataclass(frozen=True)
class Part:
    """A condition in the population: ``&``/``|`` of its children, ``~`` of one, or a leaf."""

    node: qm.Series
    kind: str  # "and", "or", "not" or "condition"
    children: tuple[Part, ...] = ()

    @property
    def label(self) -> str:
        return describe(self.node, max_length=120)


@dataclass(frozen=True)
class PopulationExplanation:
    """Each part's value per patient id (absent: the patient is not in the tables read)."""

    root: Part
    values: Mapping[int, Mapping[qm.Series, Any]]
    tables_read: tuple[str, ...]

    def lines(self, patient_id: int) -> list[str]:
        """The parts as an indented tree with this patient's value of each."""
        values = self.values.get(patient_id)
        if values is None:
            return [
                "has no rows in any table the population reads "
                f"({', '.join(self.tables_read)}), so cannot be in it"
            ]
        out: list[str] = []
        _lines(self.root, values, 0, out)
        return out


def population_parts(population: qm.Series) -> Part:
    """The population split at ``&``, ``|`` and ``~`` (chains of one operator flattened)."""
    if isinstance(population, qm.Function) and population.op in (qm.Op.AND, qm.Op.OR):
        kind = population.op.value
        flat: list[qm.Series] = []
        _flatten(population, population.op, flat)
        return Part(population, kind, tuple(population_parts(s) for s in flat))
    if isinstance(population, qm.Function) and population.op is qm.Op.NOT:
        return Part(population, "not", (population_parts(population.args[0]),))
    return Part(population, "condition")


def _flatten(node: qm.Series, op: qm.Op, out: list[qm.Series]) -> None:
    if isinstance(node, qm.Function) and node.op is op:
        for arg in node.args:
            _flatten(arg, op, out)
    else:
        out.append(node)


def explain_population(
    dataset: qm.Dataset, tables: Mapping[str, pa.Table]
) -> PopulationExplanation:
    """Run each part of ``dataset``'s population on ``tables`` for every patient they hold."""
    root = population_parts(dataset.population)
    parts: list[qm.Series] = []
    _collect(root, parts)
    read = sorted(qm.tables_used(dataset.population))
    universe = [qm.Aggregate(qm.AggOp.EXISTS, node) for node in _table_nodes(dataset.population)]
    universe += [
        qm.Aggregate(qm.AggOp.EXISTS, n)
        for n in qm.walk(dataset.population)
        if isinstance(n, qm.InlinePatientTable)
    ]
    everyone = universe[0] if len(universe) == 1 else qm.Function(qm.Op.OR, tuple(universe[:2]))
    for extra in universe[2:]:
        everyone = qm.Function(qm.Op.OR, (everyone, extra))
    probe = qm.Dataset(everyone, tuple((f"part_{i}", p) for i, p in enumerate(parts)))
    result = run_on_tables(probe, tables).to_pylist()
    values = {
        row["patient_id"]: {p: row[f"part_{i}"] for i, p in enumerate(parts)} for row in result
    }
    return PopulationExplanation(root, values, tuple(read))


def _table_nodes(series: qm.Series) -> list[qm.Node]:
    return [node for _, node in sorted(qm.tables_used(series).items())]


def _collect(part: Part, out: list[qm.Series]) -> None:
    if part.node not in out:
        out.append(part.node)
    for child in part.children:
        _collect(child, out)


def _show(value: Any) -> str:
    return "NULL" if value is None else str(value)


def _lines(part: Part, values: Mapping[qm.Series, Any], depth: int, out: list[str]) -> None:
    value = values[part.node]
    mark = "ok " if value is True else "-> "
    joiner = {"and": "all of", "or": "any of", "not": "not"}.get(part.kind)
    label = joiner + ":" if joiner else part.label
    out.append(f"{'  ' * depth}{mark}{_show(value):<5} {label}")
    for child in part.children:
        _lines(child, values, depth + 1, out)
