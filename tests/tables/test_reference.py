"""The schema reference page is generated from the code and kept in step with it."""

from __future__ import annotations

from pathlib import Path

from fedsafe.tables.reference import render

PAGE = Path(__file__).parents[2] / "docs" / "schemas.md"


def test_docs_schemas_page_matches_the_code():
    assert PAGE.read_text() == render(), (
        "docs/schemas.md is out of date: run `python -m fedsafe.tables.reference > docs/schemas.md`"
    )


def test_page_names_every_table_helper_and_permission():
    page = render()
    assert "### `tpp.appointments`" in page
    assert "*needs permission `appointments`*" in page
    assert "`spanning_with_systmone(start_date, end_date)`" in page
    assert "| `all_diagnoses` | multiple ICD-10 codes |" in page
    assert "### `smoketest.patients`" in page
    assert "| `imd_quintile` | string (derived) |" in page
