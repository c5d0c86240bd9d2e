"""Fixtures shared by every test folder: real database servers, started once per run.

Spark has no fixture: a backend's connection owns its session and stops it when closed, so
tests call ``engine_servers.spark_session()`` (get or create) when they need one.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from engine_servers import postgres_server


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A real PostgreSQL server for the whole run (never skipped: a missing server fails)."""
    with postgres_server() as url:
        yield url
