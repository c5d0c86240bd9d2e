import datetime
import gzip
from pathlib import Path

import ibis.expr.datatypes as dt
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from fedsafe.backends.dummy_tables import load_dummy_tables, read_dummy_table
from fedsafe.codes import SNOMEDCTCode
from fedsafe.errors import DataSourceError
from fedsafe.query_model import nodes
from fedsafe.query_model.schema import Column, TableSchema

PATIENTS = nodes.SelectPatientTable(
    "patients",
    TableSchema(
        (
            Column("date_of_birth", datetime.date),
            Column("sex", str),
            Column("height", float),
            Column("smoker", bool),
        )
    ),
)
EVENTS = nodes.SelectTable(
    "clinical_events",
    TableSchema(
        (
            Column("date", datetime.date),
            Column("snomedct_code", SNOMEDCTCode),
            Column("numeric_value", float),
            Column("count", int),
        )
    ),
)
TABLES = {"patients": PATIENTS, "clinical_events": EVENTS}

PATIENTS_CSV = """\
patient_id,date_of_birth,sex,height,smoker
1,1980-01-01,female,1.62,T
2,1990-05-01,male,,false
3,,,1.8e0,1
4,2000-02-29,unknown,2,
"""

EVENTS_CSV = """\
patient_id,date,snomedct_code,numeric_value,count
1,2020-01-01,22298006,1.5,3
1,2021-06-30,111552007,,-2
2,,,,
"""

EXPECTED_TYPES = {
    "patients": {
        "patient_id": dt.Int64(nullable=False),
        "date_of_birth": dt.date,
        "sex": dt.string,
        "height": dt.float64,
        "smoker": dt.boolean,
    },
    "clinical_events": {
        "patient_id": dt.Int64(nullable=False),
        "date": dt.date,
        "snomedct_code": dt.string,
        "numeric_value": dt.float64,
        "count": dt.int64,
    },
}


