"""Backend profiles: non-disclosive summaries of real tables that dummy data can follow.

A backend operator computes a profile inside the backend (``fedsafe backend profile``) and
releases it like any other output; researchers outside then generate dummy data whose shape
follows the real data (how many events a patient has, which codes are common, the ages, the
dates, the values) without any patient's record leaving.

What a profile holds, and how each part is made safe:

* counts (rows, patients, patients per band of rows-per-patient, per age band, per code or
  category) go through the backend's :class:`~fedsafe.disclosure.DisclosurePolicy`: counts at
  or below the threshold are suppressed and the rest rounded. Suppressed codes and categories
  are left out entirely, so a rare code is never named;
* fractions (nulls, true values, deaths) are computed from protected counts;
* quantiles of dates (to the month) and numbers are published only for columns with at least
  ``MIN_VALUES_FOR_QUANTILES`` values, and never the minimum or maximum (the 1st and 99th
  percentiles are the extremes), so no single record's value is exposed.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import ibis

from fedsafe.disclosure import DisclosurePolicy, protect_count
from fedsafe.dummy_data.generator import AGE_BANDS, Priors
from fedsafe.errors import DataSourceError
from fedsafe.query_model import nodes as qm
from fedsafe.query_model.schema import Constraint
from fedsafe.query_model.types import is_code_type

FORMAT = "fedsafe-backend-profile"
VERSION = 1
MIN_VALUES_FOR_QUANTILES = 100
MOST_CODES = 2_000
PROBABILITIES = (0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99)
ROWS_PER_PATIENT_BANDS = ((1, 1), (2, 2), (3, 4), (5, 9), (10, 19), (20, 49), (50, 99))


class ProfileError(DataSourceError):
    """A profile file that cannot be used, or a backend that cannot be profiled."""


def _band_label(low: int, high: int | None) -> str:
    return f"{low}+" if high is None else (str(low) if low == high else f"{low}-{high}")


@dataclass(frozen=True)
class ColumnProfile:
    null_fraction: float | None = None
    true_fraction: float | None = None
    frequencies: dict[str, int] = field(default_factory=dict)
    quantiles: dict[str, Any] = field(default_factory=dict)  # "0.5" -> number or "YYYY-MM-01"


@dataclass(frozen=True)
class TableProfile:
    rows: int | None
    patients: int | None
    rows_per_patient: dict[str, int | None]
    columns: dict[str, ColumnProfile]


@dataclass(frozen=True)
class Profile:
    backend: str
    created: str
    policy: dict[str, Any]
    reference_date: str
    age_bands: dict[str, int | None]
    deaths: int | None
    tables: dict[str, TableProfile]

    def to_json(self) -> str:
        document = {"format": FORMAT, "version": VERSION, **asdict(self)}
        return json.dumps(document, indent=2, sort_keys=True) + "\n"

    def priors(self) -> Priors:
        """The generator's assumptions, replaced by what this profile says where it says it."""
        defaults = Priors()
        patients = self.tables.get("patients")
        total = patients.patients if patients is not None else None
        ages = [self.age_bands.get(_band_label(lo, hi - 1)) or 0 for lo, hi in AGE_BANDS]
        age_weights = tuple(float(a) for a in ages) if sum(ages) else defaults.age_band_weights
        death_rate = defaults.death_rate
        if total and self.deaths is not None:
            death_rate = min(max(self.deaths / total, 0.0), 0.9)
        events: dict[str, float] = dict(defaults.events_per_patient)
        categories: dict[tuple[str, str], dict[Any, float]] = dict(defaults.category_weights)
        codes: dict[tuple[str, str], dict[str, float]] = {}
        numbers: dict[tuple[str, str], tuple[tuple[float, float], ...]] = {}
        nulls: dict[tuple[str, str], float] = {}
        dates: dict[tuple[str, str], tuple[tuple[float, datetime.date], ...]] = {}
        for name, table in self.tables.items():
            if total and table.rows is not None and name != "patients":
                events[name] = table.rows / total
            for column, summary in table.columns.items():
                key = (name, column)
                if summary.frequencies:
                    categories[key] = {k: float(v) for k, v in summary.frequencies.items()}
                    codes[key] = {k: float(v) for k, v in summary.frequencies.items()}
                ordered = sorted(summary.quantiles.items(), key=lambda item: float(item[0]))
                if ordered and _is_date(ordered[0][1]):
                    dates[key] = tuple(
                        (float(p), datetime.date.fromisoformat(v)) for p, v in ordered
                    )
                elif ordered:
                    numbers[key] = tuple((float(p), float(v)) for p, v in ordered)
                if summary.null_fraction is not None:
                    nulls[key] = summary.null_fraction
        return Priors(
            age_band_weights=age_weights,
            death_rate=death_rate,
            events_per_patient=events,
            category_weights=categories,
            code_frequencies=codes,
            numeric_quantiles=numbers,
            null_rates=nulls,
            date_quantiles=dates,
            date_range=self._date_range(),
        )

    def _date_range(self) -> tuple[datetime.date, datetime.date] | None:
        lows, highs = [], []
        for name, table in self.tables.items():
            if name == "patients":  # births and deaths are not when records are made
                continue
            for summary in table.columns.values():
                values = summary.quantiles
                if values and _is_date(next(iter(values.values()))):
                    lows.append(datetime.date.fromisoformat(values[min(values)]))
                    highs.append(datetime.date.fromisoformat(values[max(values)]))
        if not lows:
            return None
        return min(lows), datetime.date.fromisoformat(self.reference_date)


