"""Writing a small protected table and its sidecar, so neither is ever left half-written.

The sidecar record is validated before anything is written, the table is written to a hidden
temporary file renamed into place, and the sidecar follows. A protected table without its
sidecar only loses the "safe by construction" label (the checker then infers and checks it);
a sidecar is never written for a table that is not there.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv
import pyarrow.ipc
import pyarrow.parquet as pq

from fedsafe.disclosure.errors import OutputFileError
from fedsafe.disclosure.sidecar import parse_sidecar, sidecar_path, write_sidecar

__all__ = ["write_protected_table"]

_WRITERS = {
    ".csv": lambda table, path: pyarrow.csv.write_csv(table, str(path)),
    ".arrow": lambda table, path: _write_arrow(table, path),
    ".feather": lambda table, path: _write_arrow(table, path),
    ".parquet": lambda table, path: pq.write_table(table, str(path)),
}


def write_protected_table(table: pa.Table, output: Path | str, record: Mapping[str, Any]) -> Path:
    """Write ``table`` to ``output`` (.csv, .arrow, .feather or .parquet) and its sidecar."""
    output = Path(output)
    writer = _WRITERS.get(output.suffix.lower())
    if writer is None:
        raise OutputFileError(
            f"{output}: cannot write this kind of file; use one of {', '.join(_WRITERS)}"
        )
    if not output.parent.is_dir():
        raise OutputFileError(f"{output}: folder {output.parent} does not exist")
    parse_sidecar(dict(record), sidecar_path(output))
    temporary = output.with_name(f".{output.name}.tmp{output.suffix}")
    try:
        writer(table, temporary)
        os.replace(temporary, output)
    finally:
        temporary.unlink(missing_ok=True)
    write_sidecar(output, record)
    return output


def _write_arrow(table: pa.Table, path: Path) -> None:
    with pa.OSFile(str(path), "wb") as sink, pyarrow.ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)
