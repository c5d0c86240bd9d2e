"""Fast, deterministic synthetic data in the ehrQL "core" schema.

The cohort benchmark needs a million patients with tens of millions of events,
and it needs them in seconds rather than minutes, so everything here is
vectorised numpy feeding pyarrow, generated in fixed-size chunks of patients so
memory stays bounded whatever ``n_patients`` is.

The data are synthetic but shaped to exercise a real cohort study rather than a
toy one:

* a good share of clinical events and prescriptions carry codes from the real
  codelists in ``/work/shared/data/codelists`` (diabetes, osteoarthritis,
  NSAIDs, strong opioids), concentrated in patients who "have" the condition so
  that many patients have none at all (counts of 0, NULL dates);
* 1-3 practice registrations per patient, some overlapping, some ending exactly
  when the next starts, some sharing a start date, most ongoing (NULL end);
* about 5% of patients dead, most of them with a matching ``ons_deaths`` row;
* occasional NULL event dates and a sprinkling of dates exactly on the window
  boundaries the benchmark definition uses, so that ``<`` versus ``<=``
  mistakes and NULL-ordering mistakes show up as output differences instead of
  hiding in a sea of dates that are nowhere near a boundary.

Determinism: the output depends only on ``seed``, ``n_patients`` and the two
per-patient rates. Each chunk of ``CHUNK_PATIENTS`` patients has its own random
stream derived from ``(seed, chunk number)``, so a run whose size is a multiple
of ``CHUNK_PATIENTS`` is a prefix of any larger one (same seed, same rates):
a difference seen at 1M patients can be chased on a 100k-patient file.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Protocol

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

REPO_ROOT = Path(__file__).resolve().parent.parent
CODELIST_DIR = REPO_ROOT.parent / "shared" / "data" / "codelists"

DM_CODELIST = "nhsd-primary-care-domain-refsets-dm_cod.csv"
OA_CODELIST = "user-speed-vm-osteoarthritis-snomed-ct.csv"
NSAID_CODELIST = "user-speed-vm-nsaids-dmd.csv"
OPIOID_CODELIST = "opensafely-strongopioidsCW-dmd.csv"
# Real SNOMED CT codes that are in none of the study codelists: used as the
# bulk of "other" clinical events so the code column looks like real data.
FILLER_CODELISTS = (
    ("opensafely-cancer-excluding-lung-and-haematological-snomed.csv", "id"),
    ("opensafely-ethnicity-snomed-0removed.csv", "snomedcode"),
)

CHUNK_PATIENTS = 100_000
# Bump whenever a change alters the generated data, so that cached benchmark
# databases (named after it) are regenerated instead of silently reused.
DATA_VERSION = 1
TABLES = ("patients", "practice_registrations", "clinical_events", "medications", "ons_deaths")

_EPOCH = date(1970, 1, 1)


def _days(d: date) -> int:
    return (d - _EPOCH).days


DATA_START = _days(date(1990, 1, 1))
DATA_END = _days(date(2024, 12, 31))
DEATHS_START = _days(date(2010, 1, 1))
# Dates a study indexed on 2020-01-01 is likely to use as window edges (the
# index date, the day either side, one and two years back, 90 days back).
# Injecting a few events exactly on them makes off-by-one errors visible.
BOUNDARY_DATES = np.array(
    [
        _days(date(y, m, d))
        for y, m, d in [
            (2020, 1, 1),
            (2019, 12, 31),
            (2020, 1, 2),
            (2019, 1, 1),
            (2018, 12, 31),
            (2018, 1, 1),
            (2017, 12, 31),
            (2019, 10, 3),
            (2019, 10, 2),
        ]
    ],
    dtype=np.int32,
)
INDEX_DAY = _days(date(2020, 1, 1))

SEXES = ("female", "male", "intersex", "unknown")
SEX_P = (0.493, 0.493, 0.002, 0.012)

# Common ICD-10 underlying causes of death in England and Wales.
ICD10_CAUSES = (
    "I21",
    "I25",
    "I63",
    "I64",
    "I50",
    "I48",
    "I11",
    "I71",
    "C34",
    "C18",
    "C50",
    "C61",
    "C25",
    "C15",
    "C16",
    "C22",
    "C67",
    "C71",
    "C80",
    "C90",
    "J44",
    "J18",
    "J22",
    "J84",
    "J45",
    "F03",
    "G30",
    "G20",
    "G12",
    "U07",
    "E11",
    "E14",
    "N18",
    "N39",
    "K70",
    "K57",
    "A41",
    "X59",
    "W19",
    "R99",
)

SCHEMAS: dict[str, pa.Schema] = {
    "patients": pa.schema(
        [
            ("patient_id", pa.int64()),
            ("date_of_birth", pa.date32()),
            ("sex", pa.string()),
            ("date_of_death", pa.date32()),
        ]
    ),
    "practice_registrations": pa.schema(
        [
            ("patient_id", pa.int64()),
            ("start_date", pa.date32()),
            ("end_date", pa.date32()),
            ("practice_pseudo_id", pa.int64()),
        ]
    ),
    "clinical_events": pa.schema(
        [
            ("patient_id", pa.int64()),
            ("date", pa.date32()),
            ("snomedct_code", pa.string()),
            ("numeric_value", pa.float64()),
        ]
    ),
    "medications": pa.schema(
        [
            ("patient_id", pa.int64()),
            ("date", pa.date32()),
            ("dmd_code", pa.string()),
        ]
    ),
    "ons_deaths": pa.schema(
        [
            ("patient_id", pa.int64()),
            ("date", pa.date32()),
            ("underlying_cause_of_death", pa.string()),
            *[(f"cause_of_death_{i:02d}", pa.string()) for i in range(1, 16)],
        ]
    ),
}

DUCKDB_TYPES = {
    pa.int64(): "BIGINT",
    pa.date32(): "DATE",
    pa.string(): "VARCHAR",
    pa.float64(): "DOUBLE",
}


# --------------------------------------------------------------------------- codes


def read_codes(filename: str, column: str, codelist_dir: Path = CODELIST_DIR) -> list[str]:
    """Distinct, stripped codes of one CSV column, in file order.

    File order (not sorted order) is kept so that which codes are "common" is a
    property of the seed, not of lexical accident.
    """
    seen: dict[str, None] = {}
    with open(codelist_dir / filename, newline="") as f:
        for row in csv.DictReader(f):
            code = (row.get(column) or "").strip()
            if code:
                seen[code] = None
    return list(seen)


@dataclass(frozen=True)
class CodePools:
    """Code vocabularies to draw from, with Zipf-like popularity weights.

    Real coded data are heavily skewed (a handful of codes make up most
    records), which matters for join and dictionary-encoding performance, so
    each pool gets weights proportional to ``1 / (rank + 5)`` over a seeded
    random ranking.
    """

    diabetes: pa.Array
    osteoarthritis: pa.Array
    other_snomed: pa.Array
    nsaids: pa.Array
    opioids: pa.Array
    other_dmd: pa.Array
    weights: dict[str, np.ndarray]

    @classmethod
    def load(cls, seed: int, codelist_dir: Path = CODELIST_DIR) -> CodePools:
        rng = np.random.default_rng([seed, 0xC0DE])
        dm = read_codes(DM_CODELIST, "code", codelist_dir)
        oa = read_codes(OA_CODELIST, "code", codelist_dir)
        nsaids = read_codes(NSAID_CODELIST, "dmd_id", codelist_dir)
        opioids = read_codes(OPIOID_CODELIST, "dmd_id", codelist_dir)
        study_snomed = set(dm) | set(oa)
        study_dmd = set(nsaids) | set(opioids)

        other_snomed: dict[str, None] = {}
        for filename, column in FILLER_CODELISTS:
            if (codelist_dir / filename).exists():
                for code in read_codes(filename, column, codelist_dir):
                    if code not in study_snomed:
                        other_snomed[code] = None
        # Plus synthetic SNOMED-shaped identifiers (6-9 digits, and the longer
        # UK-extension form ending in 1000000xxx) so the pool is not just one
        # clinical area.
        while len(other_snomed) < len(study_snomed) + 8_000:
            short = int(rng.integers(100_000, 999_999_999))
            uk = f"{int(rng.integers(1_000, 999_999))}1000000{int(rng.integers(100, 999))}"
            for code in (str(short), uk):
                if code not in study_snomed:
                    other_snomed[code] = None

        other_dmd: dict[str, None] = {}
        while len(other_dmd) < 4_000:
            # dm+d identifiers: VMP/AMP style "<digits>1000001<digits>" and
            # the shorter legacy SNOMED-style ones.
            code = f"{int(rng.integers(1_000, 99_999_999))}1100000{int(rng.integers(100, 999))}"
            if rng.random() < 0.3:
                code = str(int(rng.integers(300_000_000, 399_999_999)))
            if code not in study_dmd:
                other_dmd[code] = None

        pools = {
            "diabetes": dm,
            "osteoarthritis": oa,
            "other_snomed": list(other_snomed),
            "nsaids": nsaids,
            "opioids": opioids,
            "other_dmd": list(other_dmd),
        }
        weights = {}
        for name, codes in pools.items():
            rank = rng.permutation(len(codes))
            w = 1.0 / (rank + 5.0)
            weights[name] = w / w.sum()
        return cls(
            **{name: pa.array(codes, type=pa.string()) for name, codes in pools.items()},
            weights=weights,
        )


# --------------------------------------------------------------------------- helpers


def _date_array(days: np.ndarray, null_mask: np.ndarray | None = None) -> pa.Array:
    """int32 days-since-epoch (+ optional NULL mask) as an Arrow date32 array."""
    arr = pa.array(days.astype(np.int32, copy=False), type=pa.int32(), mask=null_mask)
    return arr.view(pa.date32())


def _to_first_of_month(days: np.ndarray) -> np.ndarray:
    months = days.astype("datetime64[D]").astype("datetime64[M]")
    return months.astype("datetime64[D]").astype(np.int32)


def _uniform_days(rng: np.random.Generator, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """One uniformly random day in ``[lo, hi]`` per element (requires lo <= hi)."""
    span = (hi - lo + 1).astype(np.float64)
    return (lo + np.floor(rng.random(lo.shape[0]) * span)).astype(np.int32)


def _draw(rng: np.random.Generator, pool: str, pools: CodePools, n: int) -> np.ndarray:
    """Indices into one code pool, drawn with the pool's popularity weights."""
    cdf = np.cumsum(pools.weights[pool])
    idx = np.searchsorted(cdf, rng.random(n) * cdf[-1], side="right")
    return np.minimum(idx, len(cdf) - 1)


