"""Writing a dataset as it streams out of the engine, in the format its file name asks for.

Output is written batch by batch, so memory stays bounded whatever the size of the dataset, into
a hidden file beside the target that is renamed over it only when everything has been written.
A crash, an error or Ctrl-C therefore never leaves a half-written file where a pipeline would
take it for a finished output.

CSV files follow ehrQL's conventions, which existing analysis code expects: a header row, dates
as ``YYYY-MM-DD``, booleans as ``T``/``F``, empty cells for missing values, codes as their text,
and quotes only where a value needs them. Arrow and Parquet files keep the Arrow types.
"""

from __future__ import annotations

import contextlib
import gzip
import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO, Protocol

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.ipc
import pyarrow.parquet as pq

from fedsafe.errors import OutputError

__all__ = ["SUPPORTED_EXTENSIONS", "check_output_path", "output_format", "write_dataset"]

# Extension -> format. ".feather" is Feather version 2, which is the Arrow IPC file format.
_FORMATS: dict[str, str] = {
    ".csv": "csv",
    ".csv.gz": "csv.gz",
    ".arrow": "arrow",
    ".feather": "arrow",
    ".parquet": "parquet",
}
SUPPORTED_EXTENSIONS: tuple[str, ...] = tuple(_FORMATS)


def output_format(path: Path) -> str:
    """The format a file name asks for: ``csv``, ``csv.gz``, ``arrow`` or ``parquet``."""
    name = Path(path).name.lower()
    # Longest first, so "x.csv.gz" is not taken for a ".gz" file.
    for extension in sorted(_FORMATS, key=len, reverse=True):
        if name.endswith(extension) and len(name) > len(extension):
            return _FORMATS[extension]
    raise OutputError(
        f"cannot write {path}: unknown output format; the file name must end in one of "
        + ", ".join(SUPPORTED_EXTENSIONS)
    )


def check_output_path(path: Path) -> str:
    """Refuse an output path that cannot be written, before any slow work is done.

    Checks the format, and that the folder exists or could be created and is writable. Returns
    the format. Nothing is created.
    """
    path = Path(path)
    fmt = output_format(path)
    if path.is_dir():
        raise OutputError(f"cannot write {path}: it is a folder")
    ancestor = path.parent
    while not ancestor.exists():
        if ancestor == ancestor.parent:
            break
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise OutputError(f"cannot write {path}: {ancestor} is a file, not a folder")
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise OutputError(f"cannot write {path}: the folder {ancestor} is not writable")
    return fmt


def write_dataset(
    reader: pa.RecordBatchReader,
    path: Path,
    *,
    on_progress: Callable[[int], None] | None = None,
) -> int:
    """Write every batch from ``reader`` to ``path``; return the number of rows written.

    ``on_progress`` is called with the running row count after each batch. An exception from
    the reader is raised unchanged; a failure to write is raised as :class:`OutputError`. Either
    way no file is left at ``path`` (an existing file there is left as it was).
    """
    path = Path(path)
    fmt = check_output_path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = _create_temporary(path)
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from exc

    rows = 0
    try:
        try:
            sink = _open_sink(fmt, temporary, reader.schema)
        except (OSError, pa.ArrowException) as exc:
            raise OutputError(f"cannot write {path}: {exc}") from exc
        with contextlib.ExitStack() as cleanup:
            cleanup.callback(sink.abort)
            for batch in reader:
                try:
                    sink.write(batch)
                except OSError as exc:
                    raise OutputError(f"cannot write {path}: {exc}") from exc
                rows += batch.num_rows
                if on_progress is not None:
                    on_progress(rows)
            try:
                sink.close()
            except OSError as exc:
                raise OutputError(f"cannot write {path}: {exc}") from exc
            cleanup.pop_all()
        _make_durable(temporary)
        os.replace(temporary, path)
        _make_durable(path.parent)
    except BaseException:
        # Including KeyboardInterrupt: a partial file must never look like an output.
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()
        raise
    return rows


def _create_temporary(path: Path) -> Path:
    """A new, hidden file beside ``path``, so the final rename stays on one filesystem.

    Made with the usual permissions (0666 less the umask), as the output itself would be.
    """
    while True:
        candidate = path.with_name(f".{path.name}.{secrets.token_hex(6)}.partial")
        try:
            fd = os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666)
        except FileExistsError:
            continue
        os.close(fd)
        return candidate


