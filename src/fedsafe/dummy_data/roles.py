"""Dates within one row that real data keeps in order, and dummy data must too.

The generator draws each date column inside the patient's life independently. Some tables
describe periods or steps (an address is moved into before it is left, a spell is admitted
before it is discharged), and a dummy row breaking that order would mislead a researcher
testing their code. The schemas state these orders only in words, so they are listed here, for
dummy data alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

import numpy as np

DATE_ORDER: Mapping[str, tuple[tuple[str, ...], ...]] = MappingProxyType(
    {
        "addresses": (("start_date", "end_date"),),
        "apcs": (("admission_date", "discharge_date"),),
        "apcs_cost": (("admission_date", "discharge_date"),),
        "appointments": (("booked_date", "start_date", "seen_date"),),
        "ec_cost": (("arrival_date", "ec_decision_to_admit_date"),),
        "opa": (("referral_request_received_date", "appointment_date"),),
        "opa_cost": (("referral_request_received_date", "appointment_date"),),
        "opa_diag": (("referral_request_received_date", "appointment_date"),),
        "opa_proc": (("referral_request_received_date", "appointment_date"),),
        "sgss_covid_all_tests": (("specimen_taken_date", "lab_report_date"),),
        "wl_clockstops": (
            (
                "referral_request_received_date",
                "referral_to_treatment_period_start_date",
                "referral_to_treatment_period_end_date",
            ),
        ),
        "wl_openpathways": (
            ("referral_to_treatment_period_start_date", "referral_to_treatment_period_end_date"),
        ),
    }
)
"""Table -> groups of date columns, each group in the order its dates happen."""


def order_dates(
    table: str, columns: dict[str, tuple[np.ndarray, np.ndarray]]
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Swap dates within each row so that every ordered group is in order where both are set.

    Swapping keeps each row's set of dates, so every date stays inside the patient's life.
    """
    for group in DATE_ORDER.get(table, ()):
        present = [name for name in group if name in columns]
        # Compare every earlier column with every later one (a selection sort), so that a
        # NULL between two dates does not leave them out of order.
        for position, earlier in enumerate(present):
            for later in present[position + 1 :]:
                first, first_null = columns[earlier]
                second, second_null = columns[later]
                swap = ~first_null & ~second_null & (first > second)
                if swap.any():
                    first, second = first.copy(), second.copy()
                    first[swap], second[swap] = second[swap], first[swap]
                    columns[earlier] = (first, first_null)
                    columns[later] = (second, second_null)
    return columns
