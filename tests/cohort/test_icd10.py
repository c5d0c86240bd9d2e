"""ICD-10 conditions are read from ons_deaths (underlying or any mentioned cause)."""

from __future__ import annotations

import datetime

import pyarrow as pa

from cohort.rows import REF, Patient, connect
from fedsafe.cohort import compile as cohort_compile
from fedsafe.cohort import fedsafe_form
from fedsafe.cohort.ledger import scan

DEATHS = [  # patient_id, date, underlying, mentioned (cause_of_death_03)
    (1, datetime.date(2025, 12, 1), "E11", None),
    (2, datetime.date(2020, 1, 1), "E11", None),
    (3, datetime.date(2025, 12, 1), "I21", "E11"),
    (4, datetime.date(2025, 12, 1), "I21", None),
]


def test_icd10_causes_of_death_with_a_time_window():
    people = [Patient(i, datetime.date(1950, 1, 1), "male") for i in range(1, 6)]
    con = connect(people, [], [])
    columns = {
        "patient_id": pa.array([d[0] for d in DEATHS], pa.int64()),
        "date": pa.array([d[1] for d in DEATHS], pa.date32()),
        "underlying_cause_of_death": pa.array([d[2] for d in DEATHS], pa.string()),
    }
    for i in range(1, 16):
        values = [d[3] if i == 3 else None for d in DEATHS]
        columns[f"cause_of_death_{i:02d}"] = pa.array(values, pa.string())
    con.create_table("ons_deaths", pa.table(columns))

    def count(rule):
        q = fedsafe_form.from_jsonable({"groups": [{"rules": [rule]}]})
        return scan(cohort_compile.population(q, REF), [], con).raw_count

    e11 = {"domain": "condition", "codes": ["icd10:E11"]}
    assert count(e11) == 3  # patients 1, 2 (underlying) and 3 (mentioned)
    assert count({**e11, "time": {"within_months": 12}}) == 2  # not patient 2 (2020)
    assert count({**e11, "exclude": True}) == 2  # patients 4 and 5
