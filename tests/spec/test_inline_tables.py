"""Spec: table_from_rows and table_from_file, patient tables written in the definition."""

import datetime

from fedsafe.language import PatientFrame, Series
from fedsafe.tables import table_from_rows
from spec.harness import SpecCase
from spec.runner import check_case
from spec.tables import e


@table_from_rows([(1, "2020-01-01", 10), (2, "2021-06-30", None), (4, "2022-01-01", 5)])
class index_dates(PatientFrame):
    index_date = Series(datetime.date)
    weight = Series(int)


# NULLs in an integer and a string column: Spark once read these back as all-NULL integers and
# the text 'NaN' (in-memory tables went to Spark through pandas).
@table_from_rows([(1, 10, "a"), (2, None, None), (3, -4, "c")])
class measurements(PatientFrame):
    weight = Series(int)
    unit = Series(str)


_PATIENTS_1_TO_4 = """
    patient_id | i1
    1          | 1
    2          | 2
    3          | 3
    4          | 4
"""

CASES = [
    SpecCase(
        "a column of an inline table; NULL for patients not in it",
        tables={
            e: """
                patient_id | i1
                1          | 1
                2          | 2
                3          | 3
            """,
        },
        series=lambda: index_dates.index_date,
        expected={
            1: datetime.date(2020, 1, 1),
            2: datetime.date(2021, 6, 30),
            3: None,
        },
    ),
    SpecCase(
        "an inline table's dates filter events",
        tables={
            e: """
                patient_id | d1
                1          | 2019-12-31
                1          | 2020-01-02
                2          | 2021-07-01
                3          | 2020-01-01
            """,
        },
        series=lambda: e.where(e.d1.is_after(index_dates.index_date)).count_for_patient(),
        expected={1: 1, 2: 1, 3: 0},
    ),
    SpecCase(
        "exists_for_patient on an inline table",
        tables={
            e: """
                patient_id | i1
                1          | 1
                3          | 3
            """,
        },
        series=lambda: index_dates.exists_for_patient(),
        expected={1: True, 3: False},
    ),
    SpecCase(
        "an inline table's integer column with a NULL keeps its other values",
        tables={e: _PATIENTS_1_TO_4},
        series=lambda: measurements.weight,
        expected={1: 10, 2: None, 3: -4, 4: None},
    ),
    SpecCase(
        "an inline table's string column with a NULL reads back as NULL, not text",
        tables={e: _PATIENTS_1_TO_4},
        series=lambda: measurements.unit,
        expected={1: "a", 2: None, 3: "c", 4: None},
    ),
    SpecCase(
        "an inline table's NULL string is_null",
        tables={e: _PATIENTS_1_TO_4},
        series=lambda: measurements.unit.is_null(),
        expected={1: False, 2: True, 3: False, 4: True},
    ),
]


def test_spec(spec_case, engine):
    check_case(spec_case, engine)
