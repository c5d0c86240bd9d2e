"""Dummy tables: a folder of hand-made CSV or Parquet files standing in for a database.

Researchers write these by hand or with a spreadsheet, so every value is checked against the
table's schema and a bad one is reported with its file, line and column, the way a researcher
would go and find it. The checked tables are loaded into a fresh in-memory DuckDB with exactly
the column types a real backend has, so a definition behaves the same on dummy tables as on
real data.
"""

from __future__ import annotations

import csv
import datetime
import gzip
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ibis
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from fedsafe.errors import DataSourceError
from fedsafe.query_model.schema import TableSchema
from fedsafe.query_model.types import describe_type, is_code_type

__all__ = ["DUMMY_TABLE_EXTENSIONS", "arrow_type", "load_dummy_tables", "read_dummy_table"]

DUMMY_TABLE_EXTENSIONS: tuple[str, ...] = (".csv", ".csv.gz", ".parquet")

_TRUE = ("t", "true", "1")
_FALSE = ("f", "false", "0")
_INT = r"^-?[0-9]+$"
_FLOAT = r"^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$"
_DATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"


def arrow_type(type_: type) -> pa.DataType:
    """The Arrow type a column of this fedsafe type has in a table: codes are their text."""
    if is_code_type(type_):
        return pa.string()
    return {
        bool: pa.bool_(),
        int: pa.int64(),
        float: pa.float64(),
        str: pa.string(),
        datetime.date: pa.date32(),
    }[type_]


@dataclass(frozen=True)
class TableSpec:
    name: str
    schema: TableSchema
    one_row_per_patient: bool


def load_dummy_tables(directory: Path, tables: Mapping[str, Any]) -> ibis.BaseBackend:
    """Check and load each table a definition uses from ``directory`` into in-memory DuckDB.

    ``tables`` maps table names to a :class:`TableSchema`, or to the query model's table nodes
    (as from ``nodes.tables_used``), which also say whether a table has one row per patient.
    """
    directory = Path(directory)
    if not directory.is_dir():
        what = "is not a folder" if directory.exists() else "does not exist"
        raise DataSourceError(f"dummy tables folder {directory} {what}")
    specs = [_spec(name, value) for name, value in tables.items()]
    loaded = {spec.name: read_dummy_table(_find_file(directory, spec.name), spec) for spec in specs}
    backend = ibis.duckdb.connect()
    for name, table in loaded.items():
        backend.create_table(name, table)
    return backend


def _spec(name: str, value: Any) -> TableSpec:
    if isinstance(value, TableSchema):
        return TableSpec(name, value, False)
    from fedsafe.query_model import nodes

    if isinstance(value, nodes.SelectPatientTable | nodes.SelectTable):
        return TableSpec(name, value.schema, isinstance(value, nodes.SelectPatientTable))
    raise TypeError(f"table {name!r}: expected a TableSchema or a table node, not {value!r}")


def _find_file(directory: Path, name: str) -> Path:
    candidates = [directory / f"{name}{ext}" for ext in DUMMY_TABLE_EXTENSIONS]
    found = [path for path in candidates if path.is_file()]
    if len(found) > 1:
        raise DataSourceError(
            f"dummy table {name!r} is in more than one file: "
            + " and ".join(str(p) for p in found)
            + "; keep only one"
        )
    if not found:
        present = sorted(p.name for p in directory.iterdir() if not p.name.startswith("."))
        listing = ", ".join(present) if present else "nothing"
        raise DataSourceError(
            f"no dummy table for {name!r} in {directory}: expected "
            + ", ".join(p.name for p in candidates)
            + f"; the folder has {listing}"
        )
    return found[0]


def read_dummy_table(path: Path, spec: TableSpec | TableSchema) -> pa.Table:
    """Read and check one dummy table file; return it with its exact Arrow types."""
    if isinstance(spec, TableSchema):
        spec = TableSpec(path.name.split(".")[0], spec, False)
    if path.name.endswith(".parquet"):
        raw, locate = _read_parquet(path)
    elif path.name.endswith((".arrow", ".feather")):
        raw, locate = _read_arrow(path)
    else:
        raw, locate = _read_csv(path)
    return _convert_table(path, raw, spec, locate)


# ---------------------------------------------------------------------------------------------
# Reading files: everything becomes text (or keeps a Parquet type), with a way to name a row.


