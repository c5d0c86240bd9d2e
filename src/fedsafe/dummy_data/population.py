"""Finding exactly as many dummy patients as asked for, for any satisfiable population.

Patients are generated in batches; the definition's own population condition is run on each
batch with the DuckDB engine, and the patients it keeps are kept. After each batch, each knob
(see ``generator.py``) moves its weights towards the levels whose patients were accepted, so a
population that few random patients meet (aged 85+, with a code from a rare codelist) is
reached in a few batches rather than by brute force. Once enough are found, exactly
``population_size`` are kept (the first ones, so the result depends only on the seed) and their
patient ids renumbered from 1.

A population no generated patient meets is reported with the conditions that were never true,
so the researcher can see which part of the definition cannot be met.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import ibis
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from fedsafe.dummy_data.generator import Priors, TableGenerator
from fedsafe.dummy_data.hints import collect_hints
from fedsafe.engines.compiler import PATIENT_ID
from fedsafe.engines.execute import run_dataset
from fedsafe.errors import DefinitionError
from fedsafe.query_model import nodes as qm
from fedsafe.query_model.describe import describe

DEFAULT_SEED = 0
SMALLEST_BATCH = 1_000
LARGEST_BATCH = 250_000
# Give up on a population no patient has met after this many generated patients.
GIVE_UP_AFTER = 30_000
GIVE_UP_ENTIRELY = 3_000_000


class UnreachablePopulationError(DefinitionError):
    """Dummy data could not reach the population the definition asks for."""


@dataclass(frozen=True)
class SearchProgress:
    found: int
    wanted: int
    generated: int


@dataclass(frozen=True)
class DummyTables:
    """The dummy tables of a population, with how they were found."""

    tables: Mapping[str, pa.Table]
    population_size: int
    generated: int  # patients generated to find them
    seconds: float


def generate_dummy_tables(
    dataset: qm.Dataset,
    *,
    population_size: int,
    seed: int = DEFAULT_SEED,
    timeout: float = 60.0,
    additional_population_constraint: qm.Series | None = None,
    priors: Priors | None = None,
    on_progress: Callable[[SearchProgress], None] | None = None,
) -> DummyTables:
    """Tables for exactly ``population_size`` patients in the dataset's population."""
    started = time.monotonic()
    if population_size < 1:
        raise ValueError("population_size must be at least 1")
    target = dataset.population
    if additional_population_constraint is not None:
        target = qm.Function(qm.Op.AND, (target, additional_population_constraint))
    roots: list[qm.Node] = [dataset]
    if additional_population_constraint is not None:
        roots.append(additional_population_constraint)
    tables: dict[str, qm.SelectTable | qm.SelectPatientTable] = {}
    for root in roots:
        tables.update(qm.tables_used(root))
    rng = np.random.default_rng(seed)
    generator = TableGenerator(tables, collect_hints(roots), rng, priors)
    weights = _Weights(generator)
    search = qm.Dataset(target, ())
    conjuncts = _conjunct_query(target)
    searched = set(qm.tables_used(target))
    renumber = not any(isinstance(n, qm.InlinePatientTable) for n in qm.walk(dataset))

    kept: list[dict[str, pa.Table]] = []
    found = generated = size = 0
    next_id = 1
    backend = ibis.duckdb.connect()
    try:
        while True:
            size = _batch_size(population_size - found, weights.acceptance, size)
            levels = weights.sample(size, rng)
            lives = generator.lives(next_id, levels, rng)
            next_id += size
            # Only the tables the population reads are made for everyone; the rest are made
            # for the patients it keeps.
            batch = generator.batch(lives, rng, only=searched)
            _load(backend, batch)
            accepted = _accepted_ids(search, backend)
            if weights.total_met < weights.ENOUGH:
                parts = _conjunct_masks(conjuncts, lives.patient_ids, backend)
            else:
                parts = []
            met = np.isin(lives.patient_ids, accepted)
            weights.update(levels, met, parts)
            generated += size
            if len(accepted):
                wanted = accepted[: population_size - found]
                chosen = np.isin(lives.patient_ids, wanted)
                rest = generator.batch(lives.subset(chosen), rng, only=set(tables) - searched)
                kept.append({**_only(batch, wanted), **rest})
                found += len(wanted)
            if on_progress is not None:
                on_progress(SearchProgress(found, population_size, generated))
            if found >= population_size:
                break
            elapsed = time.monotonic() - started
            hopeless = weights.acceptance <= 0 or generated >= GIVE_UP_ENTIRELY
            if found == 0 and generated >= GIVE_UP_AFTER and hopeless:
                raise UnreachablePopulationError(_never_met(target, backend, generated))
            if elapsed > timeout:
                raise UnreachablePopulationError(
                    f"Dummy data found only {found:,} of the {population_size:,} patients "
                    f"asked for in {elapsed:.0f} s ({generated:,} generated): the population "
                    "is met by very few generated patients. Ask for fewer with "
                    "configure_dummy_data(population_size=...), allow longer with "
                    "configure_dummy_data(timeout=...), or supply dummy tables with "
                    "--dummy-tables."
                )
    finally:
        backend.disconnect()
    combined = {name: pa.concat_tables([k[name] for k in kept]) for name in tables}
    if renumber:
        combined = _renumber(combined)
    return DummyTables(combined, found, generated, time.monotonic() - started)


