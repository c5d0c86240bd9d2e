"""One cache of built runtimes (python:v1) for the whole test session, and across sessions.

Building python:v1 downloads and installs a few hundred megabytes; tests share one build in
``.cache/`` at the top of the repository (or ``$FEDSAFE_TEST_CACHE``), which the first test to
need it builds with the real uv from the real lock file.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session", autouse=True)
def runtime_cache() -> Iterator[Path]:
    cache = Path(os.environ.get("FEDSAFE_TEST_CACHE") or REPO / ".cache" / "fedsafe")
    cache.mkdir(parents=True, exist_ok=True)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FEDSAFE_CACHE_DIR", str(cache))
        yield cache
