"""SQL Server (T-SQL) and Trino: every spec case compiles, and the SQL parses in that dialect.

These two engines are compiled and syntax-checked here, not executed: no server runs in CI. A
case whose SQL sqlglot cannot parse as T-SQL or Trino fails, naming the case and the error.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import ibis
import pytest
import sqlglot
from sqlglot.errors import ErrorLevel

from fedsafe.engines.execute import _unbound_loader, dataset_sql
from fedsafe.engines.measures import compile_measures
from spec.harness import SpecCase, dataset_for

SPEC_MODULES = sorted(
    p.stem for p in Path(__file__).parent.glob("test_*.py") if p.stem != Path(__file__).stem
)
DIALECTS = {"mssql": "tsql", "trino": "trino"}


def all_cases() -> list[SpecCase]:
    cases = []
    for name in SPEC_MODULES:
        module = importlib.import_module(f"spec.{name}")
        cases += getattr(module, "CASES", [])
    return cases


ALL_CASES = all_cases()


def test_every_spec_module_is_included() -> None:
    names = [c.name for c in ALL_CASES]
    assert len(names) > 300
    assert len(set(names)) == len(names), "a spec case is listed twice"


@pytest.mark.parametrize("dialect", sorted(DIALECTS))
@pytest.mark.parametrize("case", ALL_CASES, ids=[c.name for c in ALL_CASES])
def test_spec_case_sql_parses(case: SpecCase, dialect: str) -> None:
    if isinstance(case, SpecCase):
        dataset, _ = dataset_for(case)
        sql = dataset_sql(dataset, dialect)
    else:  # a measures case: its one-pass query
        from spec.test_measures import _build

        node, _ = _build(case)
        sql = str(ibis.to_sql(compile_measures(node, _unbound_loader), dialect=dialect))
    parsed = sqlglot.parse(sql, read=DIALECTS[dialect], error_level=ErrorLevel.RAISE)
    assert len(parsed) == 1 and isinstance(parsed[0], sqlglot.exp.Query), sql