def _is_date(value: Any) -> bool:
    return isinstance(value, str)


# --------------------------------------------------------------------------------------------
# Computing a profile


def compute_profile(
    load_table: Callable[[str], ibis.Table],
    tables: Mapping[str, qm.SelectTable | qm.SelectPatientTable],
    policy: DisclosurePolicy,
    *,
    name: str,
) -> Profile:
    """Summarise ``tables`` with every count protected by ``policy``.

    ``load_table`` gives a logical table by name (through the backend's mapping, so an OMOP
    backend is profiled in the same terms as a native one).
    """
    profiles: dict[str, TableProfile] = {}
    latest: list[datetime.date] = []
    for table_name, node in sorted(tables.items()):
        dates = latest if table_name != "patients" else []
        profiles[table_name] = _profile_table(load_table(table_name), node, policy, dates)
    reference = max(latest) if latest else datetime.date.today().replace(day=1)
    age_bands: dict[str, int | None] = {}
    deaths = None
    if "patients" in tables and tables["patients"].schema.has_column("date_of_birth"):
        people = load_table("patients")
        age_bands = _age_bands(people, reference, policy)
        if tables["patients"].schema.has_column("date_of_death"):
            deaths = _count(people.date_of_death.notnull().sum(), policy)
    return Profile(
        backend=name,
        created=datetime.date.today().isoformat(),
        policy=policy.to_dict(),
        reference_date=reference.isoformat(),
        age_bands=age_bands,
        deaths=deaths,
        tables=profiles,
    )


def _count(expr: Any, policy: DisclosurePolicy) -> int | None:
    value = expr.execute()
    return protect_count(int(value or 0), policy)


def _fraction(part: int | None, whole: int | None) -> float | None:
    if part is None or not whole:
        return None
    return round(min(part / whole, 1.0), 3)


def _profile_table(
    table: ibis.Table,
    node: qm.SelectTable | qm.SelectPatientTable,
    policy: DisclosurePolicy,
    latest: list[datetime.date],
) -> TableProfile:
    rows = _count(table.count(), policy)
    patients = _count(table.patient_id.nunique(), policy)
    per_patient = table.group_by("patient_id").aggregate(n=ibis._.count())
    bands: dict[str, int | None] = {}
    for low, high in (*ROWS_PER_PATIENT_BANDS, (100, None)):
        condition = per_patient.n >= low if high is None else per_patient.n.between(low, high)
        bands[_band_label(low, high)] = _count(per_patient.filter(condition).count(), policy)
    columns = {}
    for column in node.schema.columns:
        columns[column.name] = _profile_column(table, column, rows, policy, latest)
    return TableProfile(rows, patients, bands, columns)


