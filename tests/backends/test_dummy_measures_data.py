"""Dummy data for measures: the size asked for, values within each column's declared
categories, dates around the intervals, codes only from the measures' codelists, the same every
run."""

from __future__ import annotations

import datetime

from fedsafe.backends.dummy_measures_data import dummy_measures_backend
from fedsafe.codes import DMDCode
from fedsafe.language import INTERVAL, create_measures, months
from fedsafe.language.measures import compile_measures, measures_config
from fedsafe.query_model.schema import Constraint
from fedsafe.tables.core import medications, patients

CODES = ["39733211000001101", "39695411000001103"]


def _measures(population_size: int | None = None):
    measures = create_measures()
    rx = medications.where(medications.date.is_during(INTERVAL))
    measures.define_measure(
        "m",
        numerator=rx.where(medications.dmd_code.is_in(CODES)).exists_for_patient(),
        denominator=patients.exists_for_patient(),
        group_by={"sex": patients.sex},
        intervals=months(3).starting_on("2022-01-01"),
    )
    if population_size is not None:
        measures.configure_dummy_data(population_size=population_size)
    return measures


def test_the_default_size_is_a_thousand_and_a_configured_size_is_used() -> None:
    assert measures_config(_measures())["dummy_data"]["population_size"] == 1000
    measures = _measures(population_size=50)
    size = measures_config(measures)["dummy_data"]["population_size"]
    backend = dummy_measures_backend(compile_measures(measures), population_size=size)
    rows = backend.table("patients").to_pyarrow().to_pylist()
    assert sorted(r["patient_id"] for r in rows) == list(range(1, 51))


def test_values_follow_the_schema_and_the_measures() -> None:
    node = compile_measures(_measures())
    backend = dummy_measures_backend(node, population_size=200)
    categories = patients._node.schema.get_column("sex").get_constraint(Constraint.Categorical)
    sexes = set(categories.values)
    people = backend.table("patients").to_pyarrow().to_pylist()
    assert {r["sex"] for r in people} <= sexes
    events = backend.table("medications").to_pyarrow().to_pylist()
    assert events, "some prescriptions are made"
    dated = [r["date"] for r in events if r["date"] is not None]
    assert min(dated) >= datetime.date(2021, 1, 1)
    assert max(dated) <= datetime.date(2022, 3, 31)
    codes = {r["dmd_code"] for r in events if r["dmd_code"] is not None}
    assert codes <= set(CODES)
    assert codes == set(CODES)  # both codes turn up among 200 patients' prescriptions
    DMDCode(next(iter(codes)))  # and they are valid codes of the column's type


def test_the_same_data_every_run() -> None:
    node = compile_measures(_measures())
    first = dummy_measures_backend(node, population_size=100).table("medications").to_pyarrow()
    second = dummy_measures_backend(node, population_size=100).table("medications").to_pyarrow()
    assert first.equals(second)