def _take_codes(parts: list[tuple[pa.Array, np.ndarray, np.ndarray]], n: int) -> pa.Array:
    """Assemble a string column from several pools.

    ``parts`` is ``(pool, row_positions, pool_indices)``; concatenating the
    pools and taking once is far cheaper than building Python strings.
    """
    offsets = np.cumsum([0] + [len(pool) for pool, _, _ in parts[:-1]])
    combined_idx = np.zeros(n, dtype=np.int64)
    for (_, rows, idx), offset in zip(parts, offsets):
        combined_idx[rows] = idx + offset
    dictionary = pa.concat_arrays([pool for pool, _, _ in parts])
    return pc.take(dictionary, pa.array(combined_idx))


# Age (in completed years at the end of 2024) distribution: flat to 70, then a
# linear decline to nobody at 110. A few patients over 100 on the index date
# exist on purpose: the population definition has to exclude them.
_AGES = np.arange(110)
_AGE_W = np.where(_AGES < 70, 1.0, (110 - _AGES) / 40.0)
_AGE_P = _AGE_W / _AGE_W.sum()
_DEATH_W = ((_AGES + 5) / 105.0) ** 4
_DEATH_SCALE = 0.05 / float((_DEATH_W * _AGE_P).sum())  # ~5% dead overall
_ACTIVITY_W = 0.4 + _AGES / 50.0  # older patients have more records
_ACTIVITY_SCALE = 1.0 / float((_ACTIVITY_W * _AGE_P).sum())


