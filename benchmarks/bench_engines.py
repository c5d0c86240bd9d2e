"""The cohort benchmark's definition on every executed engine, native and OMOP, vs DuckDB.

Generates one synthetic population (``synthetic_core``), loads it natively into DuckDB,
SQLite, PostgreSQL (a throwaway server started from the machine's initdb/pg_ctl) and Parquet
for Spark, and converted to OMOP CDM into SQLite, PostgreSQL and Parquet. Runs
``cohort_definition.py`` through each backend's configuration (data loading is not timed) and
prints each engine's wall time relative to native DuckDB measured in the same run, the best of
``--repeat`` runs. Not a test: timings vary with the machine; ratios are what to compare.

    .venv/bin/python benchmarks/bench_engines.py --patients 5000
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import pyarrow as pa

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "benchmarks"), str(ROOT / "tests")]

from backends.databases import (  # noqa: E402
    write_config,
    write_duckdb,
    write_parquet,
    write_postgres,
    write_sqlite,
)
from engine_servers import postgres_server  # noqa: E402
from fedsafe.backends.backend import Backend  # noqa: E402
from fedsafe.backends.config import load_config  # noqa: E402
from fedsafe.backends.mappings.omop_writer import to_omop  # noqa: E402
from fedsafe.loader import load_dataset_definition  # noqa: E402
from synthetic_core import iter_chunks  # noqa: E402

CORE = ["patients", "practice_registrations", "clinical_events", "medications", "ons_deaths"]
DEFINITION = ROOT / "benchmarks" / "cohort_definition.py"


def population(n: int, seed: int, events: float, medications: float) -> dict[str, pa.Table]:
    chunks = list(iter_chunks(n, seed, events, medications))
    return {name: pa.concat_tables([c[name] for c in chunks]) for name in CORE}


def timed_run(config: Path, dataset, repeat: int) -> tuple[float, int]:
    best, rows = float("inf"), 0
    for _ in range(repeat):
        started = time.perf_counter()
        con, reader = Backend(load_config(config)).run(dataset)
        try:
            rows = reader.read_all().num_rows
        finally:
            if "spark" not in config.read_text():
                con.disconnect()  # Spark's session is kept for the next run
        best = min(best, time.perf_counter() - started)
    return best, rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--events", type=float, default=10)
    parser.add_argument("--medications", type=float, default=4)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-spark", action="store_true", help="leave Spark out (slow start)")
    args = parser.parse_args(argv)

    # The definition reads the shared codelists beside the repository (see bench_cohort.py).
    from bench_cohort import PROJECT_DIR

    dataset = load_dataset_definition(DEFINITION, {}, project_dir=PROJECT_DIR).dataset
    core = population(args.patients, args.seed, args.events, args.medications)
    omop = to_omop(core)
    events = core["clinical_events"].num_rows
    print(f"{args.patients:,} patients, {events:,} clinical events; best of {args.repeat}")
    with tempfile.TemporaryDirectory() as tmp, postgres_server() as pg_url:
        d = Path(tmp)
        write_duckdb(d / "core.duckdb", core)
        write_sqlite(d / "core.sqlite", core)
        write_sqlite(d / "omop.sqlite", omop)
        write_parquet(d / "core-parquet", core)
        write_parquet(d / "omop-parquet", omop)
        # Two databases on one server: native and OMOP tables have different names anyway.
        write_postgres(pg_url, {**core, **omop})
        spark = "spark://local[2]"
        runs = {
            "duckdb native": (f"duckdb://{d}/core.duckdb", "native", ""),
            "sqlite native": (f"sqlite://{d}/core.sqlite", "native", ""),
            "sqlite omop": (f"sqlite://{d}/omop.sqlite", "omop", ""),
            "postgres native": (pg_url, "native", ""),
            "postgres omop": (pg_url, "omop", ""),
        }
        if not args.no_spark:
            runs["spark native"] = (spark, "native", f'parquet = "{d}/core-parquet"\n')
            runs["spark omop"] = (spark, "omop", f'parquet = "{d}/omop-parquet"\n')
        results: dict[str, tuple[float, int]] = {}
        for name, (url, mapping, extra) in runs.items():
            config = write_config(d / f"{name.replace(' ', '-')}.toml", url, mapping, CORE, extra)
            results[name] = timed_run(config, dataset, args.repeat)
        base = results["duckdb native"][0]
        print(f"{'engine':<18}{'seconds':>10}{'x DuckDB':>10}{'rows':>10}")
        for name, (seconds, rows) in results.items():
            print(f"{name:<18}{seconds:>10.2f}{seconds / base:>10.1f}{rows:>10,}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