def _profile_column(
    table: ibis.Table,
    column: Any,
    rows: int | None,
    policy: DisclosurePolicy,
    latest: list[datetime.date],
) -> ColumnProfile:
    values = table[column.name]
    present = int(values.count().execute() or 0)
    nulls = _fraction(_count(values.isnull().sum(), policy), rows)
    if column.type is bool:
        trues = _count(values.cast("int64").sum(), policy)
        return ColumnProfile(nulls, _fraction(trues, protect_count(present, policy)))
    if is_code_type(column.type) or column.has_constraint(Constraint.Categorical):
        return ColumnProfile(nulls, frequencies=_frequencies(table, column.name, policy))
    if column.type is datetime.date and present >= MIN_VALUES_FOR_QUANTILES:
        months = (values.year() * 12 + values.month() - 1).cast("float64")
        found = _quantiles(table, months)
        dates = {p: _month_start(v) for p, v in found.items()}
        if dates:
            latest.append(datetime.date.fromisoformat(dates[max(dates)]))
        return ColumnProfile(nulls, quantiles=dates)
    if column.type in (int, float) and present >= MIN_VALUES_FOR_QUANTILES:
        found = _quantiles(table, values.cast("float64"))
        return ColumnProfile(nulls, quantiles={p: round(v, 6) for p, v in found.items()})
    return ColumnProfile(nulls)


def _frequencies(table: ibis.Table, column: str, policy: DisclosurePolicy) -> dict[str, int]:
    present = table.filter(table[column].notnull())
    counts = (
        present.group_by(column)
        .aggregate(n=present.count())
        .order_by([ibis.desc("n"), column])
        .limit(MOST_CODES)
        .execute()
    )
    out = {}
    for value, n in zip(counts[column], counts["n"], strict=True):
        protected = protect_count(int(n), policy)
        if protected:  # suppressed (None) and zero counts name nothing
            out[str(value)] = protected
    return out


def _quantiles(table: ibis.Table, values: Any) -> dict[str, float]:
    """Nearest-rank quantiles, from row numbers over the sorted values.

    Built from ROW_NUMBER rather than a QUANTILE aggregate, which SQLite lacks, so every engine
    gives the same answer.
    """
    present = table.filter(values.notnull()).select(v=values)
    n = int(present.count().execute() or 0)
    if n == 0:
        return {}
    ranked = present.mutate(rank=ibis.row_number().over(order_by=present.v))
    wanted = {min(n - 1, int(p * n)): str(p) for p in PROBABILITIES}
    rows = ranked.filter(ranked["rank"].isin(list(wanted))).execute()
    found = {}
    for rank, value in zip(rows["rank"], rows["v"], strict=True):
        if value is not None and value == value:  # not NULL, not NaN
            found[wanted[int(rank)]] = float(value)
    return found