def _read_csv(path: Path) -> tuple[pa.Table, Callable[[int], str]]:
    header = _read_header(path)
    _check_header_unique(path, header)
    invalid: list[str] = []

    def on_invalid_row(row: Any) -> str:
        if not invalid:
            invalid.append(
                f"{path}, line {row.number}: expected {row.expected_columns} cells (one per "
                f"column in the header), found {row.actual_columns}"
            )
        return "skip"

    try:
        table = pa_csv.read_csv(
            path,
            read_options=pa_csv.ReadOptions(use_threads=False),
            parse_options=pa_csv.ParseOptions(
                newlines_in_values=True,
                ignore_empty_lines=False,
                invalid_row_handler=on_invalid_row,
            ),
            convert_options=pa_csv.ConvertOptions(
                column_types=dict.fromkeys(header, pa.string()),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, OSError) as exc:
        raise DataSourceError(f"{path}: cannot read it as CSV: {exc}") from exc
    if invalid:
        raise DataSourceError(invalid[0])

    # Blank lines come through as rows of empty cells: drop them, remembering line numbers.
    # A quoted value may span lines, so each row's line is the header's line plus the rows and
    # the line breaks inside values before it.
    breaks = pa.array([0] * table.num_rows, pa.int64())
    for name in table.column_names:
        in_column = pc.fill_null(pc.count_substring(table[name], "\n"), 0).cast(pa.int64())
        breaks = pc.add(breaks, in_column)
    row_numbers = pa.array(range(table.num_rows), pa.int64())
    breaks_before = pc.subtract(pc.cumulative_sum(breaks), breaks)
    lines = pc.add(pc.add(row_numbers, breaks_before), 2)
    keep = pc.invert(_all_empty(table))
    table = table.filter(keep)
    kept_lines = pc.filter(lines, keep)

    def locate(index: int) -> str:
        return f"line {kept_lines[index].as_py()}"

    # An empty cell is a missing value.
    table = pa.table(
        {c: pc.if_else(pc.equal(table[c], ""), None, table[c]) for c in table.column_names},
        schema=pa.schema([(c, pa.string()) for c in table.column_names]),
    )
    return table, locate


def _read_header(path: Path) -> list[str]:
    opener = gzip.open if path.name.endswith(".gz") else open
    try:
        with opener(path, "rt", encoding="utf-8-sig", newline="") as f:
            header = next(csv.reader(f), None)
    except (OSError, UnicodeDecodeError, EOFError) as exc:
        raise DataSourceError(f"{path}: cannot read it: {exc}") from exc
    if not header:
        raise DataSourceError(f"{path} is empty: it needs at least a header row of column names")
    return header


def _check_header_unique(path: Path, header: list[str]) -> None:
    seen: set[str] = set()
    for name in header:
        if name in seen:
            raise DataSourceError(f"{path}, line 1: column {name!r} appears twice in the header")
        seen.add(name)


def _all_empty(table: pa.Table) -> pa.Array:
    mask = pa.array([True] * table.num_rows, pa.bool_())
    for name in table.column_names:
        mask = pc.and_(mask, pc.equal(table[name], ""))
    return _combined(mask)


def _combined(array: pa.Array | pa.ChunkedArray) -> pa.Array:
    return array.combine_chunks() if isinstance(array, pa.ChunkedArray) else array


def _read_parquet(path: Path) -> tuple[pa.Table, Callable[[int], str]]:
    try:
        table = pq.read_table(path)
    except (pa.ArrowException, OSError) as exc:
        raise DataSourceError(f"{path}: cannot read it as Parquet: {exc}") from exc
    return table, lambda index: f"row {index + 1}"


def _read_arrow(path: Path) -> tuple[pa.Table, Callable[[int], str]]:
    import pyarrow.feather as feather

    try:
        table = feather.read_table(path)
    except (pa.ArrowException, OSError) as exc:
        raise DataSourceError(f"{path}: cannot read it as an Arrow file: {exc}") from exc
    return table, lambda index: f"row {index + 1}"


# ---------------------------------------------------------------------------------------------
# Checking columns against the schema


def _convert_table(
    path: Path, raw: pa.Table, spec: TableSpec, locate: Callable[[int], str]
) -> pa.Table:
    names = raw.column_names
    expected = ("patient_id", *spec.schema.column_names)
    missing = [n for n in expected if n not in names]
    if missing:
        raise DataSourceError(
            f"{path}: missing column{'s' if len(missing) > 1 else ''} "
            + ", ".join(missing)
            + f"; table {spec.name!r} has columns "
            + ", ".join(expected)
        )
    extra = [n for n in names if n not in expected]
    if extra:
        raise DataSourceError(
            f"{path}: unexpected column{'s' if len(extra) > 1 else ''} "
            + ", ".join(extra)
            + f"; table {spec.name!r} has only "
            + ", ".join(expected)
        )

    def where(index: int, column: str) -> str:
        return f"{path}, {locate(index)}, column {column}"

    def convert(column: str, type_: type) -> pa.Array:
        return _convert_column(raw[column], type_, path, column, where)

    arrays = {"patient_id": convert("patient_id", int)}
    null_ids = pc.is_null(arrays["patient_id"])
    if pc.any(null_ids).as_py():
        first = pc.index(null_ids, True).as_py()
        raise DataSourceError(f"{where(first, 'patient_id')}: every row needs a patient_id")
    if spec.one_row_per_patient:
        _check_one_row_per_patient(arrays["patient_id"], spec, path, locate)
    for column in spec.schema.columns:
        arrays[column.name] = convert(column.name, column.type)
    schema = pa.schema(
        [pa.field("patient_id", pa.int64(), nullable=False)]
        + [pa.field(c.name, arrow_type(c.type)) for c in spec.schema.columns]
    )
    return pa.table(arrays, schema=schema)


def _check_one_row_per_patient(
    ids: pa.Array, spec: TableSpec, path: Path, locate: Callable[[int], str]
) -> None:
    counts = pc.value_counts(ids)
    repeated = pc.filter(counts.field("values"), pc.greater(counts.field("counts"), 1))
    if len(repeated):
        patient = repeated[0].as_py()
        rows = pc.indices_nonzero(pc.equal(ids, patient)).to_pylist()
        raise DataSourceError(
            f"{path}: patient_id {patient} appears more than once ("
            + " and ".join(locate(i) for i in rows[:2])
            + f"), but {spec.name!r} has one row per patient"
        )


def _convert_column(
    values: pa.ChunkedArray,
    type_: type,
    path: Path,
    column: str,
    where: Callable[[int, str], str],
) -> pa.Array:
    """One column, converted to its Arrow type, or an error naming the first bad value."""
    values = _combined(values)
    if pa.types.is_dictionary(values.type):
        values = values.cast(values.type.value_type)
    if pa.types.is_large_string(values.type):
        values = values.cast(pa.string())
    target = arrow_type(type_)
    expected = describe_type(type_)

    if not pa.types.is_string(values.type):
        # A typed (Parquet) column: it must already hold the right kind of value.
        if _compatible(values.type, type_):
            try:
                return values.cast(target)
            except pa.ArrowInvalid as exc:
                raise DataSourceError(
                    f"{path}, column {column}: values do not fit a {expected} column: {exc}"
                ) from exc
        raise DataSourceError(
            f"{path}, column {column}: has type {values.type}, but {column} is a {expected} column"
        )

    if type_ is str:
        return values
    if is_code_type(type_):
        return _check_codes(values, type_, column, where)
    if type_ is bool:
        lowered = pc.utf8_lower(values)
        truthy = pc.is_in(lowered, pa.array(_TRUE))
        good = pc.or_(truthy, pc.is_in(lowered, pa.array(_FALSE)))
        _fail_on_first(
            values, good, column, where, "is not a boolean (expected T, F, true, false, 1 or 0)"
        )
        return pc.if_else(pc.is_null(values), pa.scalar(None, pa.bool_()), truthy)
    if type_ is int:
        pattern, example = _INT, "a whole number, like 42"
    elif type_ is float:
        pattern, example = _FLOAT, "a number, like 1.5"
    elif type_ is datetime.date:
        pattern, example = _DATE, "YYYY-MM-DD"
    else:
        raise AssertionError(type_)
    problem = f"is not {'an' if type_ is int else 'a'} {expected} (expected {example})"
    _fail_on_first(values, pc.match_substring_regex(values, pattern), column, where, problem)
    try:
        return values.cast(target)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        # Well-formed but impossible, like 2021-02-30 or a 30-digit number: find which.
        good = pa.array([_casts(v, target) for v in values.to_pylist()])
        _fail_on_first(values, good, column, where, problem)
        raise


def _compatible(arrow: pa.DataType, type_: type) -> bool:
    if type_ is int:
        return pa.types.is_integer(arrow)
    if type_ is float:
        return pa.types.is_floating(arrow) or pa.types.is_integer(arrow)
    if type_ is bool:
        return pa.types.is_boolean(arrow)
    if type_ is datetime.date:
        return pa.types.is_date(arrow)
    return False  # text and codes are strings, handled by the caller


def _casts(value: str | None, target: pa.DataType) -> bool:
    if value is None:
        return True
    try:
        pa.array([value]).cast(target)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return False
    return True


def _fail_on_first(
    values: pa.Array,
    good: pa.Array,
    column: str,
    where: Callable[[int, str], str],
    problem: str,
) -> None:
    """Raise for the first present value where ``good`` is false."""
    bad = pc.and_(pc.is_valid(values), pc.invert(pc.fill_null(good, False)))
    if pc.any(bad).as_py():
        first = pc.index(bad, True).as_py()
        raise DataSourceError(f"{where(first, column)}: {values[first].as_py()!r} {problem}")


def _check_codes(
    values: pa.Array, code_type: type, column: str, where: Callable[[int, str], str]
) -> pa.Array:
    problems = {}
    for value in pc.unique(values.drop_null()).to_pylist():
        problem = code_type.find_problem(value)
        if problem is not None:
            problems[value] = problem
    if problems:
        bad = pc.is_in(values, pa.array(list(problems)))
        first = pc.index(bad, True).as_py()
        value = values[first].as_py()
        raise DataSourceError(
            f"{where(first, column)}: {value!r} is not a valid {code_type.system_name} code: "
            f"{problems[value]}"
        )
    return values


def convert_table(
    raw: pa.Table, name: str, table: Any, *, source: str, locate: Callable[[int], str]
) -> pa.Table:
    """Check a table of text (or typed) cells against its schema, exactly as files are checked.

    For tables that do not come from a file, such as hand-made test patients: ``source`` names
    where they came from and ``locate`` names a row, for error messages. ``table`` is as in
    :func:`load_dummy_tables`.
    """
    return _convert_table(source, raw, _spec(name, table), locate)  # type: ignore[arg-type]
