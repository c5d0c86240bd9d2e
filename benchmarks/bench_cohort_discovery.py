"""Benchmark a cohort-discovery availability query against a hand-written SQL count.

Usage::

    python benchmarks/bench_cohort_discovery.py                   # 1,000,000 patients
    python benchmarks/bench_cohort_discovery.py --patients 100000 # quick run

Both contenders run in this process on the same DuckDB file of synthetic core-schema data
(``synthetic_core.py``, reused from ``--data-dir`` when already built): fedsafe answers a
fedsafe-form query through :func:`fedsafe.cohort.answer.answer_count` (parse, compile through
the query model, run, policy, audit record) with an empty ledger; the baseline is one SQL
``COUNT`` written by hand for the same patients. They alternate ``--repeat`` times and medians
are reported; the raw counts must agree, otherwise the timing means nothing. A second fedsafe
figure is with a ledger of ``--ledger`` earlier answered queries, which the ledger compares in
the same scan.

Two queries: ``rquest``, shaped like a hub's query (one concept per rule: a diabetes code in
the last 24 months OR an osteoarthritis code; female aged 40-80; no prescription of one strong
opioid) and ``codelists``, the same with whole codelists (79 + 392 SNOMED CT codes, 1,560 dm+d).

Goal: fedsafe under 2 s at 1,000,000 patients for the RQuest-shaped query. Exit status 0 goal
met, 1 counts differ, 2 goal not met.
"""

from __future__ import annotations

import argparse
import datetime
import statistics
import sys
import tempfile
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

import synthetic_core  # noqa: E402

REF = datetime.date(2024, 12, 31)
GOAL_SECONDS = 2.0


def query_document(dm: list[str], oa: list[str], opioids: list[str]) -> dict:
    """Diabetes in the last 24 months or osteoarthritis ever; female, 40-80; no strong opioid."""
    return {
        "reference_date": REF.isoformat(),
        "groups_oper": "AND",
        "groups": [
            {
                "rules_oper": "OR",
                "rules": [
                    {"domain": "condition", "codes": [f"snomedct:{c}" for c in dm],
                     "time": {"within_months": 24}},
                    {"domain": "condition", "codes": [f"snomedct:{c}" for c in oa]},
                ],
            },
            {"rules": [{"domain": "person", "sex": "female", "age": {"low": 40, "high": 80}}]},
            {"rules": [{"domain": "drug", "codes": [f"dmd:{c}" for c in opioids],
                        "exclude": True}]},
        ],
    }  # fmt: skip


