"""Backend profiles: safe summaries of real tables, and dummy data that follows them.

The synthetic backend is the benchmark's generator (``benchmarks/synthetic_core.py``): a
realistic core-schema population made independently of the dummy data generator, so agreement
comes from the profile and not from the generator agreeing with itself.

Stated tolerances (also in docs/dummy-data.md): category shares within 3 percentage points,
age band shares within 5, mean events per patient within 25%, the distribution of codes within
a total variation distance of 0.15, the median value within 15%, null fractions within 0.05,
median event date within 2 years.
"""

from __future__ import annotations

import datetime
import json
import sys
from collections import Counter
from pathlib import Path

import ibis
import numpy as np
import pyarrow.compute as pc
import pytest

from fedsafe.disclosure import DisclosurePolicy
from fedsafe.dummy_data import generate_dummy_tables
from fedsafe.dummy_data.profile import (
    MIN_VALUES_FOR_QUANTILES,
    ProfileError,
    compute_profile,
    profile_from_document,
    read_profile,
)
from fedsafe.language import create_dataset
from fedsafe.language.dataset import compile_dataset
from fedsafe.tables import core

sys.path.insert(0, str(Path(__file__).parents[2] / "benchmarks"))
from synthetic_core import write_duckdb

TABLES = {
    name: getattr(core, name)._node
    for name in ("patients", "clinical_events", "medications", "practice_registrations")
}


@pytest.fixture(scope="module")
def backend(tmp_path_factory):
    path = tmp_path_factory.mktemp("backend") / "core.duckdb"
    write_duckdb(path, n_patients=20_000, seed=4)
    connection = ibis.duckdb.connect(str(path), read_only=True)
    yield connection
    connection.disconnect()


@pytest.fixture(scope="module")
def profile(backend):
    return compute_profile(backend.table, TABLES, DisclosurePolicy(), name="synthetic")


@pytest.fixture(scope="module")
def dummy(profile):
    dataset = create_dataset()
    dataset.define_population(core.patients.exists_for_patient())
    dataset.sex = core.patients.sex
    dataset.events = core.clinical_events.count_for_patient()
    return generate_dummy_tables(
        compile_dataset(dataset), population_size=5_000, priors=profile.priors(), seed=1
    ).tables


def _shares(values) -> dict[str, float]:
    counts = Counter(values)
    total = sum(counts.values())
    return {k: v / total for k, v in counts.items()}


def test_profile_round_trips_through_json(profile, tmp_path):
    path = tmp_path / "profile.json"
    path.write_text(profile.to_json())
    assert read_profile(path) == profile


def test_every_count_is_rounded_and_small_ones_never_named(backend, profile):
    policy = DisclosurePolicy()
    events = backend.table("clinical_events")
    real = events.group_by("snomedct_code").aggregate(n=events.count()).execute()
    rare = {str(c) for c, n in zip(real.snomedct_code, real.n, strict=True) if 0 < n <= 7}
    assert rare, "the synthetic data should have rare codes for this test to mean anything"
    released = profile.tables["clinical_events"].columns["snomedct_code"].frequencies
    assert not rare & set(released)
    counts = [profile.tables[t].rows for t in TABLES] + list(released.values())
    counts += list(profile.age_bands.values())
    for table in profile.tables.values():
        counts += list(table.rows_per_patient.values())
    for count in counts:
        # None is suppressed; a true zero describes nobody and is kept, as the policy says.
        assert count in (None, 0) or (count % 5 == 0 and count > policy.suppress_at_or_below)


def test_quantiles_leave_out_the_extremes(backend, profile):
    quantiles = profile.tables["clinical_events"].columns["numeric_value"].quantiles
    values = backend.table("clinical_events").numeric_value
    lowest, highest = values.min().execute(), values.max().execute()
    assert set(quantiles) == {"0.01", "0.05", "0.1", "0.25", "0.5", "0.75", "0.9", "0.95", "0.99"}
    assert lowest < min(quantiles.values()) and max(quantiles.values()) < highest
    dates = profile.tables["clinical_events"].columns["date"].quantiles
    assert all(datetime.date.fromisoformat(d).day == 1 for d in dates.values())


