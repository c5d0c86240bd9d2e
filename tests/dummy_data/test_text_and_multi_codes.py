"""Dummy text follows a column's documented pattern; multi-code strings hold valid codes."""

from __future__ import annotations

import re

import numpy as np
import pytest

from fedsafe.codes import ICD10Code, ICD10MultiCodeString, OPCS4Code, OPCS4MultiCodeString
from fedsafe.dummy_data.codes import as_multi_code_string, random_code
from fedsafe.dummy_data.text import can_sample, sample

PATTERNS = [
    "E020[0-9]{5}",
    "E540000[0-9]{2}",
    "[a-zA-Z]{2}[0-9]{2}[a-zA-Z]",
    "[a-zA-Z0-9]{3}",
    "[A-C]{1,3}x",
]


@pytest.mark.parametrize("pattern", PATTERNS)
def test_sampled_text_matches_the_pattern(pattern):
    rng = np.random.default_rng(1)
    assert can_sample(pattern)
    values = sample(pattern, 200, rng)
    assert len(values) == 200
    assert all(re.fullmatch(pattern, v) for v in values)
    assert len(set(values)) > 1


@pytest.mark.parametrize("pattern", ["a+", "(ab)", "[0-9]*", "x|y"])
def test_patterns_beyond_the_simple_form_are_not_sampled(pattern):
    assert not can_sample(pattern)


@pytest.mark.parametrize(
    ("multi", "single"),
    [(ICD10MultiCodeString, ICD10Code), (OPCS4MultiCodeString, OPCS4Code)],
)
def test_multi_code_strings_are_valid_and_hold_valid_codes(multi, single):
    rng = np.random.default_rng(2)
    for _ in range(100):
        value = multi(random_code(multi, rng))
        assert value.value.startswith("||")
        assert value.codes() and all(single.is_valid(c) for c in value.codes())


def test_a_searched_code_is_held_among_others():
    rng = np.random.default_rng(3)
    values = [as_multi_code_string("N17", ICD10MultiCodeString, rng) for _ in range(50)]
    assert all("N17" in v and ICD10MultiCodeString.is_valid(v) for v in values)
    assert all(len(ICD10MultiCodeString(v).codes()) >= 2 for v in values)


def test_multi_code_string_rejects_characters_no_code_has():
    assert ICD10MultiCodeString.find_problem("||E119 ,J849 ||I801") is None
    assert "without dots" in ICD10MultiCodeString.find_problem("||E11.9")


def test_dates_of_tpp_periods_are_in_order_and_inside_each_life():
    """Addresses are left after they are moved into; spells end after they start; wait list
    clocks stop after they start; and no date falls before birth or after death."""
    import datetime

    from fedsafe import create_dataset
    from fedsafe.dummy_data import generate_dummy_tables
    from fedsafe.dummy_data.roles import DATE_ORDER
    from fedsafe.language.dataset import compile_dataset
    from fedsafe.tables import tpp

    dataset = create_dataset()
    dataset.define_population(tpp.patients.exists_for_patient())
    dataset.a = tpp.addresses.count_for_patient()
    dataset.b = tpp.apcs.count_for_patient()
    dataset.c = tpp.wl_clockstops.count_for_patient()
    dataset.d = tpp.appointments.count_for_patient()
    made = generate_dummy_tables(compile_dataset(dataset), population_size=200, seed=5)
    patients = made.tables["patients"].to_pylist()
    born = {p["patient_id"]: p["date_of_birth"] for p in patients}
    died = {p["patient_id"]: p["date_of_death"] for p in patients}
    checked = 0
    for name in ("addresses", "apcs", "wl_clockstops", "appointments"):
        for row in made.tables[name].to_pylist():
            for group in DATE_ORDER[name]:
                dates = [row[c] for c in group if row[c] is not None]
                assert dates == sorted(dates), (name, row)
                checked += len(dates) > 1
            for value in row.values():
                if isinstance(value, datetime.date):
                    assert value >= born[row["patient_id"]]
                    if died[row["patient_id"]] is not None:
                        assert value <= died[row["patient_id"]] + datetime.timedelta(days=0)
    assert checked > 100
