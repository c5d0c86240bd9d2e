"""A researcher's own dummy dataset, checked against what the definition would produce.

``--dummy-data-file`` lets a researcher hand-craft the dataset their analysis code is developed
on. It is only useful if it looks like the real output, so its columns and every value's type
are checked against the definition, and the first difference is named by file, row and column.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa

from fedsafe.backends.dummy_tables import TableSpec, read_dummy_table
from fedsafe.errors import DataSourceError
from fedsafe.query_model import nodes as qm
from fedsafe.query_model.schema import Column, TableSchema

READABLE = (".csv", ".csv.gz", ".parquet", ".arrow", ".feather")


def read_dummy_dataset_file(path: Path, dataset: qm.Dataset) -> pa.Table:
    """The file's rows with the dataset's exact types, or an error naming what differs."""
    if not path.name.endswith(READABLE):
        raise DataSourceError(
            f"dummy data file {path}: expected one of {', '.join(READABLE)}, from its name"
        )
    if not path.is_file():
        raise DataSourceError(f"dummy data file {path} does not exist")
    schema = TableSchema(tuple(Column(name, series.type) for name, series in dataset.variables))
    spec = TableSpec("the dataset", schema, one_row_per_patient=True)
    return read_dummy_table(path, spec)
