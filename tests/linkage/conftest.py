"""Fixtures shared by the linkage tests."""

from __future__ import annotations

import pytest

from fedsafe.linkage.declaration import parse_declaration
from fedsafe.linkage.permission import permission_from_data
from linkage_data import permission_data


@pytest.fixture
def declaration():
    return parse_declaration(
        {
            "backend": "hospital",
            "tables": {
                "tpp.apcs": {
                    "columns": ["admission_date", "primary_diagnosis"],
                    "date_column": "admission_date",
                }
            },
            "date_range": {"start": "2020-01-01", "end": "2023-12-31"},
            "coarsen_dates": "month",
        }
    )


@pytest.fixture
def permission():
    return permission_from_data(permission_data())