def test_small_tables_publish_no_quantiles(tmp_path):
    connection = ibis.duckdb.connect()
    rows = MIN_VALUES_FOR_QUANTILES - 1
    connection.create_table(
        "clinical_events",
        ibis.memtable(
            {
                "patient_id": list(range(rows)),
                "date": [datetime.date(2020, 1, 1)] * rows,
                "snomedct_code": ["22298006"] * rows,
                "numeric_value": [float(i) for i in range(rows)],
            }
        ),
    )
    found = compute_profile(
        connection.table,
        {"clinical_events": TABLES["clinical_events"]},
        DisclosurePolicy(),
        name="small",
    )
    columns = found.tables["clinical_events"].columns
    assert columns["numeric_value"].quantiles == {} and columns["date"].quantiles == {}


def test_dummy_data_follows_the_profile(backend, profile, dummy):
    real_people = backend.table("patients").execute()
    fake_people = dummy["patients"].to_pandas()
    real_sex, fake_sex = _shares(real_people.sex), _shares(fake_people.sex)
    for sex in ("female", "male"):
        assert abs(real_sex[sex] - fake_sex.get(sex, 0)) <= 0.03, (sex, real_sex, fake_sex)

    reference = datetime.date.fromisoformat(profile.reference_date)
    bands = [(0, 18), (18, 40), (40, 65), (65, 85), (85, 200)]

    def age_shares(births):
        ages = np.array([reference.year - b.year for b in births])
        return [float(((ages >= lo) & (ages < hi)).mean()) for lo, hi in bands]

    for real, fake in zip(
        age_shares(real_people.date_of_birth), age_shares(fake_people.date_of_birth), strict=True
    ):
        assert abs(real - fake) <= 0.05, (age_shares(real_people.date_of_birth), fake)

    real_events = backend.table("clinical_events")
    real_mean = real_events.count().execute() / len(real_people)
    fake_mean = dummy["clinical_events"].num_rows / dummy["patients"].num_rows
    assert abs(fake_mean / real_mean - 1) <= 0.25, (real_mean, fake_mean)

    released = profile.tables["clinical_events"].columns["snomedct_code"].frequencies
    total = sum(released.values())
    fake_codes = _shares(dummy["clinical_events"].column("snomedct_code").to_pylist())
    distance = 0.5 * sum(
        abs(released.get(c, 0) / total - fake_codes.get(c, 0))
        for c in set(released) | set(fake_codes)
    )
    assert distance <= 0.15, distance

    real_values = real_events.numeric_value
    real_median = real_values.median().execute()
    fake_values = dummy["clinical_events"].column("numeric_value")
    fake_median = pc.approximate_median(fake_values).as_py()
    assert abs(fake_median / real_median - 1) <= 0.15, (real_median, fake_median)
    real_nulls = real_values.isnull().mean().execute()
    fake_nulls = fake_values.null_count / len(fake_values)
    assert abs(real_nulls - fake_nulls) <= 0.05

    real_dates = sorted(d.date() for d in real_events.date.execute().dropna())
    real_date_median = real_dates[len(real_dates) // 2]
    fake_dates = sorted(dummy["clinical_events"].column("date").drop_null().to_pylist())
    fake_date_median = fake_dates[len(fake_dates) // 2]
    assert abs((fake_date_median - real_date_median).days) <= 2 * 365


def _document(profile) -> dict:
    return json.loads(profile.to_json())


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda d: d.update(format="other"), "format"),
        (lambda d: d.update(version=2), "version"),
        (lambda d: d.update(extra=1), "key 'extra'"),
        (lambda d: d.pop("deaths"), "key 'deaths'"),
        (lambda d: d.update(reference_date="yesterday"), "reference_date"),
        (lambda d: d.update(deaths=-5), "deaths"),
        (lambda d: d["age_bands"].update({"0-17": "many"}), "age_bands.0-17"),
        (
            lambda d: d["tables"]["patients"]["columns"]["sex"].update(null_fraction=2),
            "tables.patients.columns.sex.null_fraction",
        ),
        (
            lambda d: d["tables"]["clinical_events"]["columns"]["numeric_value"][
                "quantiles"
            ].update({"0.5": "middling"}),
            "quantiles.0.5",
        ),
        (lambda d: d["tables"]["patients"].pop("rows"), "tables.patients"),
    ],
)
def test_bad_profiles_are_refused_by_field(profile, change, expected):
    document = _document(profile)
    change(document)
    with pytest.raises(ProfileError, match=r"profile p\.json") as caught:
        profile_from_document(document, "p.json")
    assert expected in str(caught.value)


def test_unreadable_profile_names_the_line(tmp_path):
    path = tmp_path / "p.json"
    path.write_text('{\n  "format": "fedsafe-backend-profile",\n  oops\n}')
    with pytest.raises(ProfileError, match=r"p.json, line 3: not valid JSON"):
        read_profile(path)
