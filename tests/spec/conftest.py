"""Every spec module's CASES runs on every engine in ENGINES."""

import pytest

ENGINES = ["duckdb"]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "spec_case" in metafunc.fixturenames:
        cases = metafunc.module.CASES
        metafunc.parametrize("spec_case", cases, ids=[c.name for c in cases])
    if "engine" in metafunc.fixturenames:
        metafunc.parametrize("engine", ENGINES)