def write(directory: Path, name: str, text: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    if name.endswith(".gz"):
        path.write_bytes(gzip.compress(text.encode()))
    else:
        path.write_text(text)
    return path


def check_loaded(backend) -> None:
    for name, types in EXPECTED_TYPES.items():
        schema = backend.table(name).schema()
        assert list(schema.names) == list(types)
        for column, type_ in types.items():
            found = schema[column].copy(nullable=True)
            assert found == type_.copy(nullable=True), (name, column, schema[column])
    patients = backend.table("patients").order_by("patient_id").to_pyarrow().to_pylist()
    assert patients == [
        {
            "patient_id": 1,
            "date_of_birth": datetime.date(1980, 1, 1),
            "sex": "female",
            "height": 1.62,
            "smoker": True,
        },
        {
            "patient_id": 2,
            "date_of_birth": datetime.date(1990, 5, 1),
            "sex": "male",
            "height": None,
            "smoker": False,
        },
        {"patient_id": 3, "date_of_birth": None, "sex": None, "height": 1.8, "smoker": True},
        {
            "patient_id": 4,
            "date_of_birth": datetime.date(2000, 2, 29),
            "sex": "unknown",
            "height": 2.0,
            "smoker": None,
        },
    ]
    events = backend.table("clinical_events").order_by("date").to_pyarrow().to_pylist()
    assert events[0] == {
        "patient_id": 1,
        "date": datetime.date(2020, 1, 1),
        "snomedct_code": "22298006",
        "numeric_value": 1.5,
        "count": 3,
    }
    assert events[2] == {
        "patient_id": 2,
        "date": None,
        "snomedct_code": None,
        "numeric_value": None,
        "count": None,
    }


def test_csv_happy_path(tmp_path: Path) -> None:
    write(tmp_path, "patients.csv", PATIENTS_CSV)
    write(tmp_path, "clinical_events.csv.gz", EVENTS_CSV)
    backend = load_dummy_tables(tmp_path, TABLES)
    check_loaded(backend)


def test_parquet_happy_path(tmp_path: Path) -> None:
    # Parquet files keep their own types; narrower integers and floats are widened.
    pq.write_table(
        pa.table(
            {
                "patient_id": pa.array([2, 1, 3, 4], pa.int32()),
                "date_of_birth": pa.array(
                    [datetime.date(1990, 5, 1), datetime.date(1980, 1, 1), None, None]
                ),
                "sex": ["male", "female", None, "unknown"],
                "height": pa.array([None, 1.62, 1.8, 2.0], pa.float64()),
                "smoker": [False, True, True, None],
            }
        ),
        tmp_path / "patients.parquet",
    )
    write(tmp_path, "clinical_events.csv", EVENTS_CSV)
    backend = load_dummy_tables(tmp_path, TABLES)
    rows = backend.table("patients").order_by("patient_id").to_pyarrow().to_pylist()
    assert rows[0]["sex"] == "female" and rows[1]["date_of_birth"] == datetime.date(1990, 5, 1)
    schema = backend.table("patients").schema()
    assert schema["patient_id"].is_int64() and schema["date_of_birth"].is_date()


def test_parquet_of_strings_is_checked_like_csv(tmp_path: Path) -> None:
    table = pa.table({name: pa.array(["1", "x"]) for name in ["patient_id", "date", "count"]})
    table = table.append_column("snomedct_code", pa.array([None, None], pa.string()))
    table = table.append_column("numeric_value", pa.array([None, None], pa.string()))
    pq.write_table(table, tmp_path / "clinical_events.parquet")
    with pytest.raises(DataSourceError) as info:
        load_dummy_tables(tmp_path, {"clinical_events": EVENTS})
    assert str(info.value) == (
        f"{tmp_path / 'clinical_events.parquet'}, row 2, column patient_id: "
        "'x' is not an integer (expected a whole number, like 42)"
    )


def test_parquet_wrong_type(tmp_path: Path) -> None:
    pq.write_table(
        pa.table(
            {
                "patient_id": [1],
                "date_of_birth": pa.array([datetime.datetime(2020, 1, 1)], pa.timestamp("us")),
                "sex": ["f"],
                "height": [1.0],
                "smoker": [True],
            }
        ),
        tmp_path / "patients.parquet",
    )
    with pytest.raises(DataSourceError, match=r"column date_of_birth: has type timestamp\[us\]"):
        load_dummy_tables(tmp_path, {"patients": PATIENTS})


def test_only_the_tables_used_are_needed(tmp_path: Path) -> None:
    write(tmp_path, "patients.csv", PATIENTS_CSV)
    backend = load_dummy_tables(tmp_path, {"patients": PATIENTS})
    assert backend.table("patients").count().to_pyarrow().as_py() == 4


def test_table_schema_accepted_in_place_of_a_node(tmp_path: Path) -> None:
    write(tmp_path, "patients.csv", PATIENTS_CSV)
    backend = load_dummy_tables(tmp_path, {"patients": PATIENTS.schema})
    assert backend.table("patients").count().to_pyarrow().as_py() == 4


def test_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(DataSourceError, match=r"dummy tables folder .* does not exist"):
        load_dummy_tables(tmp_path / "nope", TABLES)


def test_missing_table_file_lists_what_is_there(tmp_path: Path) -> None:
    write(tmp_path, "patients.csv", PATIENTS_CSV)
    write(tmp_path, "clinical_event.csv", EVENTS_CSV)  # a typo in the name
    with pytest.raises(DataSourceError) as info:
        load_dummy_tables(tmp_path, TABLES)
    message = str(info.value)
    assert "no dummy table for 'clinical_events'" in message
    assert "clinical_events.csv, clinical_events.csv.gz, clinical_events.parquet" in message
    assert "the folder has clinical_event.csv, patients.csv" in message


def test_two_files_for_one_table(tmp_path: Path) -> None:
    write(tmp_path, "patients.csv", PATIENTS_CSV)
    write(tmp_path, "patients.csv.gz", PATIENTS_CSV)
    with pytest.raises(DataSourceError, match="more than one file"):
        load_dummy_tables(tmp_path, {"patients": PATIENTS})


NOT_A_DATE = "is not a date (expected YYYY-MM-DD)"
NOT_AN_INTEGER = "is not an integer (expected a whole number, like 42)"
NOT_A_FLOAT = "is not a float (expected a number, like 1.5)"
NOT_A_BOOLEAN = "is not a boolean (expected T, F, true, false, 1 or 0)"


@pytest.mark.parametrize(
    ("line", "column", "value", "problem"),
    [
        ("9,not-a-date,f,1.0,T", "date_of_birth", "not-a-date", NOT_A_DATE),
        ("9,2021-02-30,f,1.0,T", "date_of_birth", "2021-02-30", NOT_A_DATE),
        ("9,1980-1-1,f,1.0,T", "date_of_birth", "1980-1-1", NOT_A_DATE),
        ("9,1980-01-01,f,tall,T", "height", "tall", NOT_A_FLOAT),
        ("9,1980-01-01,f,1.0,yes", "smoker", "yes", NOT_A_BOOLEAN),
        ("x9,1980-01-01,f,1.0,T", "patient_id", "x9", NOT_AN_INTEGER),
        ("9.0,1980-01-01,f,1.0,T", "patient_id", "9.0", NOT_AN_INTEGER),
        ("0x9,1980-01-01,f,1.0,T", "patient_id", "0x9", NOT_AN_INTEGER),
    ],
)
def test_bad_value_names_file_line_and_column(
    tmp_path: Path, line: str, column: str, value: str, problem: str
) -> None:
    text = PATIENTS_CSV.replace("4,2000-02-29,unknown,2,\n", "") + "\n" + line + "\n"
    # Header, three good rows, then a blank line (still counted): the bad row is line 6.
    path = write(tmp_path, "patients.csv", text)
    with pytest.raises(DataSourceError) as info:
        load_dummy_tables(tmp_path, {"patients": PATIENTS})
    assert str(info.value) == f"{path}, line 6, column {column}: {value!r} {problem}"


def test_message_uses_the_folder_as_given(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path / "dummy_tables", "patients.csv", PATIENTS_CSV.replace("1990-05-01", "x"))
    monkeypatch.chdir(tmp_path)
    with pytest.raises(DataSourceError) as info:
        load_dummy_tables(Path("dummy_tables"), {"patients": PATIENTS})
    assert str(info.value) == (
        "dummy_tables/patients.csv, line 3, column date_of_birth: "
        "'x' is not a date (expected YYYY-MM-DD)"
    )


def test_line_numbers_count_line_breaks_inside_values(tmp_path: Path) -> None:
    text = (
        "patient_id,date_of_birth,sex,height,smoker\n"
        '1,1980-01-01,"a\nb\nc",1,T\n'
        "2,1980-01-01,f,oops,T\n"
    )
    write(tmp_path, "patients.csv", text)
    with pytest.raises(DataSourceError, match=r"line 5, column height: 'oops'"):
        load_dummy_tables(tmp_path, {"patients": PATIENTS})


def test_invalid_code(tmp_path: Path) -> None:
    text = EVENTS_CSV.replace("111552007", "111552008")  # wrong check digit
    write(tmp_path, "clinical_events.csv", text)
    with pytest.raises(DataSourceError) as info:
        load_dummy_tables(tmp_path, {"clinical_events": EVENTS})
    message = str(info.value)
    assert message.startswith(
        f"{tmp_path / 'clinical_events.csv'}, line 3, column snomedct_code: '111552008' is not "
        "a valid SNOMED CT code"
    )


def test_integer_too_large(tmp_path: Path) -> None:
    write(tmp_path, "clinical_events.csv", EVENTS_CSV.replace(",3\n", ",99999999999999999999\n"))
    with pytest.raises(DataSourceError, match=r"line 2, column count: '99999999999999999999'"):
        load_dummy_tables(tmp_path, {"clinical_events": EVENTS})


def test_missing_column(tmp_path: Path) -> None:
    text = "\n".join(line.rsplit(",", 1)[0] for line in PATIENTS_CSV.splitlines()) + "\n"
    write(tmp_path, "patients.csv", text)
    with pytest.raises(DataSourceError) as info:
        load_dummy_tables(tmp_path, {"patients": PATIENTS})
    assert "missing column smoker" in str(info.value)
    assert "patient_id, date_of_birth, sex, height, smoker" in str(info.value)


def test_missing_patient_id_column(tmp_path: Path) -> None:
    text = "\n".join(line.split(",", 1)[1] for line in PATIENTS_CSV.splitlines()) + "\n"
    write(tmp_path, "patients.csv", text)
    with pytest.raises(DataSourceError, match="missing column patient_id"):
        load_dummy_tables(tmp_path, {"patients": PATIENTS})


def test_extra_columns(tmp_path: Path) -> None:
    lines = PATIENTS_CSV.splitlines()
    text = "\n".join([lines[0] + ",weight,nhs_number"] + [x + ",," for x in lines[1:]]) + "\n"
    write(tmp_path, "patients.csv", text)
    with pytest.raises(DataSourceError, match="unexpected columns weight, nhs_number"):
        load_dummy_tables(tmp_path, {"patients": PATIENTS})


def test_duplicate_header(tmp_path: Path) -> None:
    write(tmp_path, "patients.csv", "patient_id,sex,sex\n1,f,f\n")
    with pytest.raises(DataSourceError, match="line 1: column 'sex' appears twice"):
        load_dummy_tables(tmp_path, {"patients": PATIENTS})


def test_wrong_number_of_cells(tmp_path: Path) -> None:
    write(tmp_path, "patients.csv", PATIENTS_CSV + "5,1980-01-01,f\n")
    with pytest.raises(DataSourceError, match=r"line 6: expected 5 cells .* found 3"):
        load_dummy_tables(tmp_path, {"patients": PATIENTS})


def test_empty_file(tmp_path: Path) -> None:
    write(tmp_path, "patients.csv", "")
    with pytest.raises(DataSourceError, match="is empty"):
        load_dummy_tables(tmp_path, {"patients": PATIENTS})


def test_header_only_gives_an_empty_table_of_the_right_types(tmp_path: Path) -> None:
    write(tmp_path, "patients.csv", PATIENTS_CSV.splitlines()[0] + "\n")
    backend = load_dummy_tables(tmp_path, {"patients": PATIENTS})
    schema = backend.table("patients").schema()
    assert schema["date_of_birth"].is_date() and schema["smoker"].is_boolean()
    assert backend.table("patients").count().to_pyarrow().as_py() == 0


def test_missing_patient_id_value(tmp_path: Path) -> None:
    write(tmp_path, "patients.csv", PATIENTS_CSV + ",1980-01-01,f,1,T\n")
    with pytest.raises(DataSourceError, match="line 6, column patient_id: every row needs"):
        load_dummy_tables(tmp_path, {"patients": PATIENTS})


def test_one_row_per_patient(tmp_path: Path) -> None:
    write(tmp_path, "patients.csv", PATIENTS_CSV + "2,1980-01-01,f,1,T\n")
    with pytest.raises(DataSourceError) as info:
        load_dummy_tables(tmp_path, {"patients": PATIENTS})
    assert "patient_id 2 appears more than once (line 3 and line 6)" in str(info.value)
    assert "one row per patient" in str(info.value)


def test_many_rows_per_patient_allowed_in_event_tables(tmp_path: Path) -> None:
    write(tmp_path, "clinical_events.csv", EVENTS_CSV)
    backend = load_dummy_tables(tmp_path, {"clinical_events": EVENTS})
    assert backend.table("clinical_events").count().to_pyarrow().as_py() == 3


def test_booleans_in_every_spelling(tmp_path: Path) -> None:
    spellings = ["T", "F", "true", "false", "TRUE", "False", "1", "0", ""]
    rows = "".join(f"{i},,,,{s}\n" for i, s in enumerate(spellings))
    path = write(tmp_path, "patients.csv", "patient_id,date_of_birth,sex,height,smoker\n" + rows)
    table = read_dummy_table(path, PATIENTS.schema)
    assert table["smoker"].to_pylist() == [True, False, True, False, True, False, True, False, None]


def test_byte_order_mark_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "patients.csv"
    path.write_bytes(b"\xef\xbb\xbf" + PATIENTS_CSV.encode())
    assert read_dummy_table(path, PATIENTS.schema).num_rows == 4
