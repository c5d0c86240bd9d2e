"""Dummy tables for a batch of patients, shaped like a primary care record.

Every patient first gets a life: a date of birth, perhaps a date of death, registration with a
practice. Every table's rows then fall inside that life, so dummy data keeps the schema's rules
(no event before birth or after death, a death registration on the date of death, valid
categories and codes) and a dataset computed from it is internally consistent.

How a patient is generated is steered by *knobs* (age band, how many of the conditions the
definition asks about they have, how active their record is, their registration and whether
they die). Each knob's levels have prior weights that make a plausible population; the
population search (``population.py``) shifts the weights towards the levels whose patients meet
the definition's population, so any satisfiable population is reached quickly.

All randomness comes from the ``numpy`` generator passed in, so a seed fixes the data.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa

from fedsafe.dummy_data.codes import code_pool, zipf_weights
from fedsafe.dummy_data.hints import Hints
from fedsafe.engines.compiler import PATIENT_ID, arrow_type
from fedsafe.query_model import nodes as qm
from fedsafe.query_model.schema import Column, Constraint
from fedsafe.query_model.types import is_code_type

DAYS_PER_YEAR = 365.25
EPOCH = datetime.date(1970, 1, 1)


def to_days(day: datetime.date) -> int:
    return (day - EPOCH).days


@dataclass(frozen=True)
class Knob:
    """One way patients vary, with the prior weight of each level."""

    name: str
    levels: tuple[Any, ...]
    prior: tuple[float, ...]


AGE_BANDS = ((0, 18), (18, 40), (40, 65), (65, 85), (85, 105))


@dataclass(frozen=True)
class Priors:
    """The generator's assumptions about a population; a backend profile can replace them."""

    age_band_weights: tuple[float, ...] = (0.21, 0.29, 0.31, 0.15, 0.04)
    death_rate: float = 0.08
    events_per_patient: Mapping[str, float] = field(
        default_factory=lambda: {"clinical_events": 30.0, "medications": 15.0}
    )
    default_events_per_patient: float = 6.0
    category_weights: Mapping[tuple[str, str], Mapping[Any, float]] = field(
        default_factory=lambda: {
            ("patients", "sex"): {
                "female": 0.49,
                "male": 0.49,
                "intersex": 0.005,
                "unknown": 0.015,
            }
        }
    )
    code_frequencies: Mapping[tuple[str, str], Mapping[str, float]] = field(default_factory=dict)
    # (probability, value) pairs, in order of probability.
    numeric_quantiles: Mapping[tuple[str, str], tuple[tuple[float, float], ...]] = field(
        default_factory=dict
    )
    null_rates: Mapping[tuple[str, str], float] = field(default_factory=dict)
    # (probability, date) pairs, in order of probability.
    date_quantiles: Mapping[tuple[str, str], tuple[tuple[float, datetime.date], ...]] = field(
        default_factory=dict
    )
    date_range: tuple[datetime.date, datetime.date] | None = None

    def knobs(self) -> tuple[Knob, ...]:
        return (
            Knob("age", AGE_BANDS, self.age_band_weights),
            Knob("prevalence", (0.05, 0.3, 0.9), (0.5, 0.35, 0.15)),
            Knob("activity", (0.3, 1.0, 3.0, 10.0), (0.3, 0.45, 0.2, 0.05)),
            Knob("registration", ("continuous", "partial", "none"), (0.85, 0.12, 0.03)),
            Knob("death", (False, True), (1 - self.death_rate, self.death_rate)),
        )


@dataclass(frozen=True)
class Lives:
    """The hidden facts about each patient in a batch that all their tables agree with."""

    patient_ids: np.ndarray
    birth: np.ndarray  # days since 1970-01-01
    death: np.ndarray  # days, or -1 for patients alive at the end of the study window
    levels: Mapping[str, np.ndarray]  # knob name -> level index per patient

    @property
    def dead(self) -> np.ndarray:
        return self.death >= 0

    def level_values(self, knob: Knob) -> np.ndarray:
        return np.asarray(knob.levels, dtype=object)[self.levels[knob.name]]

    def subset(self, keep: np.ndarray) -> Lives:
        """The same lives for only the patients where ``keep`` is True."""
        levels = {name: chosen[keep] for name, chosen in self.levels.items()}
        return Lives(self.patient_ids[keep], self.birth[keep], self.death[keep], levels)


