"""Opening a backend's engine from its URL, with secrets read from the environment.

Drivers fail in their own words (psycopg's ``OperationalError``, py4j's Java traces); here
every failure to connect becomes one :class:`BackendConnectionError` that names the backend,
the URL with its password hidden, and the driver's first line, so an operator sees what to fix
instead of a traceback.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import unquote, urlsplit

import ibis

from fedsafe.backends.config import EngineConfig, expand_env, redact
from fedsafe.errors import DataSourceError

__all__ = ["BackendConnectionError", "connect_engine"]

CONNECT_TIMEOUT_SECONDS = 10


class BackendConnectionError(DataSourceError):
    """The engine a backend names cannot be reached or opened."""


def connect_engine(
    engine: EngineConfig, physical_tables: list[str], environ: Mapping[str, str] | None = None
) -> ibis.BaseBackend:
    """Connect to the engine; for Spark, also register each Parquet dataset as a table."""
    environ = dict(os.environ if environ is None else environ)
    url = expand_env(engine.url, environ, what="engine.url")
    shown = redact(engine.url)
    scheme = engine.scheme
    try:
        if scheme == "duckdb":
            from fedsafe.backends.dsn import connect, parse_dsn

            return connect(parse_dsn(url))
        if scheme == "sqlite":
            return _sqlite(url)
        if scheme in ("postgresql", "postgres"):
            return _postgres(url)
        if scheme == "spark":
            return _spark(url, engine, physical_tables)
    except DataSourceError:
        raise
    except Exception as exc:
        first_line = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise BackendConnectionError(f"cannot connect to {shown}: {first_line}") from None
    raise BackendConnectionError(f"unsupported engine URL {shown}")


def _sqlite(url: str) -> ibis.BaseBackend:
    # As for DuckDB: sqlite:///abs/path.db is absolute, sqlite://rel/path.db is relative.
    path = Path(unquote(url.partition("://")[2]))
    if not path.is_file():
        raise BackendConnectionError(f"SQLite database {path} does not exist")
    return ibis.sqlite.connect(str(path))


def _postgres(url: str) -> ibis.BaseBackend:
    parts = urlsplit(url)
    return ibis.postgres.connect(
        host=parts.hostname or "localhost",
        port=parts.port or 5432,
        user=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        database=parts.path.lstrip("/") or None,
        connect_timeout=CONNECT_TIMEOUT_SECONDS,
        # PostgreSQL's JIT compiles a query's expressions with LLVM when the plan looks costly;
        # a dataset query's large CASE trees made LLVM run for many minutes, not checking for
        # cancellation, before returning a row. Interpretation is fast enough for these queries.
        options="-c jit=off",
    )


def _spark(url: str, engine: EngineConfig, physical_tables: list[str]) -> ibis.BaseBackend:
    """``spark://local[2]`` runs in this process; ``spark://HOST:PORT`` uses a cluster.

    Tables are Parquet datasets under ``engine.parquet`` (a folder, or a cluster URI such as
    ``hdfs://`` or ``s3a://``), one per physical table, registered as temporary views.
    """
    from pyspark.sql import SparkSession

    target = url.partition("://")[2]
    master = target if target.startswith("local") else f"spark://{target}"
    builder = SparkSession.builder.master(master).appName("fedsafe")
    builder = builder.config("spark.sql.session.timeZone", "UTC")
    for key, value in engine.spark_conf:
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    if engine.parquet is not None:
        root = engine.parquet.rstrip("/")
        for table in physical_tables:
            location = f"{root}/{table}"
            if "://" not in root and not Path(location).exists():
                continue  # reported as a missing table by the check, not as a crash here
            session.read.parquet(location).createOrReplaceTempView(table)
    return ibis.pyspark.connect(session)
