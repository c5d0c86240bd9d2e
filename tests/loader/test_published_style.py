"""Idioms of published ehrQL studies that the loader must accept, and permission claims."""

from __future__ import annotations

import json
from pathlib import Path
from textwrap import dedent

import pytest

from fedsafe.loader import DefinitionLoadError, load_dataset_definition
from fedsafe.loader.load import _parse_reply
from fedsafe.loader.protocol import PROTOCOL
from fedsafe.query_model import nodes

OLDER_STUDY = dedent(
    """\
    from ehrql import case, claim_permissions, create_dataset, days, minimum_of, when
    from ehrql.tables.beta.tpp import appointments, patients, wl_clockstops

    claim_permissions("appointments")
    dataset = create_dataset()
    stops = wl_clockstops.where(wl_clockstops.waiting_list_type.is_in(["IRTT", "ORTT"]))
    last = stops.sort_by(stops.referral_to_treatment_period_start_date).last_for_patient()
    dataset.rtt_start_date = last.referral_to_treatment_period_start_date
    dataset.end_date = minimum_of(patients.date_of_death, dataset.rtt_start_date + days(182))
    dataset.pathways = stops.pseudo_referral_identifier.count_distinct_for_patient()
    dataset.age_group = case(
        when(patients.age_on(dataset.rtt_start_date) < 40).then("18-39"),
        default="40+",
    )
    dataset.visits = appointments.count_for_patient()
    dataset.define_population(last.exists_for_patient())
    """
)


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "analysis" / "dataset_definition.py"
    path.parent.mkdir(parents=True)
    path.write_text(text)
    return path


def test_an_older_study_using_beta_schemas_and_default_loads(tmp_path):
    loaded = load_dataset_definition(_write(tmp_path, OLDER_STUDY), project_dir=tmp_path)
    assert set(nodes.tables_used(loaded.dataset)) == {"appointments", "patients", "wl_clockstops"}
    assert loaded.claimed_permissions == ("appointments",)
    cases = [n for n in nodes.walk(loaded.dataset) if isinstance(n, nodes.Case)]
    assert any(isinstance(c.default, nodes.Value) and c.default.value == "40+" for c in cases)


def test_unknown_permission_fails_at_its_line(tmp_path):
    text = OLDER_STUDY.replace(
        'claim_permissions("appointments")', 'claim_permissions("apointment")'
    )
    with pytest.raises(DefinitionLoadError) as info:
        load_dataset_definition(_write(tmp_path, text), project_dir=tmp_path)
    message = str(info.value)
    assert message.startswith("analysis/dataset_definition.py, line 4: 'apointment' is not a")
    assert "'appointments'" in message


def test_a_reply_claiming_an_unknown_permission_is_refused(tmp_path):
    """The trusted side checks the claims it is sent, whatever the child process says."""
    ok = load_dataset_definition(_write(tmp_path, OLDER_STUDY), project_dir=tmp_path)
    from fedsafe.query_model import serialize

    forged = {
        "protocol": PROTOCOL,
        "ok": True,
        "dataset": serialize.dumps(ok.dataset),
        "dummy_data_config": {},
        "claimed_permissions": ["everything"],
    }
    with pytest.raises(DefinitionLoadError, match="'everything' is not a permission"):
        _parse_reply(json.dumps(forged).encode(), ok.definition_path, tmp_path, "d.py")


def test_both_otherwise_and_default_is_an_error():
    from fedsafe import case, when
    from fedsafe.tables.core import patients

    with pytest.raises(TypeError, match="not both"):
        case(when(patients.sex == "male").then(1), otherwise=2, default=3)


def test_one_table_from_two_schemas_is_a_clear_error(tmp_path):
    text = dedent(
        """\
        from ehrql import create_dataset
        from ehrql.tables.core import clinical_events as core_events
        from ehrql.tables.tpp import clinical_events, patients

        dataset = create_dataset()
        dataset.define_population(patients.exists_for_patient())
        dataset.a = core_events.count_for_patient()
        dataset.b = clinical_events.count_for_patient()
        """
    )
    with pytest.raises(DefinitionLoadError) as info:
        load_dataset_definition(_write(tmp_path, text), project_dir=tmp_path)
    message = str(info.value)
    assert message.startswith("analysis/dataset_definition.py: table 'clinical_events' is")
    assert "take each table from one schema" in message
