import csv
import datetime
import gzip
from pathlib import Path

import pyarrow as pa
import pyarrow.ipc
import pyarrow.parquet as pq
import pytest

from fedsafe.errors import OutputError
from fedsafe.io.writers import SUPPORTED_EXTENSIONS, check_output_path, write_dataset

SCHEMA = pa.schema(
    [
        pa.field("patient_id", pa.int64(), nullable=False),
        ("flag", pa.bool_()),
        ("count", pa.int64()),
        ("value", pa.float64()),
        ("text", pa.string()),
        ("date", pa.date32()),
        ("code", pa.string()),
    ]
)

ROWS = [
    (1, True, 3, 1.5, "plain", datetime.date(2020, 1, 2), "22298006"),
    (2, False, None, None, None, None, None),
    (3, None, -7, 2.0, 'has "quotes", and a comma', datetime.date(1999, 12, 31), "E119"),
    (4, True, 0, None, "two\nlines", None, None),
    (5, None, None, 0.1, "", datetime.date(2024, 2, 29), "111552007"),
]

EXPECTED_CSV = (
    "patient_id,flag,count,value,text,date,code\n"
    "1,T,3,1.5,plain,2020-01-02,22298006\n"
    "2,F,,,,,\n"
    '3,,-7,2.0,"has ""quotes"", and a comma",1999-12-31,E119\n'
    '4,T,0,,"two\nlines",,\n'
    "5,,,0.1,,2024-02-29,111552007\n"
)


def make_table() -> pa.Table:
    columns = list(zip(*ROWS, strict=True))
    return pa.table(
        [pa.array(values, type=field.type) for values, field in zip(columns, SCHEMA, strict=True)],
        schema=SCHEMA,
    )


def make_reader(batch_size: int = 2) -> pa.RecordBatchReader:
    """Several batches (of 2, 2 and 1 rows), with a null of every type."""
    return pa.RecordBatchReader.from_batches(
        SCHEMA, make_table().to_batches(max_chunksize=batch_size)
    )


def failing_reader(after_batches: int, exc: BaseException) -> pa.RecordBatchReader:
    batches = make_table().to_batches(max_chunksize=2)

    def generate():
        yield from batches[:after_batches]
        raise exc

    return pa.RecordBatchReader.from_batches(SCHEMA, generate())


def test_csv(tmp_path: Path) -> None:
    progress: list[int] = []
    rows = write_dataset(make_reader(), tmp_path / "out.csv", on_progress=progress.append)
    assert rows == 5
    assert progress == [2, 4, 5]
    assert (tmp_path / "out.csv").read_bytes().decode() == EXPECTED_CSV


def test_csv_reads_back_with_the_csv_module(tmp_path: Path) -> None:
    write_dataset(make_reader(), tmp_path / "out.csv")
    with open(tmp_path / "out.csv", newline="") as f:
        records = list(csv.DictReader(f))
    assert [r["text"] for r in records] == [
        "plain",
        "",
        'has "quotes", and a comma',
        "two\nlines",
        "",
    ]
    assert [r["flag"] for r in records] == ["T", "F", "", "T", ""]


def test_csv_gz(tmp_path: Path) -> None:
    assert write_dataset(make_reader(), tmp_path / "out.csv.gz") == 5
    assert gzip.decompress((tmp_path / "out.csv.gz").read_bytes()).decode() == EXPECTED_CSV


@pytest.mark.parametrize("extension", [".arrow", ".feather"])
def test_arrow_ipc_file(tmp_path: Path, extension: str) -> None:
    path = tmp_path / f"out{extension}"
    assert write_dataset(make_reader(), path) == 5
    with pa.ipc.open_file(path) as f:
        table = f.read_all()
    assert table.schema == SCHEMA
    assert table.equals(make_table())


def test_parquet(tmp_path: Path) -> None:
    path = tmp_path / "out.parquet"
    assert write_dataset(make_reader(), path) == 5
    table = pq.read_table(path)
    assert table.schema.remove_metadata() == SCHEMA
    assert table.equals(make_table())


@pytest.mark.parametrize("extension", SUPPORTED_EXTENSIONS)
def test_empty_dataset(tmp_path: Path, extension: str) -> None:
    path = tmp_path / f"out{extension}"
    assert write_dataset(pa.RecordBatchReader.from_batches(SCHEMA, []), path) == 0
    assert path.exists()