# --------------------------------------------------------------------------- chunk


def generate_chunk(
    chunk_no: int,
    first_id: int,
    n: int,
    seed: int,
    pools: CodePools,
    events_per_patient: float,
    medications_per_patient: float,
) -> dict[str, pa.Table]:
    """All five tables for patients ``first_id .. first_id + n - 1``."""
    rng = np.random.default_rng([seed, chunk_no])
    ids = np.arange(first_id, first_id + n, dtype=np.int64)

    # ---- patients
    age = rng.choice(_AGES.size, size=n, p=_AGE_P)
    month_offset = age * 12 + rng.integers(0, 12, size=n)
    dob_months = np.datetime64("2024-12", "M") - month_offset
    dob = dob_months.astype("datetime64[D]").astype(np.int32)
    sex = rng.choice(len(SEXES), size=n, p=SEX_P)

    dead = rng.random(n) < np.minimum(0.9, _DEATH_W[age] * _DEATH_SCALE)
    dod = _uniform_days(rng, np.maximum(dob, DEATHS_START), np.full(n, DATA_END, np.int32))
    dod = np.where(dead, dod, DATA_END)  # DATA_END doubles as "alive" for upper bounds
    life_end = dod.copy()

    patients = pa.Table.from_arrays(
        [
            pa.array(ids),
            _date_array(dob),
            pc.take(pa.array(SEXES), pa.array(sex)),
            _date_array(dod, ~dead),
        ],
        schema=SCHEMAS["patients"],
    )

    # ---- ons_deaths: most (not all) deaths, at most one row per patient
    ons = dead & (rng.random(n) < 0.9)
    ons_ids = ids[ons]
    n_ons = ons_ids.shape[0]
    ons_date = dod[ons] + np.where(rng.random(n_ons) < 0.05, rng.integers(-10, 11, n_ons), 0)
    ons_date = np.minimum(ons_date, DATA_END)
    cause_pool = np.array(ICD10_CAUSES, dtype=object)
    cause_w = 1.0 / (np.arange(len(ICD10_CAUSES)) + 3.0)
    cause_w /= cause_w.sum()
    underlying = rng.choice(len(ICD10_CAUSES), size=n_ons, p=cause_w)
    n_causes = 1 + rng.binomial(5, 0.4, size=n_ons)
    cause_cols = []
    for i in range(15):
        present = i < n_causes
        idx = np.where(i == 0, underlying, rng.choice(len(ICD10_CAUSES), size=n_ons, p=cause_w))
        cause_cols.append(pa.array(cause_pool[idx], type=pa.string(), mask=~present))
    ons_deaths = pa.Table.from_arrays(
        [
            pa.array(ons_ids),
            _date_array(ons_date),
            pa.array(cause_pool[underlying], type=pa.string()),
            *cause_cols,
        ],
        schema=SCHEMAS["ons_deaths"],
    )

    # ---- practice_registrations
    registrations = _registrations(rng, ids, dob, dead, dod)

    # ---- clinical_events
    activity = _ACTIVITY_W[age] * _ACTIVITY_SCALE
    lo = np.maximum(dob, DATA_START).astype(np.int32)
    hi = np.maximum(life_end, lo).astype(np.int32)
    is_diabetic = rng.random(n) < 0.02 + 0.16 * age / 100
    has_oa = rng.random(n) < 0.02 + 0.35 * (age / 100) ** 2

    mu = events_per_patient * activity
    counts = rng.negative_binomial(2, 2.0 / (2.0 + mu))
    pidx = np.repeat(np.arange(n), counts)
    m = pidx.shape[0]
    pidx = pidx[rng.permutation(m)]  # real tables are not clustered by patient
    ev_date = _events_dates(rng, lo[pidx], hi[pidx])
    null_date = rng.random(m) < 0.005

    u = rng.random(m)
    stray = rng.random(m)
    is_dm = (is_diabetic[pidx] & (u < 0.25)) | (stray < 0.003)
    is_oa = ~is_dm & ((has_oa[pidx] & (u >= 0.25) & (u < 0.40)) | (stray > 0.997))
    is_other = ~(is_dm | is_oa)
    rows_dm, rows_oa, rows_other = (np.flatnonzero(x) for x in (is_dm, is_oa, is_other))
    codes = _take_codes(
        [
            (pools.diabetes, rows_dm, _draw(rng, "diabetes", pools, rows_dm.size)),
            (pools.osteoarthritis, rows_oa, _draw(rng, "osteoarthritis", pools, rows_oa.size)),
            (pools.other_snomed, rows_other, _draw(rng, "other_snomed", pools, rows_other.size)),
        ],
        m,
    )
    # HbA1c-like values (mmol/mol) on most diabetes events, assorted
    # measurements on about a quarter of the rest: ~30% of events overall.
    # One decimal place, as recorded, which also makes equal values common.
    has_value = np.where(is_dm, rng.random(m) < 0.7, rng.random(m) < 0.28)
    value = np.where(is_dm, rng.normal(55, 15, m), rng.lognormal(3.5, 0.8, m))
    value = np.round(np.maximum(value, 0.1), 1)
    clinical_events = pa.Table.from_arrays(
        [
            pa.array(ids[pidx]),
            _date_array(ev_date, null_date),
            codes,
            pa.array(value, mask=~has_value),
        ],
        schema=SCHEMAS["clinical_events"],
    )

    # ---- medications
    takes_nsaids = rng.random(n) < 0.05 + 0.35 * age / 100
    takes_opioids = rng.random(n) < 0.01 + 0.1 * age / 100
    mu = medications_per_patient * activity
    counts = rng.negative_binomial(2, 2.0 / (2.0 + mu))
    pidx = np.repeat(np.arange(n), counts)
    m = pidx.shape[0]
    pidx = pidx[rng.permutation(m)]
    med_date = _events_dates(rng, lo[pidx], hi[pidx])
    u = rng.random(m)
    stray = rng.random(m)
    is_nsaid = (takes_nsaids[pidx] & (u < 0.4)) | (stray < 0.002)
    is_opioid = ~is_nsaid & ((takes_opioids[pidx] & (u >= 0.4) & (u < 0.75)) | (stray > 0.998))
    is_other = ~(is_nsaid | is_opioid)
    rows_n, rows_o, rows_x = (np.flatnonzero(x) for x in (is_nsaid, is_opioid, is_other))
    dmd = _take_codes(
        [
            (pools.nsaids, rows_n, _draw(rng, "nsaids", pools, rows_n.size)),
            (pools.opioids, rows_o, _draw(rng, "opioids", pools, rows_o.size)),
            (pools.other_dmd, rows_x, _draw(rng, "other_dmd", pools, rows_x.size)),
        ],
        m,
    )
    medications = pa.Table.from_arrays(
        [pa.array(ids[pidx]), _date_array(med_date), dmd],
        schema=SCHEMAS["medications"],
    )

    return {
        "patients": patients,
        "practice_registrations": registrations,
        "clinical_events": clinical_events,
        "medications": medications,
        "ons_deaths": ons_deaths,
    }


