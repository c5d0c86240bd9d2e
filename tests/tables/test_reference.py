"""The schema reference renders every table, column, helper and permission from the code.

The page itself, with which backend kinds provide each table, is written and checked against
``docs/schemas.md`` by ``fedsafe.backends.reference`` (tests/backends/test_reference.py)."""

from __future__ import annotations

from fedsafe.tables.reference import render


def test_page_names_every_table_helper_and_permission():
    page = render()
    assert "### `tpp.appointments`" in page
    assert "*needs permission `appointments`*" in page
    assert "`spanning_with_systmone(start_date, end_date)`" in page
    assert "| `all_diagnoses` | multiple ICD-10 codes |" in page
    assert "### `smoketest.patients`" in page
    assert "| `imd_quintile` | string (derived) |" in page


def test_without_availability_the_tables_have_no_backend_columns():
    page = render()
    assert "| column | type | description | constraints |\n| --- | --- | --- | --- |\n" in page
    assert "**Backends:**" not in page