def baseline_sql(dm: list[str], oa: list[str], opioids: list[str]) -> str:
    def quoted(codes: list[str]) -> str:
        return ", ".join(f"'{c}'" for c in codes)

    return f"""
    SELECT count(*) FROM patients p
    WHERE p.sex = 'female'
      AND date_diff('year', p.date_of_birth, DATE '{REF}')
          - CASE WHEN strftime(p.date_of_birth, '%m-%d') > '{REF:%m-%d}' THEN 1 ELSE 0 END
          BETWEEN 40 AND 80
      AND (EXISTS (SELECT 1 FROM clinical_events e WHERE e.patient_id = p.patient_id
                   AND e.snomedct_code IN ({quoted(dm)})
                   AND e.date > DATE '2022-12-31' AND e.date <= DATE '{REF}')
           OR EXISTS (SELECT 1 FROM clinical_events e WHERE e.patient_id = p.patient_id
                      AND e.snomedct_code IN ({quoted(oa)})))
      AND NOT EXISTS (SELECT 1 FROM medications m WHERE m.patient_id = p.patient_id
                      AND m.dmd_code IN ({quoted(opioids)}))
    """


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--ledger", type=int, default=5)
    parser.add_argument("--data-dir", type=Path, default=BENCH_DIR / "data")
    args = parser.parse_args(argv)

    import ibis

    db = (
        args.data_dir
        / f"core-{args.patients}-seed{args.seed}-v{synthetic_core.DATA_VERSION}.duckdb"
    )
    if not db.exists():
        print(f"generating {args.patients:,} patients into {db} ...", flush=True)
        synthetic_core.write_duckdb(db, args.patients, args.seed)
    dm = synthetic_core.read_codes(synthetic_core.DM_CODELIST, "code")
    oa = synthetic_core.read_codes(synthetic_core.OA_CODELIST, "code")
    opioids = synthetic_core.read_codes(synthetic_core.OPIOID_CODELIST, "dmd_id")
    # The single concepts: the most frequent code of each codelist in the data.
    connection = ibis.duckdb.connect(str(db), read_only=True)
    raw = connection.raw_sql  # the baseline uses the same DuckDB connection

    def commonest(table: str, column: str, codes: list[str]) -> str:
        listed = ", ".join(f"'{c}'" for c in codes)
        return raw(
            f"SELECT {column} FROM {table} WHERE {column} IN ({listed}) "
            f"GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1"
        ).fetchone()[0]

    single = (
        [commonest("clinical_events", "snomedct_code", dm)],
        [commonest("clinical_events", "snomedct_code", oa)],
        [commonest("medications", "dmd_code", opioids)],
    )
    scratch = Path(tempfile.mkdtemp(prefix="bench-cohort-discovery-"))
    goal_met = True
    for name, codes in (("rquest", single), ("codelists", (dm, oa, opioids))):
        document = query_document(*codes)
        sql = baseline_sql(*codes)
        result = _measure(name, document, sql, connection, scratch, args)
        if result is None:
            return 1
        if name == "rquest":
            goal_met = result < GOAL_SECONDS
    print(
        f"goal: RQuest-shaped query under {GOAL_SECONDS:.0f} s: {'met' if goal_met else 'NOT met'}"
    )
    return 0 if goal_met else 2


def _measure(name, document, sql, connection, scratch, args) -> float | None:
    from fedsafe.cohort import fedsafe_form
    from fedsafe.cohort.answer import answer_count
    from fedsafe.cohort.audit import AuditLog

    raw = connection.raw_sql
    fedsafe_times, baseline_times, ledger_times = [], [], []
    base_count = None
    for i in range(args.repeat):
        started = time.perf_counter()
        base_count = raw(sql).fetchone()[0]
        baseline_times.append(time.perf_counter() - started)

        log = AuditLog(scratch / f"{name}-audit-{i}.jsonl")
        started = time.perf_counter()
        answer_count(fedsafe_form.from_jsonable(document), connection, audit=log)
        fedsafe_times.append(time.perf_counter() - started)
        fedsafe_raw = next(log.records())["raw_count"]
        if fedsafe_raw != base_count:
            print(f"{name}: counts differ: fedsafe {fedsafe_raw:,}, SQL {base_count:,}")
            return None

    # A ledger of earlier answers: the same query narrowed by age, one per earlier answer.
    log = AuditLog(scratch / f"{name}-audit-ledger.jsonl")
    for k in range(args.ledger):
        narrowed = fedsafe_form.to_jsonable(fedsafe_form.from_jsonable(document))
        narrowed["groups"][1]["rules"][0]["age"] = {"low": 41 + 5 * k, "high": 80}
        answer_count(fedsafe_form.from_jsonable(narrowed), connection, audit=log)
    for _ in range(args.repeat):
        started = time.perf_counter()
        answer = answer_count(fedsafe_form.from_jsonable(document), connection, audit=log)
        ledger_times.append(time.perf_counter() - started)
        assert answer.status == "ok"

    fed, base, led = (statistics.median(t) for t in (fedsafe_times, baseline_times, ledger_times))
    print(f"{name} query, {args.patients:,} patients: raw count {base_count:,} (both agree)")
    print(f"  hand-written SQL count: {base:.3f} s (median of {args.repeat})")
    print(f"  fedsafe answer_count:   {fed:.3f} s  ratio {fed / base:.2f}x")
    print(f"  with a ledger of {args.ledger}:    {led:.3f} s  ratio {led / base:.2f}x")
    return fed


if __name__ == "__main__":
    sys.exit(main())
