"""Reading a dataset file (.csv, .csv.gz, .arrow/.feather, .parquet) for a report.

Typed formats keep their types; CSV columns are typed by what their values look like (numbers,
ISO dates, true/false), which is how a dataset written by fedsafe reads back.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.ipc
import pyarrow.parquet as pq

from fedsafe.errors import DataSourceError

__all__ = ["READABLE", "read_dataset_file"]

READABLE = (".csv", ".csv.gz", ".arrow", ".feather", ".parquet")


def read_dataset_file(path: Path) -> pa.Table:
    """The whole dataset as an Arrow table, or a DataSourceError naming the file and why."""
    path = Path(path)
    name = path.name.lower()
    if not name.endswith(READABLE):
        raise DataSourceError(f"{path}: expected a dataset file ending in {', '.join(READABLE)}")
    if not path.is_file():
        raise DataSourceError(f"{path}: no such file")
    try:
        if name.endswith(".parquet"):
            return pq.read_table(path)
        if name.endswith((".arrow", ".feather")):
            with pa.memory_map(str(path)) as source:
                return pyarrow.ipc.open_file(source).read_all()
        return pa_csv.read_csv(
            path, convert_options=pa_csv.ConvertOptions(strings_can_be_null=True)
        )
    except (pa.ArrowInvalid, OSError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DataSourceError(f"{path}: cannot be read as a dataset ({reason})") from None
