"""Every spec module's CASES runs on every engine in ENGINES."""

import ibis
import pytest

from engine_servers import spark_session
from spec import runner

# Spark runs every case too, in batches (see spec/spark_batch.py): it costs about a second
# per query, so its cases are grouped into one job per module.
ENGINES = ["duckdb", "sqlite", "postgres", "spark"]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "spec_case" in metafunc.fixturenames and "engine" in metafunc.fixturenames:
        params = []
        # A module may run on fewer engines, saying why next to its own ENGINES.
        engines = getattr(metafunc.module, "SPEC_ENGINES", ENGINES)
        for case in metafunc.module.CASES:
            for engine in engines:
                params.append(pytest.param(case, engine, id=f"{case.name}-{engine}"))
        metafunc.parametrize(("spec_case", "engine"), params)


@pytest.fixture(autouse=True)
def _servers(request: pytest.FixtureRequest) -> None:
    """Connect to the server engines the first time a case needs them."""
    engine = (
        request.node.callspec.params.get("engine") if hasattr(request.node, "callspec") else None
    )
    if engine == "postgres" and "postgres" not in runner.SERVERS:
        url = request.getfixturevalue("postgres_url")
        runner.SERVERS["postgres"] = ibis.connect(url)
    if engine == "spark" and "spark" not in runner.SERVERS:
        runner.SERVERS["spark"] = ibis.pyspark.connect(spark_session())
