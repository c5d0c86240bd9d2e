"""Fixtures shared by every test folder: real database servers, started once per run."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from engine_servers import postgres_server, spark_session


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A real PostgreSQL server for the whole run (never skipped: a missing server fails)."""
    with postgres_server() as url:
        yield url


@pytest.fixture(scope="session")
def spark() -> Iterator[object]:
    session = spark_session()
    yield session
    session.stop()
