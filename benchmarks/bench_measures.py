"""Benchmark: measures in one query versus one query per measure and interval.

Usage::

    python benchmarks/bench_measures.py                     # 100,000 patients, 12 months
    python benchmarks/bench_measures.py --patients 20000 --months 24 --repeat 5

Both sides run the same three measures (prescribing of NSAIDs and strong opioids among
registered patients, by sex and age band, monthly) on the same DuckDB file of synthetic
core-schema data (``synthetic_core.py``), in this process, alternating ``--repeat`` times;
medians are reported and the ratio is per back-to-back pair. The two tables must be equal, or
the timing means nothing: differences are printed and the exit status is 1.

The one-pass side is ``fedsafe.engines.measures.run_measures``; the other is
``run_measures_per_interval``, which runs an ordinary dataset query per measure and interval
with INTERVAL replaced by its dates and sums it in the database, as a loop over intervals would.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import ibis

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

import synthetic_core  # noqa: E402
from fedsafe import INTERVAL, case, codelist_from_csv, create_measures, months, when  # noqa: E402
from fedsafe.engines.measures import run_measures, run_measures_per_interval  # noqa: E402
from fedsafe.language.measures import compile_measures  # noqa: E402
from fedsafe.query_model import nodes as qm  # noqa: E402
from fedsafe.tables.core import medications, patients, practice_registrations  # noqa: E402


def define(n_months: int) -> qm.Measures:
    codelists = synthetic_core.CODELIST_DIR
    nsaids = codelist_from_csv(codelists / synthetic_core.NSAID_CODELIST, column="dmd_id")
    opioids = codelist_from_csv(codelists / synthetic_core.OPIOID_CODELIST, column="dmd_id")
    registered = practice_registrations.for_patient_on(INTERVAL.start_date).exists_for_patient()
    alive = patients.is_alive_on(INTERVAL.start_date)
    rx = medications.where(medications.date.is_during(INTERVAL))
    age = patients.age_on(INTERVAL.start_date)
    age_band = case(
        when(age < 18).then("0-17"),
        when(age < 40).then("18-39"),
        when(age < 65).then("40-64"),
        when(age >= 65).then("65+"),
    )
    measures = create_measures()
    measures.define_defaults(
        denominator=registered & alive,
        intervals=months(n_months).starting_on("2019-01-01"),
    )
    measures.define_measure(
        "nsaid_by_sex",
        numerator=rx.where(medications.dmd_code.is_in(nsaids)).exists_for_patient(),
        group_by={"sex": patients.sex},
    )
    measures.define_measure(
        "opioid_by_age",
        numerator=rx.where(medications.dmd_code.is_in(opioids)).exists_for_patient(),
        group_by={"age_band": age_band},
    )
    measures.define_measure("prescriptions", numerator=rx.count_for_patient())
    return compile_measures(measures)


def _rows(table: object) -> list[tuple[object, ...]]:
    rows = [
        tuple(round(v, 9) if isinstance(v, float) else v for v in r.values())
        for r in table.to_pylist()  # type: ignore[attr-defined]
    ]
    return sorted(rows, key=repr)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=100_000)
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--data-dir", type=Path, default=BENCH_DIR / "data")
    args = parser.parse_args(argv)

    data_dir = args.data_dir.resolve()
    db = data_dir / f"core-{args.patients}-seed{args.seed}-v{synthetic_core.DATA_VERSION}.duckdb"
    if not db.exists():
        print(f"generating {args.patients:,} patients into {db} ...", flush=True)
        synthetic_core.write_duckdb(db, args.patients, args.seed)
    node = define(args.months)
    queries = sum(len(m.intervals) for m in node.measures)
    print(f"{len(node.measures)} measures x {args.months} months = {queries} measure-intervals")

    backend = ibis.duckdb.connect(str(db), read_only=True)
    one_pass_times: list[float] = []
    per_interval_times: list[float] = []
    try:
        for _ in range(args.repeat):
            started = time.perf_counter()
            one_pass = run_measures(node, backend)
            one_pass_times.append(time.perf_counter() - started)
            started = time.perf_counter()
            per_interval = run_measures_per_interval(node, backend)
            per_interval_times.append(time.perf_counter() - started)
    finally:
        backend.disconnect()

    if _rows(one_pass) != _rows(per_interval):
        print("the two tables differ: the timing means nothing")
        print("one pass:    ", _rows(one_pass)[:5])
        print("per interval:", _rows(per_interval)[:5])
        return 1
    ratios = [b / a for a, b in zip(one_pass_times, per_interval_times, strict=True)]
    print(f"rows: {one_pass.num_rows} (equal on both sides)")
    print(f"one pass:               median {statistics.median(one_pass_times):.2f} s")
    print(
        f"one query per interval: median {statistics.median(per_interval_times):.2f} s "
        f"({queries} queries)"
    )
    print(f"per-interval / one-pass: median {statistics.median(ratios):.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
