"""docs/schemas.md says which backend kinds provide each table and column, read from the
mappings, and agrees with what ``fedsafe backend tables`` lists for a configured backend."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from backends.databases import write_config
from fedsafe.backends.mappings.coverage import NOT_PROVIDED, PARTIAL_TABLES
from fedsafe.backends.mappings.native import providable_tables
from fedsafe.backends.reference import KINDS, availability, column_availability, page
from fedsafe.cli.main import app
from fedsafe.tables import tpp
from fedsafe.tables.reference import SCHEMAS

PAGE = Path(__file__).parents[2] / "docs" / "schemas.md"
runner = CliRunner()


def test_docs_schemas_page_matches_the_code():
    assert PAGE.read_text() == page(), (
        "docs/schemas.md is out of date: run "
        "`python -m fedsafe.backends.reference > docs/schemas.md`"
    )


def test_a_column_omop_lacks_is_shown_not_provided_with_its_reason():
    reason = NOT_PROVIDED["apcs"]["discharge_method"]
    assert "SUS code" in reason
    assert column_availability("omop", "apcs", "discharge_method") == f"no: {reason}"
    assert column_availability("native", "apcs", "discharge_method") == "—"
    rows = [line for line in page().splitlines() if line.startswith("| `discharge_method` |")]
    assert len(rows) == 1
    cells = [cell.strip() for cell in rows[0].strip("|").split(" | ")]
    assert cells[-2:] == ["—", f"no: {reason}"]  # native does not provide apcs at all
    assert "**Backends:** native: not provided · omop: 5 of 13 columns" in page()
    admission = [line for line in page().splitlines() if line.startswith("| `admission_date` |")]
    assert any(line.endswith("| — | yes |") for line in admission)


def test_a_core_column_a_tpp_table_adds_is_shown_not_provided():
    ctv3 = availability("tpp", "clinical_events").columns["ctv3_code"]
    assert ctv3 == tuple(
        f"no: not a column of `core.clinical_events`, the table the {kind} mapping provides"
        for kind in KINDS
    )
    assert availability("core", "clinical_events").summary == (
        "**Backends:** native: all columns · omop: all columns"
    )


@pytest.mark.parametrize("table", sorted(PARTIAL_TABLES))
def test_every_column_of_a_partial_table_is_provided_or_has_a_reason(table):
    columns = set(getattr(tpp, table)._node.schema.column_names)
    provided = set(PARTIAL_TABLES[table])
    lacking = set(NOT_PROVIDED[table])
    assert provided | lacking == columns
    assert not provided & lacking


def _listed(config: Path) -> set[tuple[str, str]]:
    result = runner.invoke(app, ["backend", "tables", str(config)], terminal_width=200)
    assert result.exit_code == 0, result.output
    rows = [line.replace("│", " ").split() for line in result.stdout.splitlines()]
    return {(row[0], row[1]) for row in rows if len(row) == 3 and row[0] != "table"}


def _documented(kind: str) -> set[tuple[str, str]]:
    found = set()
    for schema in SCHEMAS:
        module = importlib.import_module(f"fedsafe.tables.{schema}")
        for table in module.__all__:
            for column, cells in availability(schema, table).columns.items():
                if cells[KINDS.index(kind)] == "yes":
                    found.add((table, column))
    return found


@pytest.mark.parametrize("kind", KINDS)
def test_the_page_agrees_with_backend_tables(kind, tmp_path):
    tables = sorted(providable_tables(kind))
    config = write_config(tmp_path / "b.toml", "duckdb:///x.duckdb", kind, tables)
    listed = _listed(config)
    assert ("patients", "date_of_birth") in listed
    if kind == "omop":
        assert ("apcs", "admission_date") in listed
        assert ("apcs", "discharge_method") not in listed
    assert _documented(kind) == listed
