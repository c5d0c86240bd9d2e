"""The agent's tests share the built runtimes and the coordinator's migrated template database."""

from __future__ import annotations

import shutil

import pytest

from coordinator.conftest import migrated_sqlite  # noqa: F401
from runtime_cache import runtime_cache  # noqa: F401


@pytest.fixture
def coordinator_db(tmp_path, migrated_sqlite):  # noqa: F811
    """A fresh coordinator database alone in its own folder, so "every file the coordinator
    wrote" is exactly that folder."""
    folder = tmp_path / "coordinator"
    folder.mkdir()
    shutil.copy(migrated_sqlite, folder / "coordinator.sqlite3")
    return f"sqlite:///{folder / 'coordinator.sqlite3'}"
