"""``fedsafe cohort``: safe answers on stdout, raw counts only in the audit log, bad input named."""

from __future__ import annotations

import json
from pathlib import Path

import ibis
import pytest
from typer.testing import CliRunner

from cohort.rows import DIABETES, REF, age_on, population
from fedsafe.cli.main import app
from fedsafe.cohort.policy import CohortCountPolicy

PEOPLE, EVENTS, MEDS = population(n=500, seed=5)


@pytest.fixture(scope="module")
def database(tmp_path_factory) -> Path:
    from cohort.rows import connect

    path = tmp_path_factory.mktemp("backend") / "backend.duckdb"
    memory = connect(PEOPLE, EVENTS, MEDS)
    con = ibis.duckdb.connect(str(path))
    for name in ("patients", "clinical_events", "medications"):
        con.create_table(name, memory.table(name).to_pyarrow())
    con.disconnect()
    return path


QUERY = {
    "cohort": {
        "groups": [
            {
                "rules": [
                    {"varname": "SNOMEDCT", "varcat": "Condition", "type": "TEXT", "oper": "=",
                     "value": DIABETES},
                    {"varname": "AGE", "varcat": "Person", "type": "NUM", "oper": "=",
                     "value": "40|"},
                ]
            }
        ]
    },
    "uuid": "q-1",
    "collection": "RQ-1",
}  # fmt: skip


def _count(args, tmp_path, document=QUERY):
    path = tmp_path / "query.json"
    path.write_text(json.dumps(document) if not isinstance(document, str) else document)
    return CliRunner().invoke(app, ["cohort", "count", str(path), *args])


def test_count_on_a_database(database, tmp_path):
    audit = tmp_path / "audit.jsonl"
    raw = sum(
        1
        for p in PEOPLE
        if any(e.patient_id == p.patient_id and e.code == DIABETES for e in EVENTS)
        and (age_on(p, REF) or -1) >= 40
    )
    args = ["--dsn", f"duckdb:///{database}", "--audit-log", str(audit)]
    result = _count([*args, "--reference-date", REF.isoformat()], tmp_path)
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    assert answer["status"] == "ok" and answer["uuid"] == "q-1"
    assert answer["queryResult"]["count"] == CohortCountPolicy().safe(raw)
    (record,) = [json.loads(line) for line in audit.read_text().splitlines()]
    assert record["raw_count"] == raw
    assert str(raw) not in result.stdout or raw == answer["queryResult"]["count"]


def test_count_on_dummy_data(tmp_path):
    result = _count(["--population-size", "50"], tmp_path)
    assert result.exit_code == 0, result.output
    count = json.loads(result.stdout)["queryResult"]["count"]
    assert count == 0 or (count >= 10 and count % 10 == 0)


@pytest.mark.parametrize(
    ("document", "args", "message"),
    [
        ("{", [], "not valid JSON"),
        ({"cohort": {"groups": []}}, [], "$.cohort.groups: expected a non-empty list"),
        (
            {"cohort": {"groups": [{"rules": [{"varname": "OMOP", "varcat": "Condition",
                                               "type": "TEXT", "oper": "=", "value": "201826"}]}]}},
            [],
            "$.cohort.groups[0].rules[0].codes[0]: OMOP concept id 201826 needs",
        ),
        ({"groups": [{"rules": [{"domain": "drug", "codes": ["dmd:1"]}]}]}, [],
         "$.groups[0].rules[0].codes[0]"),
        (QUERY, ["--reference-date", "yesterday"], "--reference-date 'yesterday'"),
        (QUERY, ["--format", "xml"], "expected one of rquest, fedsafe"),
        (QUERY, ["--dsn", "duckdb:///no/such.duckdb"], "does not exist"),
        (QUERY, ["--threshold", "0"], "policy.threshold"),
    ],
)  # fmt: skip
def test_bad_input_is_named_and_writes_nothing(tmp_path, document, args, message):
    audit = tmp_path / "audit.jsonl"
    result = _count([*args, "--audit-log", str(audit)], tmp_path, document)
    assert result.exit_code == 2, result.output
    assert message in " ".join(result.output.split())
    assert not audit.exists()


def test_missing_query_file(tmp_path):
    result = CliRunner().invoke(app, ["cohort", "count", str(tmp_path / "nope.json")])
    assert result.exit_code == 2 and "does not exist" in result.output


def test_distribution_codes_on_a_database(database, tmp_path):
    audit = tmp_path / "audit.jsonl"
    result = CliRunner().invoke(
        app,
        ["cohort", "distribution", "codes", "--dsn", f"duckdb:///{database}",
         "--audit-log", str(audit)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    files = json.loads(result.stdout)["queryResult"]["files"]
    assert files[0]["file_name"] == "code.distribution"


def test_distribution_unknown_kind(tmp_path):
    result = CliRunner().invoke(app, ["cohort", "distribution", "visits"])
    assert (
        result.exit_code == 2 and "$.code: expected one of GENERIC, DEMOGRAPHICS" in result.output
    )
