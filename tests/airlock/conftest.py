from __future__ import annotations

from pathlib import Path

import pytest

from airlock.backend_fixture import make_backend
from fedsafe.airlock.config import load_config
from fedsafe.airlock.service import Airlock


@pytest.fixture
def backend(tmp_path: Path) -> Path:
    return make_backend(tmp_path / "backend")


@pytest.fixture
def airlock(backend: Path) -> Airlock:
    return Airlock(load_config(backend))
