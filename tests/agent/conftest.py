"""The agent's tests share the built runtimes and the coordinator's database fixtures."""

from coordinator.conftest import migrated_sqlite, sqlite_url  # noqa: F401
from runtime_cache import runtime_cache  # noqa: F401
