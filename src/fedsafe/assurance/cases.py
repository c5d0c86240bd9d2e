"""Hand-made test patients, as ehrQL documents them, checked into typed values.

A definition's ``test_data`` (or a YAML file beside it) maps each patient id to the rows of the
tables that patient has, plus what the definition should make of them::

    test_data = {
        1: {
            "patients": {"date_of_birth": date(1980, 1, 1), "sex": "female"},
            "clinical_events": [{"date": date(2020, 3, 1), "snomedct_code": "123456"}],
            "expected_in_population": True,
            "expected_columns": {"age": 40},
        },
        2: {"patients": {"date_of_birth": date(2010, 1, 1)}, "expected_in_population": False},
    }

A one-row-per-patient table is given as one dict, a many-rows table as a list of dicts;
``patient_id`` is implied. This module only checks the shape; values are checked against each
table's schema when the tables are built (:mod:`fedsafe.assurance.tables`).
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fedsafe.errors import FedsafeError
from fedsafe.loader.test_data_wire import decode_value

__all__ = ["PatientCase", "TestDataError", "parse_test_data"]

EXPECTED_IN_POPULATION = "expected_in_population"
EXPECTED_COLUMNS = "expected_columns"


class TestDataError(FedsafeError):
    """Hand-made test patients that are not in the documented shape, or do not fit a table."""

    __test__ = False  # not a pytest test class, despite the name


@dataclass(frozen=True)
class PatientCase:
    """One hand-made patient: their rows per table and what the definition should give."""

    patient_id: int
    tables: Mapping[str, tuple[Mapping[str, Any], ...]]
    expected_in_population: bool
    expected_columns: Mapping[str, Any] | None
    source: str = ""  # where the patient was written, for error messages


def parse_test_data(data: Mapping[Any, Any], *, source: str) -> tuple[PatientCase, ...]:
    """Every patient in ``data``, in id order; ``source`` names where it came from in errors."""
    if not isinstance(data, Mapping) or not data:
        raise TestDataError(
            f"{source}: test_data must be a non-empty dict of patient id -> {{table: rows}}"
        )
    cases = [_parse_patient(key, value, source) for key, value in data.items()]
    ids = [c.patient_id for c in cases]
    if len(set(ids)) != len(ids):
        repeated = sorted({i for i in ids if ids.count(i) > 1})
        raise TestDataError(f"{source}: patient {repeated[0]} is given more than once")
    return tuple(sorted(cases, key=lambda c: c.patient_id))


def _patient_id(key: Any, source: str) -> int:
    if isinstance(key, int) and not isinstance(key, bool):
        return key
    if isinstance(key, str) and key.lstrip("-").isdigit():
        return int(key)
    raise TestDataError(f"{source}: patient id {key!r} is not a whole number")


def _parse_patient(key: Any, value: Any, source: str) -> PatientCase:
    patient_id = _patient_id(key, source)
    where = f"{source}, patient {patient_id}"
    if not isinstance(value, Mapping):
        raise TestDataError(f"{where}: expected a dict of table name -> rows, got {value!r}")
    if EXPECTED_IN_POPULATION not in value:
        raise TestDataError(
            f"{where}: missing {EXPECTED_IN_POPULATION!r} (True or False): say whether this "
            "patient should be in the population"
        )
    in_population = value[EXPECTED_IN_POPULATION]
    if not isinstance(in_population, bool):
        raise TestDataError(
            f"{where}: {EXPECTED_IN_POPULATION!r} must be True or False, got {in_population!r}"
        )
    columns = value.get(EXPECTED_COLUMNS)
    if columns is not None:
        if not isinstance(columns, Mapping):
            raise TestDataError(
                f"{where}: {EXPECTED_COLUMNS!r} must be a dict of column name -> value"
            )
        if not in_population:
            raise TestDataError(
                f"{where}: has {EXPECTED_COLUMNS!r} but is expected not to be in the "
                "population, so it has no columns; remove one or the other"
            )
        columns = {str(k): decode_value(v) for k, v in columns.items()}
    tables: dict[str, tuple[Mapping[str, Any], ...]] = {}
    for name, rows in value.items():
        if name in (EXPECTED_IN_POPULATION, EXPECTED_COLUMNS):
            continue
        if not isinstance(name, str) or not name.isidentifier():
            raise TestDataError(f"{where}: {name!r} is not a table name")
        tables[name] = _parse_rows(rows, f"{where}, table {name}")
    return PatientCase(patient_id, tables, in_population, columns, source)


def _parse_rows(rows: Any, where: str) -> tuple[Mapping[str, Any], ...]:
    listed = [rows] if isinstance(rows, Mapping) else rows
    if not isinstance(listed, list | tuple):
        raise TestDataError(
            f"{where}: expected a dict (one row) or a list of dicts (many rows), got {rows!r}"
        )
    parsed = []
    for index, row in enumerate(listed, start=1):
        if not isinstance(row, Mapping):
            raise TestDataError(f"{where}, row {index}: expected a dict of column -> value")
        if "patient_id" in row:
            raise TestDataError(
                f"{where}, row {index}: leave out patient_id; it is the patient's key in test_data"
            )
        parsed.append(
            {
                str(k): _leaf(decode_value(v), f"{where}, row {index}, column {k}")
                for k, v in row.items()
            }
        )
    return tuple(parsed)


def _leaf(value: Any, where: str) -> Any:
    if value is None or isinstance(value, bool | int | float | str | datetime.date):
        return value
    raise TestDataError(f"{where}: {type(value).__name__} is not a value a column can hold")
