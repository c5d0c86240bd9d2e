"""Dummy data reaches exactly the population asked for, keeps the schema's rules, and repeats."""

from __future__ import annotations

import datetime

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from dummy_data.conftest import INDEX_DATE, diabetes_codes
from fedsafe.codes import CODE_TYPES, DMDCode, ICD10Code, SNOMEDCTCode
from fedsafe.dummy_data import (
    UnreachablePopulationError,
    generate_dummy_dataset,
    generate_dummy_tables,
)
from fedsafe.dummy_data.dataset import run_on_tables
from fedsafe.language import create_dataset
from fedsafe.language.dataset import compile_dataset
from fedsafe.language.frames import PatientFrame, Series
from fedsafe.tables import table_from_rows
from fedsafe.tables.core import SEXES, clinical_events, patients, practice_registrations

INDEX = datetime.date.fromisoformat(INDEX_DATE)


@pytest.mark.parametrize("size", [1, 10, 1_000, 5_000])
def test_exactly_the_population_size_asked_for(cohort, size):
    result, tables = generate_dummy_dataset(cohort, population_size=size, seed=3)
    assert result.num_rows == size
    assert tables.population_size == size
    assert result.column("patient_id").to_pylist() == list(range(1, size + 1))
    ages = result.column("age").to_numpy()
    assert ((ages >= 18) & (ages <= 100)).all()


def test_same_seed_same_data_and_another_seed_other_data(cohort):
    first = generate_dummy_tables(cohort, population_size=300, seed=11).tables
    again = generate_dummy_tables(cohort, population_size=300, seed=11).tables
    other = generate_dummy_tables(cohort, population_size=300, seed=12).tables
    assert first.keys() == again.keys()
    for name in first:
        assert first[name].equals(again[name]), name
    assert not all(first[name].equals(other[name]) for name in first)


@pytest.fixture(scope="module")
def tables(cohort):
    return generate_dummy_tables(cohort, population_size=3_000, seed=5).tables


def _by_patient(table: pa.Table, column: str) -> dict[int, object]:
    return dict(zip(table.column("patient_id").to_pylist(), table.column(column).to_pylist()))


def test_no_event_before_birth_or_after_death(tables):
    births = _by_patient(tables["patients"], "date_of_birth")
    ons = _by_patient(tables["ons_deaths"], "date")
    primary = _by_patient(tables["patients"], "date_of_death")
    for name, column in [
        ("clinical_events", "date"),
        ("medications", "date"),
        ("practice_registrations", "start_date"),
    ]:
        table = tables[name]
        for patient, day in zip(
            table.column("patient_id").to_pylist(), table.column(column).to_pylist()
        ):
            if day is None:
                continue
            assert day >= births[patient], (name, patient, day)
            death = ons.get(patient) or primary.get(patient)
            assert death is None or day <= death, (name, patient, day, death)


def test_deaths_agree_between_sources_and_follow_birth(tables):
    births = _by_patient(tables["patients"], "date_of_birth")
    primary = _by_patient(tables["patients"], "date_of_death")
    for patient, day in _by_patient(tables["ons_deaths"], "date").items():
        assert day >= births[patient]
        assert primary[patient] in (None, day)


def test_schema_rules_hold(tables):
    people = tables["patients"]
    assert set(people.column("sex").to_pylist()) <= set(SEXES)
    assert people.column("date_of_birth").null_count == 0
    assert all(d.day == 1 for d in people.column("date_of_birth").to_pylist())
    assert len(set(people.column("patient_id").to_pylist())) == people.num_rows
    registrations = tables["practice_registrations"]
    for start, end in zip(
        registrations.column("start_date").to_pylist(),
        registrations.column("end_date").to_pylist(),
    ):
        assert start is not None
        assert end is None or end >= start
    for name, column, code_type in [
        ("clinical_events", "snomedct_code", SNOMEDCTCode),
        ("medications", "dmd_code", DMDCode),
        ("ons_deaths", "underlying_cause_of_death", ICD10Code),
    ]:
        codes = set(tables[name].column(column).drop_null().to_pylist())
        assert codes
        bad = [c for c in codes if not code_type.is_valid(c)]
        assert not bad, (name, bad[:5])
    assert set(CODE_TYPES)  # every code type has a generator: see test_codes.py


