"""The estimates file format: what is accepted, and errors that name file, line and column."""

from __future__ import annotations

from pathlib import Path

import pytest

from fedsafe.errors import FedsafeError
from fedsafe.federation import EstimatesFileError, read_estimates
from fedsafe.federation.estimates import EffectRow, ProportionRow


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "estimates.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_effects_file(tmp_path: Path) -> None:
    parsed = read_estimates(_write(tmp_path, "term,estimate,std_error\nage,0.5,0.1\nsex,,\n"))
    assert parsed.kind == "effects"
    assert parsed.rows == (EffectRow("age", 0.5, 0.1, 2), EffectRow("sex", None, None, 3))


def test_proportions_file_in_any_column_order(tmp_path: Path) -> None:
    parsed = read_estimates(_write(tmp_path, "total,events,term\n100,20,flu\n"))
    assert parsed.kind == "proportions"
    assert parsed.rows == (ProportionRow("flu", 20, 100, 2),)


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("", "estimates.csv: empty file"),
        ("term,estimate\nage,1\n", "line 1: the columns are term, estimate"),
        ("term,estimate,std_error\n", "no rows"),
        ("term,estimate,std_error\nage,1\n", "line 2: 2 fields"),
        ("term,estimate,std_error\n,1,1\n", "line 2, column 'term'"),
        (
            "term,estimate,std_error\na,1,1\na,2,1\n",
            "line 3, column 'term': 'a' is already on line 2",
        ),
        ("term,estimate,std_error\na,x,1\n", "line 2, column 'estimate': expected a finite number"),
        ("term,estimate,std_error\na,inf,1\n", "line 2, column 'estimate'"),
        ("term,estimate,std_error\na,1,0\n", "line 2, column 'std_error': a standard error must"),
        ("term,estimate,std_error\na,1,-2\n", "line 2, column 'std_error'"),
        ("term,estimate,std_error\na\n\nb,1,\n", "line 2: 1 fields"),
        ("term,estimate,std_error\n\nb,1,\n", "line 3, column 'std_error': empty while 'estimate'"),
        ("term,events,total\na,5,0\n", "line 2, column 'total': the total must be greater"),
        ("term,events,total\na,6,5\n", "line 2, column 'events': 6 events is more"),
        ("term,events,total\na,2.5,5\n", "line 2, column 'events': expected a whole number"),
        ("term,events,total\na,<8,50\n", "line 2, column 'events'"),
    ],
)
def test_bad_files_name_the_place(tmp_path: Path, text: str, where: str) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(EstimatesFileError) as caught:
        read_estimates(path)
    assert str(path) in str(caught.value)
    assert where in str(caught.value)
    assert isinstance(caught.value, FedsafeError)


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "e.csv"
    path.write_bytes(b"term,estimate,std_error\n\xff,1,1\n")
    with pytest.raises(EstimatesFileError, match="cannot read as UTF-8"):
        read_estimates(path)
