"""Running a definition on hand-made patients and saying, patient by patient, what differed.

The real engine runs on the test tables (DuckDB, as for dummy data), so a test passes only if
the definition the backend will run gives the values the researcher wrote down. A failure says
which column had which value instead of which, and for population mismatches shows each part
of the population with its value for that patient, so "why isn't patient 3 in?" has an answer.
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from fedsafe.assurance.cases import PatientCase
from fedsafe.assurance.explain import explain_population
from fedsafe.assurance.tables import build_tables
from fedsafe.dummy_data.dataset import run_on_tables
from fedsafe.query_model import nodes as qm

__all__ = ["ColumnDifference", "DefinitionTestReport", "PatientResult", "run_definition_tests"]


@dataclass(frozen=True)
class ColumnDifference:
    """A column whose value was not the one expected (``actual`` None: NULL)."""

    column: str
    expected: Any
    actual: Any
    problem: str = ""

    def describe(self) -> str:
        if self.problem:
            return f"column {self.column!r}: {self.problem}"
        return f"column {self.column!r}: expected {_show(self.expected)}, got {_show(self.actual)}"


@dataclass(frozen=True)
class PatientResult:
    """How one test patient came out."""

    patient_id: int
    expected_in_population: bool
    in_population: bool
    differences: tuple[ColumnDifference, ...]
    why: tuple[str, ...]

    @property
    def passed(self) -> bool:
        return self.expected_in_population == self.in_population and not self.differences


@dataclass(frozen=True)
class DefinitionTestReport:
    """Every test patient's result, and the text a researcher reads."""

    source: str
    results: tuple[PatientResult, ...]

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.results)

    @property
    def failures(self) -> tuple[PatientResult, ...]:
        return tuple(r for r in self.results if not r.passed)

    def text(self, *, verbose: bool = False) -> str:
        """A report: one block per failing patient (every patient when ``verbose``)."""
        lines: list[str] = []
        for result in self.results:
            if result.passed and not verbose:
                continue
            status = "ok" if result.passed else "FAILED"
            lines.append(f"Patient {result.patient_id}: {status}")
            if result.expected_in_population != result.in_population:
                lines.append(
                    "  expected to be in the population, but was not"
                    if result.expected_in_population
                    else "  expected not to be in the population, but was"
                )
            lines.extend(f"  {d.describe()}" for d in result.differences)
            if verbose or result.expected_in_population != result.in_population:
                lines.append("  population, part by part (-> marks a part that is not True):")
                lines.extend(f"    {line}" for line in result.why)
        count = len(self.results)
        failed = len(self.failures)
        if failed:
            lines.append(f"{self.source}: {failed} of {count} test patients FAILED")
        else:
            lines.append(f"{self.source}: all {count} test patients passed")
        return "\n".join(lines)


def run_definition_tests(
    dataset: qm.Dataset, cases: Sequence[PatientCase], *, source: str
) -> DefinitionTestReport:
    """Run ``dataset`` on the tables ``cases`` make and compare with what they expect."""
    tables = build_tables(dataset, cases)
    rows = {row["patient_id"]: row for row in run_on_tables(dataset, tables).to_pylist()}
    explanation = explain_population(dataset, tables)
    types = dict((name, series.type) for name, series in dataset.variables)
    results = []
    for case in cases:
        row = rows.get(case.patient_id)
        differences: list[ColumnDifference] = []
        if row is not None and case.expected_columns:
            for column, expected in case.expected_columns.items():
                differences.extend(_compare(column, expected, row, types))
        results.append(
            PatientResult(
                patient_id=case.patient_id,
                expected_in_population=case.expected_in_population,
                in_population=row is not None,
                differences=tuple(differences),
                why=tuple(explanation.lines(case.patient_id)),
            )
        )
    return DefinitionTestReport(source, tuple(results))


def _compare(
    column: str, expected: Any, row: dict[str, Any], types: dict[str, Any]
) -> list[ColumnDifference]:
    if column not in types:
        known = ", ".join(types) or "no columns"
        return [
            ColumnDifference(
                column, expected, None, f"the dataset has no such column (it has {known})"
            )
        ]
    actual = row[column]
    if _equal(expected, actual, types[column]):
        return []
    return [ColumnDifference(column, expected, actual)]


def _equal(expected: Any, actual: Any, type_: Any) -> bool:
    if expected is None or actual is None:
        return expected is None and actual is None
    if type_ is datetime.date and isinstance(expected, str):
        try:
            expected = datetime.date.fromisoformat(expected)
        except ValueError:
            return False
    if type_ is bool or isinstance(expected, bool):
        return isinstance(expected, bool) and expected == actual
    if type_ is float and isinstance(expected, int | float):
        return math.isclose(expected, actual, rel_tol=1e-9, abs_tol=1e-12)
    if type_ is int and isinstance(expected, float) and expected.is_integer():
        return int(expected) == actual
    expected = getattr(expected, "value", expected) if not isinstance(expected, str) else expected
    return type(expected) is type(actual) and expected == actual


def _show(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, datetime.date):
        return value.isoformat()
    return repr(value)