def _events_dates(rng: np.random.Generator, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Event dates within each patient's lifetime in the data window.

    2% land on the first of a month (a common artefact of partially known
    dates) and 1.5% exactly on a study window boundary, when that boundary is
    within the patient's lifetime.
    """
    m = lo.shape[0]
    d = _uniform_days(rng, lo, hi)
    first_of_month = rng.random(m) < 0.02
    d = np.where(first_of_month, np.maximum(_to_first_of_month(d), lo), d)
    boundary = BOUNDARY_DATES[rng.integers(0, BOUNDARY_DATES.size, m)]
    use_boundary = (rng.random(m) < 0.015) & (boundary >= lo) & (boundary <= hi)
    return np.where(use_boundary, boundary, d).astype(np.int32)


def _registrations(
    rng: np.random.Generator,
    ids: np.ndarray,
    dob: np.ndarray,
    dead: np.ndarray,
    dod: np.ndarray,
) -> pa.Table:
    """1-3 registrations per patient, in a (mostly) forward-moving sequence.

    Each next registration starts after the previous one did; the previous one
    usually ends shortly before that (a gap), sometimes on the same day,
    sometimes after it (an overlap, as happens when a deduction is recorded
    late). A few second registrations share the first one's start date, which
    exercises the tie-breaking in ``for_patient_on``.
    """
    n = ids.shape[0]
    k = rng.choice(3, size=n, p=(0.55, 0.30, 0.15)) + 1
    lo = np.maximum(dob, DATA_START).astype(np.int64)
    hi = np.where(dead, dod, DATA_END).astype(np.int64)
    hi = np.maximum(hi, lo)

    starts = np.zeros((n, 3), dtype=np.int64)
    ends = np.zeros((n, 3), dtype=np.int64)
    end_null = np.zeros((n, 3), dtype=bool)
    # First registration skewed early so most living adults are registered on
    # any given date in the window.
    starts[:, 0] = lo + np.floor(rng.random(n) ** 2 * (hi - lo + 1)).astype(np.int64)
    for i in (1, 2):
        prev = starts[:, i - 1]
        starts[:, i] = prev + np.floor(rng.random(n) * (hi - prev + 1) * 0.7).astype(np.int64)
    same_start = rng.random(n) < 0.03
    starts[:, 1] = np.where(same_start, starts[:, 0], starts[:, 1])
    starts[:, 2] = np.maximum(starts[:, 2], starts[:, 1])

    for i in (0, 1):
        nxt = starts[:, i + 1]
        u = rng.random(n)
        gap = rng.integers(1, 121, n)
        overlap = rng.integers(1, 366, n)
        end = np.where(u < 0.25, nxt + overlap, np.where(u < 0.35, nxt, nxt - gap))
        ends[:, i] = np.maximum(end, starts[:, i])

    # The last registration of each patient: ended at (shortly after) death,
    # ended because they left, or ongoing.
    last = k - 1
    rows = np.arange(n)
    last_start = starts[rows, last]
    left = ~dead & (rng.random(n) < 0.08)
    left_end = last_start + np.floor(rng.random(n) * (DATA_END - last_start + 1)).astype(np.int64)
    death_end = np.minimum(dod + rng.integers(0, 31, n), DATA_END)
    ends[rows, last] = np.where(dead, np.maximum(death_end, last_start), left_end)
    end_null[rows, last] = ~dead & ~left

    valid = np.arange(3)[None, :] < k[:, None]
    pid = np.broadcast_to(ids[:, None], (n, 3))[valid]
    s = starts[valid]
    e = ends[valid]
    e_null = end_null[valid]
    r = s.shape[0]

    # Dates recorded as the first of the month, and a few exactly on the index
    # date (starting or ending registrations there is where "registered on"
    # definitions disagree).
    snap_s = rng.random(r) < 0.1
    s = np.where(snap_s, np.maximum(_to_first_of_month(s.astype(np.int32)), 0), s)
    snap_e = rng.random(r) < 0.1
    e = np.where(snap_e, np.maximum(_to_first_of_month(e.astype(np.int32)), s), e)
    e = np.maximum(e, s)
    to_index_end = (rng.random(r) < 0.005) & (s <= INDEX_DAY)
    e = np.where(to_index_end, INDEX_DAY, e)
    e_null = e_null & ~to_index_end
    to_index_start = (rng.random(r) < 0.005) & (e_null | (e >= INDEX_DAY))
    s = np.where(to_index_start, INDEX_DAY, s)

    base_practice = rng.integers(1, 8_001, n)
    practice = np.where(
        np.arange(3)[None, :] == 0, base_practice[:, None], rng.integers(1, 8_001, (n, 3))
    )[valid]
    return pa.Table.from_arrays(
        [
            pa.array(pid),
            _date_array(s.astype(np.int32)),
            _date_array(e.astype(np.int32), e_null),
            pa.array(practice.astype(np.int64)),
        ],
        schema=SCHEMAS["practice_registrations"],
    )


def iter_chunks(
    n_patients: int,
    seed: int = 0,
    events_per_patient: float = 20,
    medications_per_patient: float = 5,
    codelist_dir: Path = CODELIST_DIR,
) -> Iterator[dict[str, pa.Table]]:
    """Yield the tables chunk by chunk; patient ids run from 1 to ``n_patients``."""
    pools = CodePools.load(seed, codelist_dir)
    for chunk_no, first in enumerate(range(0, n_patients, CHUNK_PATIENTS)):
        n = min(CHUNK_PATIENTS, n_patients - first)
        yield generate_chunk(
            chunk_no, first + 1, n, seed, pools, events_per_patient, medications_per_patient
        )


# --------------------------------------------------------------------------- sinks


class _Sink(Protocol):
    def write(self, name: str, table: pa.Table) -> None: ...
    def close(self) -> None: ...


class _ParquetSink:
    def __init__(self, out_dir: Path) -> None:
        import pyarrow.parquet as pq

        self.paths = {name: out_dir / f"{name}.parquet" for name in TABLES}
        self.writers = {
            name: pq.ParquetWriter(path, SCHEMAS[name], compression="zstd")
            for name, path in self.paths.items()
        }

    def write(self, name: str, table: pa.Table) -> None:
        self.writers[name].write_table(table, row_group_size=1_000_000)

    def close(self) -> None:
        for writer in self.writers.values():
            writer.close()


class _CsvSink:
    def __init__(self, out_dir: Path) -> None:
        import pyarrow.csv as pacsv

        self.paths = {name: out_dir / f"{name}.csv" for name in TABLES}
        self.writers = {
            name: pacsv.CSVWriter(str(path), SCHEMAS[name]) for name, path in self.paths.items()
        }

    def write(self, name: str, table: pa.Table) -> None:
        self.writers[name].write_table(table)

    def close(self) -> None:
        for writer in self.writers.values():
            writer.close()


def _run(sink: _Sink, n_patients: int, seed: int, epp: float, mpp: float) -> None:
    try:
        for tables in iter_chunks(n_patients, seed, epp, mpp):
            for name in TABLES:
                sink.write(name, tables[name])
    finally:
        sink.close()


def generate(
    out_dir: Path,
    n_patients: int = 1_000_000,
    seed: int = 0,
    events_per_patient: float = 20,
    medications_per_patient: float = 5,
    fmt: str = "parquet",
) -> dict[str, Path]:
    """Write one file per table (``<table>.parquet`` or ``<table>.csv``) into ``out_dir``."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    if fmt == "parquet":
        sink: _ParquetSink | _CsvSink = _ParquetSink(out_dir)
    elif fmt == "csv":
        sink = _CsvSink(out_dir)
    else:
        raise ValueError(f"fmt must be 'parquet' or 'csv' (see write_duckdb), not {fmt!r}")
    _run(sink, n_patients, seed, events_per_patient, medications_per_patient)
    return dict(sink.paths)


def write_duckdb(
    db_path: Path,
    n_patients: int = 1_000_000,
    seed: int = 0,
    events_per_patient: float = 20,
    medications_per_patient: float = 5,
) -> Path:
    """Write the five tables into a new DuckDB file at ``db_path``.

    The tables are staged as Parquet and loaded with one ``INSERT ... SELECT
    FROM read_parquet`` each: DuckDB's parallel Parquet reader is about twice
    as fast as inserting the Arrow chunks one by one. The database is built
    under a temporary name and renamed at the end, so an interrupted run never
    leaves a half-filled file that a later benchmark would mistake for a
    complete one.
    """
    import shutil
    import tempfile

    import duckdb

    db_path = Path(db_path)
    db_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = db_path.with_name(db_path.name + f".tmp-{os.getpid()}")
    tmp.unlink(missing_ok=True)
    staging = Path(tempfile.mkdtemp(prefix="staging-", dir=db_path.parent))
    try:
        paths = generate(
            staging, n_patients, seed, events_per_patient, medications_per_patient, "parquet"
        )
        con = duckdb.connect(str(tmp))
        try:
            for name in TABLES:
                cols = ", ".join(f"{f.name} {DUCKDB_TYPES[f.type]}" for f in SCHEMAS[name])
                con.execute(f"CREATE TABLE {name} ({cols})")
                path = str(paths[name]).replace("'", "''")
                con.execute(f"INSERT INTO {name} SELECT * FROM read_parquet('{path}')")
            con.execute("CHECKPOINT")
        finally:
            con.close()
        os.replace(tmp, db_path)
    finally:
        tmp.unlink(missing_ok=True)
        Path(str(tmp) + ".wal").unlink(missing_ok=True)
        shutil.rmtree(staging, ignore_errors=True)
    return db_path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="output directory (or a .duckdb file path)")
    parser.add_argument("--patients", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--events-per-patient", type=float, default=20)
    parser.add_argument("--medications-per-patient", type=float, default=5)
    parser.add_argument("--format", choices=("parquet", "csv", "duckdb"), default="parquet")
    args = parser.parse_args(argv)

    t0 = time.perf_counter()
    if args.format == "duckdb":
        path = args.out if args.out.suffix == ".duckdb" else args.out / "core.duckdb"
        if path.exists():
            print(f"error: {path} already exists", file=sys.stderr)
            return 1
        write_duckdb(
            path,
            args.patients,
            args.seed,
            args.events_per_patient,
            args.medications_per_patient,
        )
        written = [path]
    else:
        written = list(
            generate(
                args.out,
                args.patients,
                args.seed,
                args.events_per_patient,
                args.medications_per_patient,
                args.format,
            ).values()
        )
    elapsed = time.perf_counter() - t0
    for path in written:
        print(f"{path}  {path.stat().st_size / 2**20:,.1f} MiB")
    print(f"{args.patients:,} patients in {elapsed:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
