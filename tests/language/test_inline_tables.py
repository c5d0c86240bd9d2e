"""table_from_rows/table_from_file: values converted by column type, bad input named."""

import datetime
from pathlib import Path

import pytest

from fedsafe import create_dataset
from fedsafe.language import PatientFrame, Series
from fedsafe.language.dataset import compile_dataset
from fedsafe.query_model import nodes as qm
from fedsafe.query_model.serialize import dumps, loads
from fedsafe.tables import table_from_file, table_from_rows


class Cohort(PatientFrame):
    start = Series(datetime.date)
    group = Series(str)


def test_rows_are_converted_and_round_trip():
    frame = table_from_rows([(1, "2020-01-01", "a"), (2, None, "b")])(Cohort)
    node = frame._node
    assert isinstance(node, qm.InlinePatientTable)
    assert node.rows == ((1, datetime.date(2020, 1, 1), "a"), (2, None, "b"))
    dataset = create_dataset()
    dataset.define_population(frame.exists_for_patient())
    dataset.start = frame.start
    compiled = compile_dataset(dataset)
    assert loads(dumps(compiled)) == compiled


def test_file_is_read_by_header(tmp_path: Path):
    path = tmp_path / "cohort.csv"
    path.write_text("group,patient_id,start,extra\na,7,2021-03-04,x\n")
    frame = table_from_file(path)(Cohort)
    assert frame._node.rows == ((7, datetime.date(2021, 3, 4), "a"),)


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([(1, "2020-01-01")], "expected 3 values"),
        ([("x", "2020-01-01", "a")], "patient_id 'x' is not a whole number"),
        ([(1, "01/02/2020", "a")], "row 1, column start"),
        ([(1, "2020-01-01", "a"), (1, "2020-01-02", "b")], "appears twice"),
    ],
)
def test_bad_rows(rows, message):
    with pytest.raises(ValueError, match=message):
        table_from_rows(rows)(Cohort)


def test_file_missing_a_column(tmp_path: Path):
    path = tmp_path / "cohort.csv"
    path.write_text("patient_id,start\n1,2020-01-01\n")
    with pytest.raises(ValueError, match="missing column\\(s\\) group"):
        table_from_file(path)(Cohort)


def test_file_missing(tmp_path: Path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        table_from_file(tmp_path / "nope.csv")(Cohort)
