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
]


def test_spec(spec_case, engine):
    check_case(spec_case, engine)