def _month_start(months: float) -> str:
    whole = round(months)
    return datetime.date(whole // 12, whole % 12 + 1, 1).isoformat()


def _age_bands(
    people: ibis.Table, reference: datetime.date, policy: DisclosurePolicy
) -> dict[str, int | None]:
    age = reference.year - people.date_of_birth.year()
    out = {}
    for low, high in AGE_BANDS:
        out[_band_label(low, high - 1)] = _count(
            people.filter((age >= low) & (age < high)).count(), policy
        )
    return out


# --------------------------------------------------------------------------------------------
# Reading a profile


def read_profile(path: Path) -> Profile:
    """A released profile file, checked field by field."""
    try:
        document = json.loads(Path(path).read_text())
    except OSError as exc:
        raise ProfileError(f"dummy data profile {path}: cannot read it: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise ProfileError(
            f"dummy data profile {path}, line {exc.lineno}: not valid JSON ({exc.msg})"
        ) from None
    return profile_from_document(document, str(path))


def profile_from_document(document: Any, source: str) -> Profile:
    def fail(where: str, expected: str) -> ProfileError:
        return ProfileError(f"dummy data profile {source}, {where}: expected {expected}")

    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise fail("format", f'a JSON object with "format": "{FORMAT}"')
    if document.get("version") != VERSION:
        raise fail("version", f"{VERSION} (this fedsafe reads version {VERSION})")
    expected_keys = {"format", "version", *Profile.__dataclass_fields__}
    unknown = sorted(set(document) - expected_keys)
    missing = sorted(expected_keys - set(document))
    if unknown:
        raise fail(f"key {unknown[0]!r}", "only " + ", ".join(sorted(expected_keys)))
    if missing:
        raise fail(f"key {missing[0]!r}", "it to be present")
    try:
        datetime.date.fromisoformat(document["reference_date"])
    except (TypeError, ValueError):
        raise fail("reference_date", "a date as YYYY-MM-DD") from None
    tables = {}
    if not isinstance(document["tables"], dict):
        raise fail("tables", "an object of tables")
    for name, table in document["tables"].items():
        tables[name] = _table_from(table, f"tables.{name}", fail)
    return Profile(
        backend=_text(document["backend"], "backend", fail),
        created=_text(document["created"], "created", fail),
        policy=_mapping(document["policy"], "policy", fail),
        reference_date=document["reference_date"],
        age_bands=_counts(document["age_bands"], "age_bands", fail),
        deaths=_optional_count(document["deaths"], "deaths", fail),
        tables=tables,
    )


def _table_from(value: Any, where: str, fail) -> TableProfile:
    data = _mapping(value, where, fail)
    keys = set(TableProfile.__dataclass_fields__)
    if set(data) != keys:
        raise fail(where, "keys " + ", ".join(sorted(keys)))
    columns = {}
    for column, summary in _mapping(data["columns"], f"{where}.columns", fail).items():
        here = f"{where}.columns.{column}"
        summary = _mapping(summary, here, fail)
        allowed = set(ColumnProfile.__dataclass_fields__)
        if not set(summary) <= allowed:
            raise fail(here, "only " + ", ".join(sorted(allowed)))
        for key in ("null_fraction", "true_fraction"):
            fraction = summary.get(key)
            if fraction is not None and not (
                isinstance(fraction, int | float) and 0 <= fraction <= 1
            ):
                raise fail(f"{here}.{key}", "a fraction from 0 to 1, or null")
        frequencies = _counts(summary.get("frequencies", {}), f"{here}.frequencies", fail)
        quantiles = _mapping(summary.get("quantiles", {}), f"{here}.quantiles", fail)
        for p, v in quantiles.items():
            try:
                valid = 0 <= float(p) <= 1 and (
                    isinstance(v, int | float) or datetime.date.fromisoformat(v) is not None
                )
            except (TypeError, ValueError):
                valid = False
            if not valid:
                raise fail(f"{here}.quantiles.{p}", "a probability mapped to a number or date")
        columns[column] = ColumnProfile(
            summary.get("null_fraction"),
            summary.get("true_fraction"),
            {k: v for k, v in frequencies.items() if v is not None},
            quantiles,
        )
    return TableProfile(
        rows=_optional_count(data["rows"], f"{where}.rows", fail),
        patients=_optional_count(data["patients"], f"{where}.patients", fail),
        rows_per_patient=_counts(data["rows_per_patient"], f"{where}.rows_per_patient", fail),
        columns=columns,
    )


def _mapping(value: Any, where: str, fail) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise fail(where, "an object")
    return value


def _text(value: Any, where: str, fail) -> str:
    if not isinstance(value, str):
        raise fail(where, "text")
    return value


def _optional_count(value: Any, where: str, fail) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise fail(where, "a whole number of at least 0, or null (suppressed)")
    return value


def _counts(value: Any, where: str, fail) -> dict[str, int | None]:
    return {
        k: _optional_count(v, f"{where}.{k}", fail) for k, v in _mapping(value, where, fail).items()
    }
