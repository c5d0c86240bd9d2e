"""What the generator reads from a definition, and how conditions are shown to people."""

from __future__ import annotations

import datetime

import numpy as np
import pytest

from fedsafe.codes import CODE_TYPES, SNOMEDCTCode
from fedsafe.dummy_data.codes import code_pool, random_code
from fedsafe.dummy_data.hints import collect_hints
from fedsafe.dummy_data.settings import DummyDataSettings
from fedsafe.errors import DefinitionError
from fedsafe.language import create_dataset
from fedsafe.language.dataset import compile_dataset
from fedsafe.query_model.describe import describe
from fedsafe.query_model.serialize import to_jsonable
from fedsafe.tables.core import clinical_events, patients


def _definition():
    dataset = create_dataset()
    events = clinical_events.where(
        clinical_events.snomedct_code.is_in(["22298006", "271737000"])
    ).where(clinical_events.date.is_on_or_after("2019-04-01"))
    dataset.define_population(events.exists_for_patient() & (patients.sex == "female"))
    dataset.high = clinical_events.where(clinical_events.numeric_value > 37.5).count_for_patient()
    return compile_dataset(dataset)


def test_hints_group_each_thing_asked_about_by_column():
    hints = collect_hints([_definition()])
    codes = hints.for_column("clinical_events", "snomedct_code")
    assert codes.groups == ((SNOMEDCTCode("22298006"), SNOMEDCTCode("271737000")),)
    assert hints.for_column("patients", "sex").groups == (("female",),)
    assert hints.for_column("clinical_events", "numeric_value").values == (37.5,)
    assert hints.dates == (datetime.date(2019, 4, 1),)
    assert hints.for_column("medications", "dmd_code").groups == ()


def test_describe_reads_like_the_definition():
    dataset = _definition()
    text = describe(dataset.population)
    assert "clinical_events.where(" in text
    assert "clinical_events.snomedct_code.is_in(['22298006', '271737000'])" in text
    assert '(clinical_events.date >= "2019-04-01")' in text
    assert "(patients.sex == 'female')" in text
    assert text.count(".exists_for_patient()") == 1


@pytest.mark.parametrize("system", sorted(CODE_TYPES))
def test_random_codes_are_valid_for_their_system(system):
    rng = np.random.default_rng(0)
    code_type = CODE_TYPES[system]
    codes = [random_code(code_type, rng) for _ in range(300)]
    assert all(code_type.is_valid(c) for c in codes), [
        c for c in codes if not code_type.is_valid(c)
    ][:3]
    assert len(set(codes)) > 100


def test_code_pool_avoids_the_codes_a_study_asks_for():
    rng = np.random.default_rng(1)
    first = code_pool(SNOMEDCTCode, rng, 50, frozenset())
    pool = code_pool(SNOMEDCTCode, np.random.default_rng(1), 50, frozenset(first[:10]))
    assert not set(pool) & set(first[:10])
    assert len(set(pool)) == 50


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ({"population_size": 0}, "population_size=0"),
        ({"population_size": True}, "population_size=True"),
        ({"population_size": "10"}, "population_size='10'"),
        ({"population_size": 10**9}, "at most 10,000,000"),
        ({"timeout": -1}, "timeout=-1"),
        ({"timeout": "soon"}, "timeout='soon'"),
        ({"additional_population_constraint": {"format": "other"}}, "not a fedsafe query model"),
    ],
)
def test_bad_dummy_data_settings_are_refused(config, expected):
    with pytest.raises(DefinitionError, match=expected.replace("(", r"\(")):
        DummyDataSettings.from_config(config)


def test_settings_read_back_a_constraint():
    constraint = (patients.sex == "male")._node
    settings = DummyDataSettings.from_config(
        {
            "population_size": 5,
            "timeout": 3,
            "additional_population_constraint": to_jsonable(constraint),
        }
    )
    assert settings == DummyDataSettings(5, 3.0, constraint)


def test_a_non_boolean_constraint_is_refused():
    with pytest.raises(DefinitionError, match="boolean series"):
        DummyDataSettings.from_config(
            {"additional_population_constraint": to_jsonable(patients.sex._node)}
        )
