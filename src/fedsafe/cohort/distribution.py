"""Distribution queries: how many patients have each code, and by sex and age band.

RQuest hubs ask these to show which concepts a backend can answer about. Every count passes the
policy (codes whose safe count is 0 are left out), raw counts go only to the local audit log.
Per-code counts are built in Ibis over the backend's core tables (so they run on every engine);
demographics go through the query model (``patients.sex`` and age on the reference date).
Value summaries (MIN, Q1, ... MAX) are left empty: a minimum or maximum is one patient's value.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

import ibis

from fedsafe.cohort.audit import AuditLog
from fedsafe.cohort.policy import CohortCountPolicy
from fedsafe.engines.execute import compile_dataset
from fedsafe.query_model import nodes as qm
from fedsafe.tables.core import patients

CODE_COLUMNS = (
    ("clinical_events", "snomedct_code", "SNOMEDCT"),
    ("medications", "dmd_code", "DMD"),
)
AGE_BANDS = (*((lo, lo + 9) for lo in range(0, 90, 10)), (90, None))


@dataclass(frozen=True)
class CodeCount:
    code: str  # "SNOMEDCT:73211009"
    table: str
    count: int  # safe


@dataclass(frozen=True)
class Demographics:
    total: int
    by_sex: tuple[tuple[str, int], ...]
    by_age_band: tuple[tuple[str, int], ...]


def code_counts(
    connection: ibis.BaseBackend, *, audit: AuditLog, policy: CohortCountPolicy, user: str = ""
) -> tuple[CodeCount, ...]:
    """Patients per code, safe; codes whose safe count is 0 are omitted."""
    raw: dict[str, tuple[str, int]] = {}
    for table_name, column, system in CODE_COLUMNS:
        if table_name not in connection.list_tables():
            continue
        t = connection.table(table_name)
        grouped = (
            t.filter(t[column].notnull())
            .group_by(column)
            .aggregate(n=t.patient_id.nunique())
            .to_pyarrow()
            .to_pylist()
        )
        for row in grouped:
            raw[f"{system}:{row[column]}"] = (table_name, int(row["n"]))
    counts = tuple(
        CodeCount(code, table, policy.safe(n)) for code, (table, n) in sorted(raw.items())
    )
    kept = tuple(c for c in counts if c.count > 0)
    audit.append(
        {
            "kind": "distribution",
            "what": "codes",
            "user": user,
            "raw_counts": {code: n for code, (_, n) in sorted(raw.items())},
            "safe_counts": {c.code: c.count for c in kept},
            "rule": policy.describe(),
            "policy": policy.to_dict(),
            "auto_release": policy.auto_release,
        }
    )
    return kept


def _band(age: int | None) -> str:
    if age is None or age < 0:
        return "unknown"
    for lo, hi in AGE_BANDS:
        if hi is None or age <= hi:
            return f"{lo}+" if hi is None else f"{lo}-{hi}"
    raise AssertionError("unreachable")


def demographics(
    connection: ibis.BaseBackend,
    *,
    audit: AuditLog,
    policy: CohortCountPolicy,
    reference_date: datetime.date,
    user: str = "",
) -> Demographics:
    """Patients by sex and by ten-year age band on the reference date, each count safe."""
    dataset = qm.Dataset(
        patients.exists_for_patient()._node,
        (("sex", patients.sex._node), ("age", patients.age_on(reference_date)._node)),
    )
    table = compile_dataset(dataset, connection)
    by_sex_raw: dict[str, int] = {}
    for row in table.group_by("sex").aggregate(n=table.count()).to_pyarrow().to_pylist():
        sex = row["sex"] if row["sex"] is not None else "unknown"
        by_sex_raw[sex] = by_sex_raw.get(sex, 0) + int(row["n"])
    by_band_raw: dict[str, int] = {}
    for row in table.group_by("age").aggregate(n=table.count()).to_pyarrow().to_pylist():
        band = _band(row["age"])
        by_band_raw[band] = by_band_raw.get(band, 0) + int(row["n"])
    total_raw = sum(by_sex_raw.values())
    bands = [f"{lo}+" if hi is None else f"{lo}-{hi}" for lo, hi in AGE_BANDS] + ["unknown"]
    result = Demographics(
        total=policy.safe(total_raw),
        by_sex=tuple((s, policy.safe(by_sex_raw.get(s, 0))) for s in sorted(by_sex_raw)),
        by_age_band=tuple((b, policy.safe(by_band_raw.get(b, 0))) for b in bands),
    )
    audit.append(
        {
            "kind": "distribution",
            "what": "demographics",
            "user": user,
            "reference_date": reference_date.isoformat(),
            "raw_counts": {"total": total_raw, "sex": by_sex_raw, "age_band": by_band_raw},
            "safe_counts": {
                "total": result.total,
                "sex": dict(result.by_sex),
                "age_band": dict(result.by_age_band),
            },
            "rule": policy.describe(),
            "policy": policy.to_dict(),
            "auto_release": policy.auto_release,
        }
    )
    return result
