"""A small backend database with small groups in it, for the data-quality tests."""

import datetime
import random
from pathlib import Path

import duckdb

RARE_CODE = "999999999"
RARE_MONTH = "1905-05"


def make_database(path: Path) -> Path:
    """A DuckDB database of core tables with small groups: a rare code, month and missing values."""
    rng = random.Random(5)
    con = duckdb.connect(str(path))
    con.execute(
        "create table patients (patient_id bigint, date_of_birth date, sex varchar, "
        "date_of_death date)"
    )
    con.execute(
        "create table clinical_events (patient_id bigint, date date, snomedct_code varchar, "
        "numeric_value double)"
    )
    people = [
        (i, datetime.date(1950 + i % 40, 1 + i % 12, 1), rng.choice(["female", "male"]), None)
        for i in range(1, 301)
    ]
    people[0] = (1, None, "female", datetime.date(2020, 1, 1))  # 1 missing date of birth
    con.executemany("insert into patients values (?, ?, ?, ?)", people)
    events = [
        (
            rng.randint(1, 300),
            datetime.date(2020, 1 + rng.randint(0, 5), 1 + rng.randint(0, 27)),
            rng.choice(["111111", "222222"]),
            rng.random() if rng.random() < 0.5 else None,
        )
        for _ in range(2000)
    ]
    events += [(2, datetime.date(1905, 5, 5), RARE_CODE, None)] * 2  # a rare month and code
    events += [(3, None, "111111", None)] * 3  # 3 missing dates
    con.executemany("insert into clinical_events values (?, ?, ?, ?)", events)
    con.close()
    return path
