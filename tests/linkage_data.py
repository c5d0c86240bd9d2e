"""Linkage test data: synthetic NHS numbers (valid check digits), a permission, a fixed time."""

from __future__ import annotations

import datetime

import numpy as np

NOW = datetime.datetime(2026, 6, 1, 12, 0, tzinfo=datetime.UTC)

_WEIGHTS = np.array([10, 9, 8, 7, 6, 5, 4, 3, 2])


def nhs_numbers(count: int, seed: int) -> list[str]:
    """``count`` distinct valid NHS numbers, reproducible from ``seed``."""
    rng = np.random.default_rng(seed)
    found: list[str] = []
    seen: set[str] = set()
    while len(found) < count:
        body = rng.integers(0, 10, size=(count * 2, 9))
        check = 11 - (body @ _WEIGHTS) % 11
        check[check == 11] = 0
        keep = check != 10
        numbers = body[keep] @ (10 ** np.arange(9, 0, -1)) + check[keep]
        for number in numbers.tolist():
            text = f"{number:010d}"
            if text not in seen:
                seen.add(text)
                found.append(text)
                if len(found) == count:
                    break
    return found


def with_check_digit(nine: str) -> str | None:
    check = 11 - sum(int(d) * w for d, w in zip(nine, _WEIGHTS.tolist(), strict=True)) % 11
    check = 0 if check == 11 else check
    return None if check == 10 else nine + str(check)


def permission_data(**changes):
    data = {
        "project": "heart-study",
        "requester": "primary",
        "provider": "hospital",
        "tables": {"tpp.apcs": ["admission_date", "primary_diagnosis", "discharge_date"]},
        "date_range": {"start": "2019-01-01", "end": "2024-12-31"},
        "finest_dates": "month",
        "expires_at": "2026-12-31T00:00:00+00:00",
        "grants": [
            {"backend": "primary", "granted_by": "Dr A", "granted_at": "2026-01-10T09:00:00+00:00"},
            {
                "backend": "hospital",
                "granted_by": "Ms B",
                "granted_at": "2026-01-12T09:00:00+00:00",
            },
        ],
    }
    data.update(changes)
    return data


def hospital_admissions(population: list[tuple[int, str]], seed: int = 3):
    """B's ``tpp.apcs`` rows: two admissions per patient, a secret-looking undeclared column."""
    import pyarrow as pa

    rng = np.random.default_rng(seed)
    rows = []
    for patient_id, _ in population:
        for _ in range(2):
            day = datetime.date(2019, 1, 1) + datetime.timedelta(days=int(rng.integers(0, 1800)))
            rows.append(
                {
                    "patient_id": patient_id,
                    "admission_date": day,
                    "discharge_date": day + datetime.timedelta(days=3),
                    "primary_diagnosis": f"I{int(rng.integers(10, 99))}",
                    "all_diagnoses": f"UNDECLARED-{patient_id}",
                }
            )
    return pa.Table.from_pylist(rows)