def _make_durable(path: Path) -> None:
    """Flush a file (or a folder's entries) to disk, so a power cut cannot undo a finished write."""
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# ---------------------------------------------------------------------------------------------
# Sinks


class _Sink(Protocol):
    def write(self, batch: pa.RecordBatch) -> None: ...
    def close(self) -> None: ...
    def abort(self) -> None: ...


def _open_sink(fmt: str, path: Path, schema: pa.Schema) -> _Sink:
    if fmt == "csv":
        return _CsvSink(open(path, "wb"), schema)
    if fmt == "csv.gz":
        raw = open(path, "wb")  # noqa: SIM115 - closed by the sink
        # mtime=0 so that the same data always gives the same bytes.
        return _CsvSink(
            gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=6, mtime=0), schema, raw
        )
    if fmt == "arrow":
        return _ArrowSink(pa.ipc.new_file(str(path), schema))
    if fmt == "parquet":
        return _ArrowSink(pq.ParquetWriter(str(path), schema))
    raise AssertionError(fmt)


class _ArrowSink:
    """Arrow IPC files and Parquet: the batches as they are, types and all."""

    def __init__(self, writer: pa.ipc.RecordBatchFileWriter | pq.ParquetWriter) -> None:
        self.writer = writer

    def write(self, batch: pa.RecordBatch) -> None:
        self.writer.write_batch(batch)

    def close(self) -> None:
        self.writer.close()

    def abort(self) -> None:
        with contextlib.suppress(Exception):
            self.writer.close()


class _CsvSink:
    """CSV in ehrQL's style.

    pyarrow's CSV writer quotes every string (so a code column reads ``"E119"``) and writes
    booleans as ``true``/``false``; ehrQL's files do neither, so cells are rendered here, still
    one whole column at a time with Arrow compute functions.
    """

    def __init__(self, out: BinaryIO, schema: pa.Schema, raw: BinaryIO | None = None) -> None:
        self.out = out
        self.raw = raw
        self.out.write((",".join(_quote(name) for name in schema.names) + "\n").encode())

    def write(self, batch: pa.RecordBatch) -> None:
        if batch.num_rows == 0:
            return
        cells = [_render(column) for column in batch.columns]
        lines = pc.binary_join_element_wise(*cells, ",") if len(cells) > 1 else cells[0]
        # One string for the whole batch, built in Arrow rather than row by row in Python.
        whole = pc.binary_join(pa.ListArray.from_arrays([0, len(lines)], lines), "\n")
        self.out.write(whole[0].as_buffer())
        self.out.write(b"\n")

    def close(self) -> None:
        self.out.close()
        if self.raw is not None:
            self.raw.close()

    def abort(self) -> None:
        with contextlib.suppress(Exception):
            self.close()


_NEEDS_QUOTES = r'[",\r\n]'


def _quote(text: str) -> str:
    if any(c in text for c in '",\r\n'):
        return '"' + text.replace('"', '""') + '"'
    return text


def _render(column: pa.Array | pa.ChunkedArray) -> pa.Array:
    """A column as CSV cells: text, quoted where needed, with missing values as empty cells."""
    type_ = column.type
    if pa.types.is_dictionary(type_):
        column = column.cast(type_.value_type)
        type_ = column.type
    if pa.types.is_boolean(type_):
        text = pc.if_else(column, "T", "F")
    elif pa.types.is_floating(type_):
        text = column.cast(pa.string())
        # Arrow writes 1.0 as "1"; keep a whole-number float recognisable as a float, as
        # Python (and so ehrQL) would write it.
        whole = pc.match_substring_regex(text, r"^-?[0-9]+$")
        text = pc.if_else(whole, pc.binary_join_element_wise(text, ".0", ""), text)
    elif pa.types.is_string(type_) or pa.types.is_large_string(type_):
        text = column.cast(pa.string())
        needs = pc.match_substring_regex(text, _NEEDS_QUOTES)
        quoted = pc.binary_join_element_wise('"', pc.replace_substring(text, '"', '""'), '"', "")
        text = pc.if_else(needs, quoted, text)
    else:
        # Integers, dates (ISO 8601 is Arrow's text form) and anything else.
        text = column.cast(pa.string())
    return pc.fill_null(text, "")