def test_empty_csv_has_a_header(tmp_path: Path) -> None:
    write_dataset(pa.RecordBatchReader.from_batches(SCHEMA, []), tmp_path / "out.csv")
    assert (tmp_path / "out.csv").read_text() == EXPECTED_CSV.splitlines(keepends=True)[0]


def test_creates_missing_folders(tmp_path: Path) -> None:
    path = tmp_path / "output" / "nested" / "dataset.csv"
    write_dataset(make_reader(), path)
    assert path.read_text() == EXPECTED_CSV


def test_unknown_extension_refused_before_reading(tmp_path: Path) -> None:
    reader = failing_reader(0, AssertionError("the reader must not be touched"))
    with pytest.raises(OutputError) as info:
        write_dataset(reader, tmp_path / "out.xlsx")
    message = str(info.value)
    assert "out.xlsx" in message
    for extension in (".csv", ".csv.gz", ".arrow", ".feather", ".parquet"):
        assert extension in message
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", ["out", "out.gz", "out.CSV.bz2", ".csv"])
def test_other_unknown_names(tmp_path: Path, name: str) -> None:
    with pytest.raises(OutputError, match="unknown output format"):
        check_output_path(tmp_path / name)


def test_extension_case_is_ignored(tmp_path: Path) -> None:
    assert check_output_path(tmp_path / "OUT.CSV") == "csv"
    assert check_output_path(tmp_path / "out.Csv.Gz") == "csv.gz"


def test_folder_under_a_file_is_unwritable(tmp_path: Path) -> None:
    # Tests run as root, for whom permission bits are no obstacle; a file in the way is.
    (tmp_path / "somefile").write_text("not a folder")
    path = tmp_path / "somefile" / "out.csv"
    with pytest.raises(OutputError, match="is a file, not a folder"):
        check_output_path(path)
    with pytest.raises(OutputError):
        write_dataset(make_reader(), path)
    assert (tmp_path / "somefile").read_text() == "not a folder"


def test_output_path_is_a_folder(tmp_path: Path) -> None:
    (tmp_path / "out.csv").mkdir()
    with pytest.raises(OutputError, match="is a folder"):
        check_output_path(tmp_path / "out.csv")


@pytest.mark.parametrize("extension", SUPPORTED_EXTENSIONS)
def test_error_mid_stream_leaves_no_file(tmp_path: Path, extension: str) -> None:
    path = tmp_path / f"out{extension}"
    with pytest.raises(RuntimeError, match="database went away"):
        write_dataset(failing_reader(1, RuntimeError("database went away")), path)
    assert list(tmp_path.iterdir()) == []


def test_interrupt_mid_stream_leaves_no_file(tmp_path: Path) -> None:
    path = tmp_path / "out.parquet"
    with pytest.raises(KeyboardInterrupt):
        write_dataset(failing_reader(2, KeyboardInterrupt()), path)
    assert list(tmp_path.iterdir()) == []


def test_error_in_progress_callback_leaves_no_file(tmp_path: Path) -> None:
    def explode(rows: int) -> None:
        raise ValueError("callback failed")

    with pytest.raises(ValueError, match="callback failed"):
        write_dataset(make_reader(), tmp_path / "out.csv", on_progress=explode)
    assert list(tmp_path.iterdir()) == []


def test_failure_keeps_the_previous_output(tmp_path: Path) -> None:
    path = tmp_path / "out.csv"
    path.write_text("previous run\n")
    with pytest.raises(RuntimeError):
        write_dataset(failing_reader(1, RuntimeError("boom")), path)
    assert path.read_text() == "previous run\n"
    assert list(tmp_path.iterdir()) == [path]


def test_success_replaces_the_previous_output(tmp_path: Path) -> None:
    path = tmp_path / "out.csv"
    path.write_text("previous run\n")
    write_dataset(make_reader(), path)
    assert path.read_text() == EXPECTED_CSV


def test_large_output_streams_in_many_batches(tmp_path: Path) -> None:
    batch = pa.record_batch(
        [pa.array(range(10_000), pa.int64()), pa.array([1.0] * 10_000)],
        names=["patient_id", "value"],
    )
    reader = pa.RecordBatchReader.from_batches(batch.schema, (batch for _ in range(20)))
    seen: list[int] = []
    assert write_dataset(reader, tmp_path / "big.csv.gz", on_progress=seen.append) == 200_000
    assert seen[-1] == 200_000 and len(seen) == 20
    with gzip.open(tmp_path / "big.csv.gz", "rt") as f:
        lines = f.readlines()
    assert len(lines) == 200_001
    assert lines[1] == "0,1.0\n"