def test_codelist_codes_appear_in_realistic_proportions(cohort):
    result, tables = generate_dummy_dataset(cohort, population_size=2_000, seed=2)
    wanted = {str(c) for c in diabetes_codes().codes}
    events = tables.tables["clinical_events"]
    hits = pc.is_in(events.column("snomedct_code"), pa.array(sorted(wanted)))
    assert 0 < pc.sum(hits).as_py() < events.num_rows / 2
    share = pc.mean(result.column("has_diabetes").cast(pa.int8())).as_py()
    assert 0.05 < share < 0.8
    dated = 1 - result.column("diabetes_date").null_count / result.num_rows
    assert 0.05 < dated < 0.8
    assert pc.max(result.column("nsaids")).as_py() > 0


def test_rare_population_is_reached():
    dataset = create_dataset()
    age = patients.age_on(INDEX_DATE)
    events = clinical_events.where(clinical_events.snomedct_code.is_in(diabetes_codes()))
    dataset.define_population(
        (age >= 95)
        & (events.count_for_patient() >= 5)
        & patients.is_dead_on("2021-01-01")
        & (patients.sex == "intersex")
    )
    dataset.n = events.count_for_patient()
    dataset.sex = patients.sex
    result, tables = generate_dummy_dataset(compile_dataset(dataset), population_size=200)
    assert result.num_rows == 200
    assert set(result.column("sex").to_pylist()) == {"intersex"}
    assert min(result.column("n").to_pylist()) >= 5
    # Far more patients than found were generated: the population is rare by design.
    assert tables.generated > 1_000


def test_contradictory_population_names_its_conditions():
    dataset = create_dataset()
    age = patients.age_on(INDEX_DATE)
    dataset.define_population((age < 40) & (age > 65))
    with pytest.raises(UnreachablePopulationError) as caught:
        generate_dummy_tables(compile_dataset(dataset), population_size=10)
    message = str(caught.value)
    assert "all of its conditions together" in message
    assert "patients.date_of_birth).years < 40" in message
    assert "patients.date_of_birth).years > 65" in message


def test_condition_never_met_is_named_alone():
    dataset = create_dataset()
    registered = practice_registrations.exists_for_patient()
    dataset.define_population(registered & patients.date_of_birth.is_after("2300-01-01"))
    with pytest.raises(UnreachablePopulationError) as caught:
        generate_dummy_tables(compile_dataset(dataset), population_size=10)
    message = str(caught.value)
    assert '(patients.date_of_birth > "2300-01-01")' in message
    assert "practice_registrations.exists_for_patient()" not in message


def test_running_out_of_time_says_how_many_were_found():
    dataset = create_dataset()
    age = patients.age_on(INDEX_DATE)
    dataset.define_population((age >= 95) & (patients.sex == "intersex"))
    with pytest.raises(UnreachablePopulationError, match=r"found only [\d,]+ of the 1,000,000"):
        generate_dummy_tables(compile_dataset(dataset), population_size=1_000_000, timeout=0.01)


def test_additional_population_constraint_is_kept(cohort):
    constraint = patients.sex == "male"
    result, _ = generate_dummy_dataset(
        cohort,
        population_size=100,
        additional_population_constraint=constraint._node,
    )
    assert set(result.column("sex").to_pylist()) == {"male"}


def test_inline_tables_keep_their_patient_ids():
    class extra(PatientFrame):
        score = Series(int)

    rows = table_from_rows([(i, i * 10) for i in range(1, 5001)])(extra)
    dataset = create_dataset()
    dataset.define_population(patients.exists_for_patient() & rows.exists_for_patient())
    dataset.score = rows.score
    result, _ = generate_dummy_dataset(compile_dataset(dataset), population_size=50)
    assert result.num_rows == 50
    ids = np.asarray(result.column("patient_id").to_pylist())
    assert (np.asarray(result.column("score").to_pylist()) == ids * 10).all()


def test_tables_give_the_same_dataset_when_run_again(cohort):
    result, tables = generate_dummy_dataset(cohort, population_size=500, seed=9)
    assert run_on_tables(cohort, tables.tables).equals(result)
