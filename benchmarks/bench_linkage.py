"""Benchmark one job's linkage: a cohort on backend A matched against backend B's population.

Usage::

    python benchmarks/bench_linkage.py                      # 200,000 against 2,000,000
    python benchmarks/bench_linkage.py --scale 0.05         # 10,000 against 100,000
    python benchmarks/bench_linkage.py --cohort 5000 --population 50000 --fallback

Every step of :mod:`fedsafe.linkage` is timed on its own, in one process, on synthetic data
made here: NHS numbers with valid check digits (half a percent of the cohort's are broken, to
exercise normalisation), ``--overlap`` of the cohort present in B, and two hospital admissions
per B patient in an in-memory DuckDB table (``tpp.apcs``, the shape B's engine would hand over).

Steps: normalise and pseudonymise both sides' identifiers, match (PSI: A's request, B's setup
and response, A's intersection; and the plain fallback for comparison), B's extract (join,
date range, month coarsening, shuffle), seal (pack + encrypt to A's job key), open (decrypt,
unpack, pseudonym -> A's patient id, written encrypted to the job's vault), and delete. As
in the protocol, only B's patients with at least one row in range take part in matching.

Baseline, measured in the same run on the same data: the plain join on raw identifiers that
manual linkage amounts to (one DuckDB query: cohort JOIN B's identifiers JOIN admissions, with
the same date range and month truncation). The linked result must equal the baseline's row for
row, or the timings mean nothing and the script exits 1. Ratios are against the baseline.
"""

from __future__ import annotations

import argparse
import datetime
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import ibis
import numpy as np
import pyarrow as pa

from fedsafe.linkage import matching
from fedsafe.linkage.audit import LinkageAudit
from fedsafe.linkage.declaration import parse_declaration
from fedsafe.linkage.extract import (
    PSEUDONYM,
    build_extract,
    pack_extract,
    patients_with_rows,
    unpack_extract,
)
from fedsafe.linkage.identifiers import normalise_nhs_numbers
from fedsafe.linkage.keys import LinkageSecret, derive_job_key, pseudonymise
from fedsafe.linkage.sealing import JobKeyPair, job_binding, open_sealed, seal
from fedsafe.linkage.vault import JobVault

WEIGHTS = np.array([10, 9, 8, 7, 6, 5, 4, 3, 2])
DECLARATION = parse_declaration(
    {
        "backend": "hospital",
        "tables": {
            "tpp.apcs": {
                "columns": ["admission_date", "primary_diagnosis"],
                "date_column": "admission_date",
            }
        },
        "date_range": {"start": "2020-01-01", "end": "2023-12-31"},
        "coarsen_dates": "month",
    }
)


def nhs_numbers(count: int, rng: np.random.Generator) -> np.ndarray:
    """``count`` distinct valid NHS numbers as int64 (vectorised: check digits by matrix)."""
    found = np.empty(0, dtype=np.int64)
    while found.size < count:
        body = rng.integers(0, 10, size=(int(count * 1.2) + 100, 9))
        check = 11 - (body @ WEIGHTS) % 11
        check[check == 11] = 0
        keep = check != 10
        numbers = body[keep] @ (10 ** np.arange(9, 0, -1)) + check[keep]
        found = np.unique(np.concatenate([found, numbers]))
    return rng.permutation(found)[:count]


