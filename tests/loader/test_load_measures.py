"""Loading measures definitions: the reply from the sandboxed process is checked before it is
trusted, whatever the definition did to it."""

from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import Any

import pytest

from fedsafe.loader import DefinitionLoadError, load_measures_definition
from fedsafe.loader.load import _parse_measures_reply
from fedsafe.query_model import nodes as qm
from fedsafe.query_model.serialize import dumps
from spec.tables import p

MEASURES = qm.Measures(
    (
        qm.Measure(
            "m",
            p.b1._node,
            p.exists_for_patient()._node,
            (),
            ((datetime.date(2020, 1, 1), datetime.date(2020, 1, 31)),),
        ),
    )
)
CONFIG = {"dummy_data": {"population_size": 5}, "disclosure_control": {"enabled": True}}


def _reply(**changes: Any) -> bytes:
    reply = {"protocol": 1, "ok": True, "measures": dumps(MEASURES), "measures_config": CONFIG}
    reply.update(changes)
    return json.dumps(reply).encode()


def _parse(raw: bytes, tmp_path: Path) -> Any:
    return _parse_measures_reply(raw, tmp_path / "m.py", tmp_path, "m.py")


def test_a_good_reply_loads(tmp_path: Path) -> None:
    loaded = _parse(_reply(), tmp_path)
    assert loaded.measures == MEASURES
    assert loaded.config == CONFIG


@pytest.mark.parametrize(
    "changes",
    [
        {"measures": 5},
        {"measures_config": None},
        {"measures_config": {"dummy_data": {}}},
        {"measures_config": {"dummy_data": [], "disclosure_control": {"enabled": True}}},
        {"measures_config": {"dummy_data": {}, "disclosure_control": {"enabled": "no"}}},
        {"measures_config": {"dummy_data": {}, "disclosure_control": {}}},
    ],
    ids=["measures", "no config", "no disclosure", "dummy list", "enabled text", "no enabled"],
)
def test_a_malformed_reply_is_refused(changes: dict[str, Any], tmp_path: Path) -> None:
    with pytest.raises(DefinitionLoadError, match="not a valid reply"):
        _parse(_reply(**changes), tmp_path)


def test_a_dataset_in_place_of_measures_is_refused(tmp_path: Path) -> None:
    dataset = qm.Dataset(p.exists_for_patient()._node, ())
    with pytest.raises(DefinitionLoadError, match="did not produce measures"):
        _parse(_reply(measures=dumps(dataset)), tmp_path)


def test_forged_measures_are_validated(tmp_path: Path) -> None:
    document = json.loads(dumps(MEASURES))
    record = next(r for r in document["nodes"] if r["node"] == "Measure")
    record["intervals"] = []
    with pytest.raises(DefinitionLoadError, match="has no intervals"):
        _parse(_reply(measures=json.dumps(document)), tmp_path)


def test_a_measures_definition_runs_in_the_sandbox(tmp_path: Path) -> None:
    definition = tmp_path / "measures.py"
    definition.write_text(
        "from ehrql import INTERVAL, Measures, weeks\n"
        "from ehrql.tables.core import clinical_events as e, patients\n"
        "measures = Measures()\n"
        "measures.configure_disclosure_control(enabled=False)\n"
        "measures.define_measure('m', numerator=e.where(e.date.is_during(INTERVAL))"
        ".exists_for_patient(), denominator=patients.exists_for_patient(), "
        "intervals=weeks(2).ending_on('2020-01-14'))\n"
    )
    loaded = load_measures_definition(definition, project_dir=tmp_path)
    (measure,) = loaded.measures.measures
    assert measure.intervals == (
        (datetime.date(2020, 1, 1), datetime.date(2020, 1, 7)),
        (datetime.date(2020, 1, 8), datetime.date(2020, 1, 14)),
    )
    assert loaded.config["disclosure_control"] == {"enabled": False}
    assert loaded.config["dummy_data"]["population_size"] == 1000


def test_a_dataset_definition_is_not_a_measures_definition(tmp_path: Path) -> None:
    definition = tmp_path / "dataset.py"
    definition.write_text(
        "from ehrql import create_dataset\nfrom ehrql.tables.core import patients\n"
        "dataset = create_dataset()\ndataset.define_population(patients.exists_for_patient())\n"
    )
    with pytest.raises(DefinitionLoadError, match="no variable named `measures`"):
        load_measures_definition(definition, project_dir=tmp_path)
