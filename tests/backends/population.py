"""One synthetic population in fedsafe's core tables, as the OMOP form can also hold it.

Seeded, so every run and every engine sees the same patients. It stays inside what OMOP can
represent (see ``fedsafe.backends.mappings.omop_writer``): sex male/female/unknown, every
event coded and dated, every death both recorded and registered on the same date.
"""

from __future__ import annotations

import datetime
import random

import pyarrow as pa

from fedsafe.backends.dummy_tables import arrow_type
from fedsafe.backends.mappings.native import logical_schema

SNOMED = ["111552007", "112991000000101", "11530004", "1010664005", "1010666007"]
DMD = ["42112011000001107", "92511000001106", "3897311000001109", "7888211000001108"]
ICD10 = ["I21", "C34", "J44", "E11"]


def _date(rng: random.Random, start: int, end: int) -> datetime.date:
    first = datetime.date(start, 1, 1).toordinal()
    return datetime.date.fromordinal(rng.randint(first, datetime.date(end, 12, 31).toordinal()))


def core_population(n: int = 300, seed: int = 3) -> dict[str, pa.Table]:
    rng = random.Random(seed)
    rows: dict[str, list[dict]] = {
        t: [] for t in ("patients", "practice_registrations", "clinical_events", "medications")
    }
    rows["ons_deaths"] = []
    for pid in range(1, n + 1):
        born = _date(rng, 1920, 2015).replace(day=1)
        died = _date(rng, 2015, 2023) if rng.random() < 0.15 else None
        rows["patients"].append(
            {
                "patient_id": pid,
                "date_of_birth": born,
                "sex": rng.choice(["male", "female", "female", "male", "unknown"]),
                "date_of_death": died,
            }
        )
        if died:  # OMOP has one death table: both records must agree
            cause = rng.choice([*ICD10, None])
            rows["ons_deaths"].append(
                {"patient_id": pid, "date": died, "underlying_cause_of_death": cause}
                | {f"cause_of_death_{i:02d}": None for i in range(1, 16)}
            )
        start = _date(rng, 2000, 2019)
        for _ in range(rng.randint(0, 2)):
            end = None if rng.random() < 0.6 else _date(rng, start.year, 2024)
            rows["practice_registrations"].append(
                {
                    "patient_id": pid,
                    "start_date": start,
                    "end_date": end if end is None or end >= start else start,
                    "practice_pseudo_id": pid % 7,
                }
            )
            start = _date(rng, 2000, 2021)
        for _ in range(rng.randint(0, 6)):
            value = round(rng.uniform(20, 120), 1) if rng.random() < 0.4 else None
            rows["clinical_events"].append(
                {
                    "patient_id": pid,
                    "date": _date(rng, 2015, 2021),
                    "snomedct_code": rng.choice(SNOMED),
                    "numeric_value": value,
                }
            )
        for _ in range(rng.randint(0, 4)):
            rows["medications"].append(
                {"patient_id": pid, "date": _date(rng, 2018, 2020), "dmd_code": rng.choice(DMD)}
            )
    return {name: _table(name, table_rows) for name, table_rows in rows.items()}


def _table(name: str, rows: list[dict]) -> pa.Table:
    schema = logical_schema(name)
    fields = [("patient_id", pa.int64())] + [(c.name, arrow_type(c.type)) for c in schema.columns]
    return pa.Table.from_pylist(rows, schema=pa.schema(fields))
