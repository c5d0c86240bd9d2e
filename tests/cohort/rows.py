"""A small, seeded population as plain Python rows, loaded into DuckDB for the tests.

Expected counts in the tests are computed from these same rows in plain Python, independently
of the compiler, so a compiler bug cannot make its own test pass.
"""

from __future__ import annotations

import datetime
import random
from dataclasses import dataclass

import ibis
import pyarrow as pa

REF = datetime.date(2026, 1, 31)
DIABETES = "73211009"
ASTHMA = "195967001"
HBA1C = "1107481000000106"
OA = "1010664005"
NSAID = "42112011000001107"
OPIOID = "39113611000001102"
SEXES = ("female", "male", "intersex", "unknown")


@dataclass(frozen=True)
class Patient:
    patient_id: int
    date_of_birth: datetime.date | None
    sex: str | None


@dataclass(frozen=True)
class Event:
    patient_id: int
    date: datetime.date
    code: str
    value: float | None


def population(n: int = 400, seed: int = 1):
    rng = random.Random(seed)
    people, events, meds = [], [], []
    for pid in range(1, n + 1):
        dob = (
            None
            if rng.random() < 0.03
            else datetime.date(rng.randint(1930, 2020), rng.randint(1, 12), 1)
        )
        sex = None if rng.random() < 0.03 else rng.choice(SEXES[:2] * 10 + SEXES[2:])
        people.append(Patient(pid, dob, sex))
        for _ in range(rng.randint(0, 5)):
            code = rng.choice((DIABETES, ASTHMA, HBA1C, HBA1C, OA))
            day = REF - datetime.timedelta(days=rng.randint(-30, 2000))
            value = round(rng.uniform(20, 120), 1) if code == HBA1C and rng.random() < 0.9 else None
            events.append(Event(pid, day, code, value))
        for _ in range(rng.randint(0, 2)):
            day = REF - datetime.timedelta(days=rng.randint(0, 1500))
            meds.append(Event(pid, day, rng.choice((NSAID, OPIOID)), None))
    return people, events, meds


def connect(people, events, meds) -> ibis.BaseBackend:
    con = ibis.duckdb.connect()
    con.create_table(
        "patients",
        pa.table(
            {
                "patient_id": pa.array([p.patient_id for p in people], pa.int64()),
                "date_of_birth": pa.array([p.date_of_birth for p in people], pa.date32()),
                "sex": pa.array([p.sex for p in people], pa.string()),
                "date_of_death": pa.array([None] * len(people), pa.date32()),
            }
        ),
    )
    con.create_table(
        "clinical_events",
        pa.table(
            {
                "patient_id": pa.array([e.patient_id for e in events], pa.int64()),
                "date": pa.array([e.date for e in events], pa.date32()),
                "snomedct_code": pa.array([e.code for e in events], pa.string()),
                "numeric_value": pa.array([e.value for e in events], pa.float64()),
            }
        ),
    )
    con.create_table(
        "medications",
        pa.table(
            {
                "patient_id": pa.array([e.patient_id for e in meds], pa.int64()),
                "date": pa.array([e.date for e in meds], pa.date32()),
                "dmd_code": pa.array([e.code for e in meds], pa.string()),
            }
        ),
    )
    return con


def age_on(p: Patient, day: datetime.date) -> int | None:
    if p.date_of_birth is None:
        return None
    b = p.date_of_birth
    return day.year - b.year - ((day.month, day.day) < (b.month, b.day))