def make_data(cohort_size: int, population_size: int, overlap: float, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    in_b = int(cohort_size * overlap)
    numbers = nhs_numbers(population_size + cohort_size - in_b, rng)
    population = numbers[:population_size]
    cohort = np.concatenate(
        [rng.choice(population, in_b, replace=False), numbers[population_size:]]
    )
    as_text = [f"{n:010d}" for n in cohort.tolist()]
    for index in rng.choice(cohort_size, cohort_size // 200, replace=False).tolist():
        as_text[index] = as_text[index][:9]  # broken: nine digits
    b_ids = np.arange(10_000_000, 10_000_000 + population_size, dtype=np.int64)
    a_ids = np.arange(1, cohort_size + 1, dtype=np.int64)
    admissions = 2 * population_size
    days = rng.integers(0, 6 * 365, admissions)
    apcs = pa.table(
        {
            "patient_id": np.repeat(b_ids, 2),
            "admission_date": pa.array(
                (np.datetime64("2018-01-01") + days).astype("datetime64[D]"), pa.date32()
            ),
            "discharge_date": pa.array(
                (np.datetime64("2018-01-04") + days).astype("datetime64[D]"), pa.date32()
            ),
            "primary_diagnosis": pa.array(
                [f"I{n}" for n in rng.integers(10, 99, admissions).tolist()]
            ),
            "all_diagnoses": pa.array(["undeclared"] * admissions),
        }
    )
    return {
        "a_pairs": list(zip(a_ids.tolist(), as_text, strict=True)),
        "b_pairs": list(
            zip(b_ids.tolist(), [f"{n:010d}" for n in population.tolist()], strict=True)
        ),
        "apcs": apcs,
    }


class Timer:
    def __init__(self) -> None:
        self.steps: list[tuple[str, float]] = []

    def __call__(self, name: str, work: Callable[[], Any]) -> Any:
        start = time.perf_counter()
        result = work()
        self.steps.append((name, time.perf_counter() - start))
        print(f"  {name:<44} {self.steps[-1][1]:9.2f} s", flush=True)
        return result

    def total(self, names: tuple[str, ...] | None = None) -> float:
        return sum(t for n, t in self.steps if names is None or n in names)


def baseline(con: duckdb.DuckDBPyConnection, data: dict) -> tuple[float, list[tuple]]:
    """The manual way: join raw identifiers, in one query."""
    con.register(
        "a_ids",
        pa.table(
            {"patient_id": [p for p, _ in data["a_pairs"]], "nhs": [n for _, n in data["a_pairs"]]}
        ),
    )
    con.register(
        "b_ids",
        pa.table(
            {"patient_id": [p for p, _ in data["b_pairs"]], "nhs": [n for _, n in data["b_pairs"]]}
        ),
    )
    start = time.perf_counter()
    rows = con.execute(
        """
        SELECT a.patient_id, date_trunc('month', h.admission_date)::DATE, h.primary_diagnosis
        FROM a_ids a JOIN b_ids b ON a.nhs = b.nhs JOIN apcs h ON h.patient_id = b.patient_id
        WHERE h.admission_date BETWEEN DATE '2020-01-01' AND DATE '2023-12-31'
        """
    ).fetchall()
    return time.perf_counter() - start, rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cohort", type=int, default=200_000)
    parser.add_argument("--population", type=int, default=2_000_000)
    parser.add_argument("--scale", type=float, default=1.0, help="multiplies both sizes")
    parser.add_argument("--overlap", type=float, default=0.6, help="share of the cohort in B")
    parser.add_argument("--fallback", action="store_true", help="skip PSI; match plainly")
    parser.add_argument("--seed", type=int, default=15)
    args = parser.parse_args(argv)
    cohort_size = max(10, int(args.cohort * args.scale))
    population_size = max(10, int(args.population * args.scale))
    print(f"linkage benchmark: cohort {cohort_size:,} on A, population {population_size:,} on B")
    data = make_data(cohort_size, population_size, args.overlap, args.seed)
    con = duckdb.connect()
    con.register("apcs_arrow", data["apcs"])
    con.execute("CREATE TABLE apcs AS SELECT * FROM apcs_arrow")
    tables = {"tpp.apcs": ibis.duckdb.from_connection(con).table("apcs")}
    secret = LinkageSecret.generate()
    key_a = derive_job_key(secret, "bench", "job-1")
    key_b = derive_job_key(secret, "bench", "job-1")
    timer = Timer()

    print("steps:")
    norm_a = timer("normalise A's cohort", lambda: normalise_nhs_numbers(data["a_pairs"]))
    eligible = timer(
        "B: patients with rows to send", lambda: patients_with_rows(tables, DECLARATION)
    )
    norm_b = timer(
        "normalise B's population (those)",
        lambda: normalise_nhs_numbers((p, n) for p, n in data["b_pairs"] if p in eligible),
    )
    pseud_a = timer("pseudonymise A's cohort", lambda: pseudonymise(key_a, norm_a.identifiers))
    pseud_b = timer("pseudonymise B's population", lambda: pseudonymise(key_b, norm_b.identifiers))
    b_index = dict(zip(pseud_b, norm_b.patient_ids, strict=True))
    a_index = dict(zip(pseud_a, norm_a.patient_ids, strict=True))
    fallback = timer(
        "match: fallback (plain intersection)", lambda: matching.fallback_match(pseud_a, pseud_b)
    )
    psi_steps: tuple[str, ...] = ()
    if args.fallback:
        matched = fallback
    else:
        requester = matching.Requester(pseud_a)
        provider = matching.Provider(pseud_b)
        request = timer("match: PSI request (A)", requester.request)
        setup, response = timer(
            "match: PSI setup + response (B)", lambda: provider.respond(request, len(pseud_a))
        )
        matched = timer("match: PSI intersection (A)", lambda: requester.matched(setup, response))
        psi_steps = (
            "match: PSI request (A)",
            "match: PSI setup + response (B)",
            "match: PSI intersection (A)",
        )
        print(
            f"    PSI messages: request {len(request):,} B, setup {len(setup):,} B, "
            f"response {len(response):,} B"
        )
        if sorted(matched) != sorted(fallback):
            print("PSI and the fallback disagree", file=sys.stderr)
            return 1
    a_keys = JobKeyPair.generate()
    extract = timer(
        "extract (B: join, range, coarsen, shuffle)",
        lambda: build_extract(tables, [b_index[p] for p in matched], matched, DECLARATION),
    )
    aad = job_binding("bench", "job-1", "extract")
    sealed = timer(
        "encrypt (pack + seal to A's job key)",
        lambda: seal(a_keys.public_bytes, pack_extract(extract), aad),
    )
    with tempfile.TemporaryDirectory() as folder:
        audit = LinkageAudit(Path(folder) / "audit.jsonl", "bench")
        vault = JobVault.create(
            Path(folder) / "vault",
            project="bench",
            job_id="job-1",
            expires_at=datetime.datetime.now(datetime.UTC) + datetime.timedelta(hours=1),
            on_deleted=audit.deleted,
        )

        def receive() -> pa.Table:
            table = unpack_extract(open_sealed(a_keys, sealed, aad)).tables["tpp.apcs"]
            ids = pa.array([a_index[p] for p in table.column(PSEUDONYM).to_pylist()], pa.int64())
            local = table.drop_columns([PSEUDONYM]).add_column(0, "patient_id", ids)
            sink = pa.BufferOutputStream()
            with pa.ipc.new_stream(sink, local.schema) as writer:
                writer.write_table(local)
            vault.put("tpp.apcs", sink.getvalue().to_pybytes())
            return local

        linked = timer("decrypt (open, unpack, re-key, vault)", receive)
        timer("delete (destroy vault, audit record)", lambda: vault.destroy("success"))

    base_time, base_rows = baseline(con, data)
    got = sorted(zip(*(linked.column(i).to_pylist() for i in range(3)), strict=True))
    if got != sorted(base_rows):
        print(f"linked rows ({len(got)}) differ from the baseline's ({len(base_rows)})")
        return 1
    print(f"  {'baseline: plain SQL join on raw NHS numbers':<44} {base_time:9.2f} s")
    total = timer.total() - timer.total(("match: fallback (plain intersection)",))
    without_psi = (
        total
        - timer.total(psi_steps)
        + (timer.total(("match: fallback (plain intersection)",)) if psi_steps else 0)
    )
    print("results:")
    print(f"  B's patients with rows in range (taking part in matching): {len(eligible):,}")
    print(
        f"  cohort {cohort_size:,}; {norm_a.failed:,} identifiers failed normalisation; "
        f"matched {len(matched):,}; rows sent {extract.rows:,}; payload {len(sealed):,} bytes"
    )
    print(
        f"  linkage total ({'fallback' if args.fallback else 'PSI'}): {total:.2f} s "
        f"= {total / base_time:.1f}x the baseline"
    )
    if psi_steps:
        print(
            f"  with the fallback instead of PSI: {without_psi:.2f} s "
            f"= {without_psi / base_time:.1f}x the baseline"
        )
    print("  the linked rows equal the baseline's, row for row")
    return 0


if __name__ == "__main__":
    sys.exit(main())