def _batch_size(missing: int, acceptance: float, previous: int) -> int:
    """Enough for the patients still missing at the acceptance last seen, growing at most
    eightfold, so a rare population is approached in steps while the weights are learnt."""
    if previous == 0:
        wanted = missing * 1.5  # the first batch assumes most patients will do
    else:
        wanted = min(missing / max(acceptance, 1e-6) * 1.2, previous * 8)
    return int(min(max(wanted + 100, SMALLEST_BATCH), LARGEST_BATCH))


class _Weights:
    """Each knob's level weights, moved towards the levels that meet the population."""

    SMOOTHING = 5.0
    EXPLORE = 0.1
    ENOUGH = 50  # successes before direct rates replace estimates from the conditions

    def __init__(self, generator: TableGenerator) -> None:
        self.knobs = tuple(generator.knobs.values())
        self.prior = {k.name: np.asarray(k.prior, dtype=np.float64) for k in self.knobs}
        self.weights = {name: p / p.sum() for name, p in self.prior.items()}
        self.tried = {name: np.zeros(len(p)) for name, p in self.prior.items()}
        self.met = {name: np.zeros(len(p)) for name, p in self.prior.items()}
        self.acceptance = 1.0
        self.part_met: dict[str, np.ndarray] = {}
        self.total_met = 0

    def sample(self, size: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
        return {
            name: rng.choice(len(w), size=size, p=w) for name, w in sorted(self.weights.items())
        }

    def update(
        self, levels: Mapping[str, np.ndarray], accepted: np.ndarray, parts: list[np.ndarray]
    ) -> None:
        """Learn from a batch: who met the whole population, and who met each condition.

        Until enough patients meet the whole population, a level's chance of meeting it is
        estimated as the product of its chances of meeting each condition, so the search is
        steered even before its first success (and sees when no level can ever succeed).
        """
        for name, chosen in levels.items():
            count = len(self.prior[name])
            self.tried[name] += np.bincount(chosen, minlength=count)
            self.met[name] += np.bincount(chosen[accepted], minlength=count)
            if parts:
                if name not in self.part_met:
                    self.part_met[name] = np.zeros((len(parts), count))
                for index, part in enumerate(parts):
                    self.part_met[name][index] += np.bincount(chosen[part], minlength=count)
        self.total_met += int(accepted.sum())
        for name, prior in self.prior.items():
            steered = prior * self._rate(name)
            if steered.sum() > 0:
                steered = steered / steered.sum()
                mixed = (1 - self.EXPLORE) * steered + self.EXPLORE * prior / prior.sum()
                self.weights[name] = mixed / mixed.sum()
        # The acceptance to expect next, for sizing the next batch: what this batch saw once
        # it saw any, otherwise the estimate under the new weights (0 if no level can succeed).
        expected = [float((self.weights[name] * self._rate(name)).sum()) for name in self.prior]
        seen = float(accepted.mean()) if accepted.any() else 0.0
        self.acceptance = max(seen, min(expected))

    def _rate(self, name: str) -> np.ndarray:
        """Each level's estimated chance of meeting the population, smoothed."""
        tried = self.tried[name]
        if self.total_met >= self.ENOUGH or name not in self.part_met:
            met = self.met[name]
        else:
            met = tried.copy()
            for part in self.part_met.get(name, ()):
                met = met * np.divide(part, tried, out=np.zeros_like(tried), where=tried > 0)
        total = tried.sum()
        overall = met.sum() / total if total else 0.0
        return (met + self.SMOOTHING * overall) / (tried + self.SMOOTHING)


def _load(backend: ibis.BaseBackend, batch: Mapping[str, pa.Table]) -> None:
    for name, table in batch.items():
        backend.con.register(name, table)


def _accepted_ids(search: qm.Dataset, backend: ibis.BaseBackend) -> np.ndarray:
    reader = run_dataset(search, backend)
    ids = reader.read_all().column(PATIENT_ID).to_numpy()
    return np.sort(ids)


def _only(batch: Mapping[str, pa.Table], ids: np.ndarray) -> dict[str, pa.Table]:
    wanted = pa.array(ids, type=pa.int64())
    return {
        name: table.filter(pc.is_in(table.column(PATIENT_ID), value_set=wanted))
        for name, table in batch.items()
    }


def _renumber(tables: Mapping[str, pa.Table]) -> dict[str, pa.Table]:
    ids = np.unique(
        np.concatenate([t.column(PATIENT_ID).to_numpy() for t in tables.values()] or [[]])
    ).astype(np.int64)
    out = {}
    for name, table in tables.items():
        new = np.searchsorted(ids, table.column(PATIENT_ID).to_numpy()) + 1
        index = table.schema.get_field_index(PATIENT_ID)
        out[name] = table.set_column(index, PATIENT_ID, pa.array(new, type=pa.int64()))
    return out


def _conjunct_query(target: qm.Series) -> qm.Dataset | None:
    """One query giving, per patient, whether they meet each part of the population."""
    parts = _conjuncts(target)
    if len(parts) < 2:
        return None
    try:
        either = functools.reduce(lambda a, b: qm.Function(qm.Op.OR, (a, b)), parts)
        variables = tuple((f"part{i}", part) for i, part in enumerate(parts))
        return qm.Dataset(either, variables)
    except qm.QueryModelError:
        return None


def _conjunct_masks(
    query: qm.Dataset | None, patient_ids: np.ndarray, backend: ibis.BaseBackend
) -> list[np.ndarray]:
    if query is None:
        return []
    result = run_dataset(query, backend).read_all()
    ids = result.column(PATIENT_ID).to_numpy()
    masks = []
    for index in range(len(query.variables)):
        met = result.column(f"part{index}").fill_null(False).to_numpy(zero_copy_only=False)
        masks.append(np.isin(patient_ids, ids[met]))
    return masks


def _conjuncts(condition: qm.Series) -> list[qm.Series]:
    if isinstance(condition, qm.Function) and condition.op is qm.Op.AND:
        return [part for arg in condition.args for part in _conjuncts(arg)]
    return [condition]


def _never_met(target: qm.Series, backend: ibis.BaseBackend, generated: int) -> str:
    """Which parts of the population no generated patient met, for the error message."""
    never = []
    for part in _conjuncts(target):
        try:
            met = len(_accepted_ids(qm.Dataset(part, ()), backend))
        except qm.QueryModelError:  # a part that cannot be a population on its own
            continue
        if met == 0:
            never.append(describe(part))
    head = (
        f"Dummy data could not find any patient in the population: none of the {generated:,} "
        "generated patients met "
    )
    if never:
        listed = "\n".join(f"  - {text}" for text in never)
        return head + f"this condition, which may be impossible:\n{listed}"
    return (
        head + "all of its conditions together, although each was met by some. Check the "
        "conditions for contradictions (such as an age both under 40 and over 65):\n"
        + "\n".join(f"  - {describe(part)}" for part in _conjuncts(target))
    )