class TableGenerator:
    """Makes the tables a definition reads, for one batch of patients at a time."""

    def __init__(
        self,
        tables: Mapping[str, qm.SelectTable | qm.SelectPatientTable],
        hints: Hints,
        rng: np.random.Generator,
        priors: Priors | None = None,
    ) -> None:
        self.tables = dict(sorted(tables.items()))
        self.hints = hints
        self.priors = priors or Priors()
        self.knobs = {k.name: k for k in self.priors.knobs()}
        # A category the definition asks about (sex == "intersex") is a knob of its own, so the
        # search can find patients in rare categories.
        for (table, column), _hints in hints.columns.items():
            node = self.tables.get(table)
            if not isinstance(node, qm.SelectPatientTable) or not node.schema.has_column(column):
                continue
            categorical = node.schema.get_column(column).get_constraint(Constraint.Categorical)
            if categorical is not None:
                weights = self.priors.category_weights.get((table, column), {})
                prior = tuple(float(weights.get(v, 1.0)) or 1e-3 for v in categorical.values)
                knob = Knob(f"{table}.{column}", categorical.values, prior)
                self.knobs[knob.name] = knob
        today = to_days(datetime.date.today())
        anchors = [to_days(d) for d in hints.dates]
        if self.priors.date_range is not None:
            low, high = (to_days(d) for d in self.priors.date_range)
            anchors = anchors or [high]
        else:
            low = min(anchors, default=today) - int(10 * DAYS_PER_YEAR)
            high = max(anchors, default=today) + int(DAYS_PER_YEAR)
        self.anchors = np.array(anchors or [today], dtype=np.int64)
        self.reference = int(self.anchors.max())
        self.window = (low, max(high, self.reference))
        self._pools = {key: self._code_pool(key, column, rng) for key, column in self._columns()}
        activity = self.knobs["activity"]
        self._mean_busyness = float(
            np.dot(np.sqrt(activity.levels), activity.prior) / np.sum(activity.prior)
        )

    # -- lives ----------------------------------------------------------------------------

    def lives(self, first_id: int, levels: Mapping[str, np.ndarray], rng: np.random.Generator):
        n = len(levels["age"])
        bands = np.array(AGE_BANDS, dtype=np.float64)[levels["age"]]
        age_days = rng.uniform(bands[:, 0], bands[:, 1]) * DAYS_PER_YEAR
        birth = self.reference - age_days.astype(np.int64)
        birth = _first_of_month(birth)
        start, end = self.window
        dies = np.asarray(self.knobs["death"].levels, dtype=bool)[levels["death"]]
        earliest = np.maximum(birth, start)
        death = np.where(dies, rng.uniform(earliest, end + 1).astype(np.int64), -1)
        death = np.where(dies & (death < birth), birth, death)
        ids = np.arange(first_id, first_id + n, dtype=np.int64)
        return Lives(ids, birth, death, dict(levels))

    # -- tables ---------------------------------------------------------------------------

    def batch(
        self, lives: Lives, rng: np.random.Generator, only: set[str] | None = None
    ) -> dict[str, pa.Table]:
        """Every table (or those named in ``only``), for the patients in ``lives``."""
        out: dict[str, pa.Table] = {}
        for name, node in self.tables.items():
            if only is not None and name not in only:
                continue
            if name == "patients" and node.schema.has_column("date_of_birth"):
                out[name] = self._patients(node, lives, rng)
            elif name == "practice_registrations" and node.schema.has_column("start_date"):
                out[name] = self._registrations(node, lives, rng)
            elif isinstance(node, qm.SelectPatientTable):
                out[name] = self._patient_table(node, lives, rng)
            else:
                out[name] = self._event_table(node, lives, rng)
        return out

    def _patients(self, node: qm.SelectPatientTable, lives: Lives, rng: np.random.Generator):
        n = len(lives.patient_ids)
        owner = np.arange(n)
        given = {
            "date_of_birth": _dates(lives.birth, np.zeros(n, dtype=bool)),
            # Primary care misses a few deaths that ONS registers.
            "date_of_death": _dates(lives.death, ~lives.dead | (rng.random(n) < 0.03)),
        }
        return self._table(node, lives, owner, rng, given=given)

    def _registrations(self, node: qm.SelectTable, lives: Lives, rng: np.random.Generator):
        kind = lives.level_values(self.knobs["registration"])
        start, _end = self.window
        life_end = np.where(lives.dead, lives.death, -1)
        owners: list[np.ndarray] = []
        starts: list[np.ndarray] = []
        ends: list[np.ndarray] = []
        # Continuous: registered from before the window opens until death or today, sometimes
        # moving practice once on the way.
        cont = np.flatnonzero(kind == "continuous")
        first = np.maximum(
            lives.birth[cont], start - rng.uniform(0, 15 * DAYS_PER_YEAR, len(cont)).astype(int)
        )
        moves = rng.random(len(cont)) < 0.3
        last_day = np.where(life_end[cont] >= 0, life_end[cont], self.window[1])
        split = rng.uniform(first, np.maximum(first + 1, last_day)).astype(np.int64)
        owners += [cont, cont[moves]]
        starts += [first, split[moves]]
        ends += [np.where(moves, split, life_end[cont]), life_end[cont][moves]]
        # Partial: a single registration somewhere in the window, often already ended.
        part = np.flatnonzero(kind == "partial")
        low = np.maximum(lives.birth[part], start)
        high = np.where(life_end[part] >= 0, life_end[part], self.window[1])
        begin = rng.uniform(low, np.maximum(low + 1, high)).astype(np.int64)
        stop = begin + rng.uniform(90, 5 * DAYS_PER_YEAR, len(part)).astype(np.int64)
        stop = np.where((rng.random(len(part)) < 0.25) & (life_end[part] < 0), -1, stop)
        stop = np.where((life_end[part] >= 0) & (stop > life_end[part]), life_end[part], stop)
        owners.append(part)
        starts.append(begin)
        ends.append(stop)
        owner = np.concatenate(owners)
        order = np.argsort(owner, kind="stable")
        owner = owner[order]
        first_days = np.concatenate(starts)[order]
        end_days = np.concatenate(ends)[order]
        given = {
            "start_date": _dates(first_days, np.zeros(len(owner), dtype=bool)),
            "end_date": _dates(end_days, end_days < 0),
        }
        return self._table(node, lives, owner, rng, given=given)

    def _patient_table(self, node: qm.SelectPatientTable, lives: Lives, rng: np.random.Generator):
        n = len(lives.patient_ids)
        if "death" in node.name and node.schema.has_column("date"):
            # A death registration: only for those who died, on the day they died.
            owner = np.flatnonzero(lives.dead & (rng.random(n) < 0.97))
            given = {"date": _dates(lives.death[owner], np.zeros(len(owner), dtype=bool))}
            return self._table(node, lives, owner, rng, given=given, sparse_codes=True)
        owner = np.flatnonzero(rng.random(n) < 0.95)
        return self._table(node, lives, owner, rng)

    def _event_table(self, node: qm.SelectTable, lives: Lives, rng: np.random.Generator):
        n = len(lives.patient_ids)
        low, high = self._life_span(lives)
        span = np.maximum(high - low, 0)
        window_days = max(self.window[1] - self.window[0], 1)
        rate = self.priors.events_per_patient.get(node.name, self.priors.default_events_per_patient)
        activity = lives.level_values(self.knobs["activity"]).astype(np.float64)
        # Busier records have more of everything, but mostly more of what a study looks for.
        # Dividing by the prior mean keeps the average at ``rate`` over a whole window.
        counts = rng.poisson(rate * np.sqrt(activity) / self._mean_busyness * span / window_days)
        counts[span <= 0] = 0
        owners = [np.repeat(np.arange(n), counts)]
        forced: list[dict[str, np.ndarray]] = [{}]
        prevalence = lives.level_values(self.knobs["prevalence"]).astype(np.float64)
        for column in node.schema.columns:
            if not (is_code_type(column.type) or column.type is str):
                continue  # dates and numbers follow their hints when they are generated
            for group in self.hints.for_column(node.name, column.name).groups:
                has = np.flatnonzero((rng.random(n) < prevalence) & (span > 0))
                repeats = 1 + rng.poisson(activity[has])
                owner = np.repeat(has, repeats)
                values = np.asarray([_plain(v) for v in group], dtype=object)
                owners.append(owner)
                forced.append({column.name: values[rng.integers(len(values), size=len(owner))]})
        owner = np.concatenate(owners)
        order = np.argsort(owner, kind="stable")
        parts = []
        for part_owner, part_forced in zip(owners, forced, strict=True):
            parts.append(self._columns_for(node, lives, part_owner, rng, part_forced))
        columns = {name: np.concatenate([p[name][0] for p in parts])[order] for name in parts[0]}
        masks = {name: np.concatenate([p[name][1] for p in parts])[order] for name in parts[0]}
        return self._assemble(node, lives, owner[order], columns, masks)

    # -- columns --------------------------------------------------------------------------

    def _table(
        self,
        node: qm.SelectTable | qm.SelectPatientTable,
        lives: Lives,
        owner: np.ndarray,
        rng: np.random.Generator,
        *,
        given: Mapping[str, tuple[np.ndarray, np.ndarray]] | None = None,
        sparse_codes: bool = False,
    ) -> pa.Table:
        given = dict(given or {})
        generated = self._columns_for(node, lives, owner, rng, {}, skip=set(given))
        if sparse_codes:
            generated = _thin_repeated_columns(node, generated, rng)
        generated.update(given)
        return self._assemble(
            node,
            lives,
            owner,
            {k: v[0] for k, v in generated.items()},
            {k: v[1] for k, v in generated.items()},
        )

    def _columns_for(
        self,
        node: qm.SelectTable | qm.SelectPatientTable,
        lives: Lives,
        owner: np.ndarray,
        rng: np.random.Generator,
        forced: Mapping[str, np.ndarray],
        skip: set[str] | None = None,
    ) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        out: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        event_days: np.ndarray | None = None
        for column in node.schema.columns:
            if skip and column.name in skip:
                continue
            if column.name in forced:
                values = forced[column.name]
                out[column.name] = (values, np.zeros(len(values), dtype=bool))
                continue
            if column.type is datetime.date:
                after = column.get_constraint(Constraint.DateAfter)
                if after and after.before and after.before[0] in out:
                    base = out[after.before[0]][0]
                    days = base + rng.exponential(60, len(owner)).astype(np.int64)
                elif event_days is None:
                    event_days = days = self._event_days(
                        (node.name, column.name), lives, owner, rng
                    )
                else:
                    days = self._event_days((node.name, column.name), lives, owner, rng)
                if column.has_constraint(Constraint.FirstOfMonth):
                    days = _first_of_month(days)
                out[column.name] = _dates(days, self._nulls(node.name, column, len(owner), rng))
            else:
                out[column.name] = self._values(node, column, lives, owner, rng)
        return out

    def _values(
        self,
        node: qm.SelectTable | qm.SelectPatientTable,
        column: Column,
        lives: Lives,
        owner: np.ndarray,
        rng: np.random.Generator,
    ) -> tuple[np.ndarray, np.ndarray]:
        n = len(owner)
        key = (node.name, column.name)
        nulls = self._nulls(node.name, column, n, rng)
        hints = self.hints.for_column(*key)
        if column.has_constraint(Constraint.Unique) and column.type is int:
            return lives.patient_ids[owner] if n else np.zeros(0, dtype=np.int64), nulls
        if is_code_type(column.type):
            values = self._background_codes(key, n, rng)
            if isinstance(node, qm.SelectPatientTable) and hints.groups:
                values = self._with_hinted(values, hints.values, lives, owner, rng)
            return values, nulls
        categories = column.get_constraint(Constraint.Categorical)
        knob = self.knobs.get(f"{node.name}.{column.name}")
        if knob is not None and isinstance(node, qm.SelectPatientTable):
            return lives.level_values(knob)[owner], nulls
        if categories is not None:
            return _pick(categories.values, self.priors.category_weights.get(key), n, rng), nulls
        if column.type is bool:
            return rng.random(n) < 0.5, nulls
        if column.type in (int, float):
            values = self._numbers(key, column, hints.values, n, rng)
            return values, nulls
        # Free text: the values the definition looks for, and others.
        words = np.asarray([f"value{i}" for i in range(20)], dtype=object)
        values = words[rng.integers(len(words), size=n)]
        if hints.values:
            hinted = np.asarray(hints.values, dtype=object)
            use = rng.random(n) < 0.5
            values[use] = hinted[rng.integers(len(hinted), size=int(use.sum()))]
        return values, nulls

    def _with_hinted(
        self,
        values: np.ndarray,
        hinted: tuple[Any, ...],
        lives: Lives,
        owner: np.ndarray,
        rng: np.random.Generator,
    ) -> np.ndarray:
        prevalence = lives.level_values(self.knobs["prevalence"]).astype(np.float64)[owner]
        use = rng.random(len(owner)) < prevalence
        choices = np.asarray([_plain(v) for v in hinted], dtype=object)
        values = values.copy()
        values[use] = choices[rng.integers(len(choices), size=int(use.sum()))]
        return values

    def _numbers(
        self,
        key: tuple[str, str],
        column: Column,
        hinted: tuple[Any, ...],
        n: int,
        rng: np.random.Generator,
    ) -> np.ndarray:
        closed = column.get_constraint(Constraint.ClosedRange)
        quantiles = self.priors.numeric_quantiles.get(key)
        if closed is not None:
            steps = int((closed.maximum - closed.minimum) // closed.step) + 1
            values = closed.minimum + closed.step * rng.integers(steps, size=n)
        elif quantiles:
            probabilities, points = zip(*quantiles, strict=True)
            values = np.interp(rng.random(n), probabilities, points)
        elif hinted:
            numbers = np.asarray([float(v) for v in hinted])
            low, high = numbers.min(), numbers.max()
            margin = max(abs(high - low) * 0.5, abs(high) * 0.5, 1.0)
            values = rng.uniform(low - margin, high + margin, n)
            exact = rng.random(n) < 0.1
            values[exact] = numbers[rng.integers(len(numbers), size=int(exact.sum()))]
        elif column.type is int:
            values = rng.integers(1, 1000, size=n)
        else:
            values = np.round(rng.lognormal(3.0, 0.8, n), 1)
        if column.type is int:
            return np.round(values).astype(np.int64)
        return np.asarray(values, dtype=np.float64)

    def _nulls(self, table: str, column: Column, n: int, rng: np.random.Generator) -> np.ndarray:
        if not column.nullable:
            return np.zeros(n, dtype=bool)
        rate = self.priors.null_rates.get((table, column.name))
        if rate is None:
            rate = {datetime.date: 0.005, float: 0.3}.get(column.type, 0.05)
        return rng.random(n) < rate

    def _background_codes(self, key: tuple[str, str], n: int, rng: np.random.Generator):
        pool, weights = self._pools[key]
        return pool[rng.choice(len(pool), size=n, p=weights)]

    def _code_pool(
        self, key: tuple[str, str], column: Column, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        frequencies = self.priors.code_frequencies.get(key)
        if frequencies:
            codes = np.asarray(list(frequencies), dtype=object)
            weights = np.asarray(list(frequencies.values()), dtype=np.float64)
            return codes, weights / weights.sum()
        hinted = frozenset(_plain(v) for v in self.hints.for_column(*key).values)
        codes = code_pool(column.type, rng, 200, hinted)
        return np.asarray(codes, dtype=object), zipf_weights(len(codes))

    def _columns(self):
        for name, node in self.tables.items():
            for column in node.schema.columns:
                if is_code_type(column.type):
                    yield (name, column.name), column

    def _life_span(self, lives: Lives) -> tuple[np.ndarray, np.ndarray]:
        low = np.maximum(lives.birth, self.window[0])
        high = np.where(lives.dead, lives.death, self.window[1])
        return low, high

    def _event_days(
        self,
        key: tuple[str, str],
        lives: Lives,
        owner: np.ndarray,
        rng: np.random.Generator,
    ):
        """Dates inside each owner's life, clustered around the dates the definition uses.

        Without a profile, dates are spread evenly over each life; with one, they follow the
        profile's quantiles for the column wherever those fall inside the life.
        """
        low, high = self._life_span(lives)
        low, high = low[owner], high[owner]
        n = len(owner)
        uniform = rng.uniform(low, np.maximum(low + 1, high + 1)).astype(np.int64)
        quantiles = self.priors.date_quantiles.get(key)
        if quantiles:
            probabilities = [p for p, _ in quantiles]
            points = [to_days(d) for _, d in quantiles]
            shaped = np.interp(rng.random(n), probabilities, points).astype(np.int64)
            uniform = np.where((shaped >= low) & (shaped <= high), shaped, uniform)
        if not self.hints.dates:
            return uniform
        anchor = self.anchors[rng.integers(len(self.anchors), size=n)]
        before = rng.random(n) < 0.75
        offset = np.where(
            before,
            -rng.exponential(2 * DAYS_PER_YEAR, n),
            rng.exponential(DAYS_PER_YEAR, n),
        ).astype(np.int64)
        near = anchor + offset
        use_near = (rng.random(n) < 0.6) & (near >= low) & (near <= high)
        return np.where(use_near, near, uniform)

    def _assemble(
        self,
        node: qm.SelectTable | qm.SelectPatientTable,
        lives: Lives,
        owner: np.ndarray,
        columns: Mapping[str, np.ndarray],
        masks: Mapping[str, np.ndarray],
    ) -> pa.Table:
        arrays = [pa.array(lives.patient_ids[owner], type=pa.int64())]
        names = [PATIENT_ID]
        for column in node.schema.columns:
            target = arrow_type(column.type)
            values, mask = columns[column.name], masks[column.name]
            if column.type is datetime.date:
                array = pa.array(values.astype(np.int32), mask=mask).cast(pa.date32())
            else:
                array = pa.array(values, type=target, mask=mask, from_pandas=False)
            arrays.append(array)
            names.append(column.name)
        return pa.Table.from_arrays(arrays, names=names)


def _plain(value: Any) -> Any:
    """A constant as stored in a table: codes as their text."""
    return getattr(value, "value", value) if is_code_type(type(value)) else value


def _dates(days: np.ndarray, null: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    days = np.asarray(days, dtype=np.int64)
    return days, np.asarray(null, dtype=bool) | (days < to_days(datetime.date(1, 1, 1)))


def _first_of_month(days: np.ndarray) -> np.ndarray:
    months = np.asarray(days, dtype="datetime64[D]").astype("datetime64[M]")
    return months.astype("datetime64[D]").astype(np.int64)


def _pick(
    values: tuple[Any, ...],
    weights: Mapping[Any, float] | None,
    n: int,
    rng: np.random.Generator,
) -> np.ndarray:
    choices = np.asarray(values, dtype=object)
    if weights:
        p = np.asarray([float(weights.get(v, 0.0)) for v in values])
        p = p / p.sum() if p.sum() > 0 else None
    else:
        p = None
    return choices[rng.choice(len(choices), size=n, p=p)]


def _thin_repeated_columns(
    node: qm.SelectPatientTable,
    columns: dict[str, tuple[np.ndarray, np.ndarray]],
    rng: np.random.Generator,
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Fill numbered columns (``cause_of_death_01``...) from the first, fewer each time."""
    numbered = [c.name for c in node.schema.columns if c.name[-2:].isdigit()]
    for index, name in enumerate(sorted(numbered)):
        values, nulls = columns[name]
        keep = rng.random(len(values)) < 0.8 * 0.6**index
        columns[name] = (values, nulls | ~keep)
    return columns
