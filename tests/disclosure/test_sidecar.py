"""Sidecar files: written atomically from a record, read back, malformed ones refused."""

import json

import pytest

from fedsafe.disclosure import OutputFileError, read_sidecar, sidecar_path, write_sidecar


def test_round_trip(tmp_path):
    output = tmp_path / "counts.csv"
    record = {
        "columns": {"n": "count", "group": "label"},
        "rules_applied": [{"rule": "rounding", "columns": ["n"], "method": "nearest", "base": 5}],
    }
    path = write_sidecar(output, record)
    assert path == tmp_path / "counts.csv.disclosure.json" == sidecar_path(output)
    sidecar = read_sidecar(output)
    assert sidecar is not None
    assert sidecar.columns == {"n": "count", "group": "label"}
    assert sidecar.rules_for("n")["rounding"]["base"] == 5
    assert read_sidecar(tmp_path / "other.csv") is None


BAD = [
    ("[1, 2]", "expected a JSON object, got list"),
    ('{"columns": {"n": "count"}, "colour": 1}', "unknown key 'colour'; known keys are"),
    ('{"columns": {"n": "number"}}', "column 'n' has kind 'number'; expected one of count"),
    ('{"columns": {}}', "'columns' must be an object"),
    ('{"fedsafe_disclosure": 2, "columns": {"n": "count"}}', "fedsafe_disclosure must be 1"),
    ('{"columns": {"n": "count"}, "rules_applied": [{"rule": "magic"}]}', "rules_applied[0]"),
    (
        '{"columns": {"n": "count"}, "rules_applied": [{"rule": "rounding", "columns": ["m"]}]}',
        "'columns' must list columns named in 'columns'",
    ),
    ("{not json", "not valid JSON"),
]


@pytest.mark.parametrize(("text", "expected"), BAD)
def test_malformed_sidecars_are_refused_naming_the_file(tmp_path, text, expected):
    (tmp_path / "t.csv.disclosure.json").write_text(text)
    with pytest.raises(OutputFileError) as caught:
        read_sidecar(tmp_path / "t.csv")
    assert str(tmp_path / "t.csv.disclosure.json") in str(caught.value)
    assert expected in str(caught.value)


def test_invalid_record_writes_nothing(tmp_path):
    with pytest.raises(OutputFileError):
        write_sidecar(tmp_path / "t.csv", {"columns": {"n": "weird"}})
    assert list(tmp_path.iterdir()) == []


def test_written_sidecar_is_json_with_version(tmp_path):
    write_sidecar(tmp_path / "t.csv", {"columns": {"n": "count"}})
    assert json.loads((tmp_path / "t.csv.disclosure.json").read_text())["fedsafe_disclosure"] == 1
