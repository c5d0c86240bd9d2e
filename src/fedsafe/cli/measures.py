"""``fedsafe generate-measures``: run a measures definition and write the measures table.

Disclosure control is on unless the definition turns it off: counts are suppressed and rounded
by :func:`fedsafe.disclosure.protect_measure_table` and what ran is written to the output's
sidecar (``FILE.disclosure.json``). With no data source, the measures run on dummy tables from
:mod:`fedsafe.dummy_data.measures`, so a researcher can develop the definition before it meets
any real data.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import pyarrow as pa
import pyarrow.compute as pc
import typer
from rich.text import Text

from fedsafe.cli.main import (
    DefinitionArgument,
    ParamOption,
    ProjectDirOption,
    _choose_source,
    _open_source,
    _reporting_errors,
    app,
    parse_params,
)

if TYPE_CHECKING:
    from fedsafe.disclosure import DisclosurePolicy
    from fedsafe.query_model import nodes as qm


@app.command("generate-measures")
def generate_measures(
    ctx: typer.Context,
    definition: DefinitionArgument,
    output: Annotated[
        Path,
        typer.Option(
            "--output",
            "-o",
            help=(
                "Where to write the measures: .csv, .csv.gz, .arrow, .feather or .parquet; "
                "or DIR/:csv (any of those formats) for one file per measure in DIR."
            ),
            show_default=False,
        ),
    ],
    dsn: Annotated[
        str | None,
        typer.Option("--dsn", help="Database to run on, e.g. duckdb:///path/to/data.duckdb."),
    ] = None,
    dummy_tables: Annotated[
        Path | None,
        typer.Option(
            "--dummy-tables",
            help="Folder of CSV or Parquet files, one per table, to run on instead of a database.",
        ),
    ] = None,
    param: ParamOption = None,
    project_dir: ProjectDirOption = None,
) -> None:
    """Run a measures definition and write one row per measure, interval and group.

    Without --dsn or --dummy-tables, the measures run on generated dummy data.
    """
    with _reporting_errors(ctx) as console:
        started = time.monotonic()
        params = parse_params(param or [])
        source = None if dsn is None and dummy_tables is None else _choose_source(dsn, dummy_tables)

        targets = OutputTargets.parse(output)

        from fedsafe.engines.measures import run_measures
        from fedsafe.loader import load_measures_definition
        from fedsafe.query_model.nodes import tables_used

        loaded = load_measures_definition(definition, params, project_dir=project_dir)
        enabled = loaded.config["disclosure_control"]["enabled"]
        policy = _policy() if enabled else None  # a bad policy stops us before the slow work
        if source is None:
            from fedsafe.dummy_data.measures import dummy_measures_backend
            from fedsafe.dummy_data.settings import DummyDataSettings

            settings = DummyDataSettings.from_config(loaded.config["dummy_data"])
            backend = dummy_measures_backend(
                loaded.measures,
                population_size=settings.population_size,
                timeout=settings.timeout,
                additional_population_constraint=settings.additional_population_constraint,
            )
            console.print(
                Text(
                    f"no data source given: measures computed on dummy tables for "
                    f"{settings.population_size:,} patients"
                ),
                soft_wrap=True,
            )
        else:
            backend = _open_source(source, tables_used(loaded.measures))
        try:
            table = run_measures(loaded.measures, backend)
        finally:
            backend.disconnect()
        rows = 0
        for path, part in targets.split(table, loaded.measures):
            rows += write_measures(part, path, policy)
        elapsed = time.monotonic() - started
        note = "" if enabled else " (disclosure control turned off by the definition)"
        console.print(
            Text(
                f"wrote {rows:,} row{'' if rows == 1 else 's'} to {targets.describe()} in "
                f"{elapsed:.1f} s" + note
            ),
            soft_wrap=True,
        )


@dataclass(frozen=True)
class OutputTargets:
    """Where the table goes: one file, or (``DIR/:csv``, as ehrQL has it) a file per measure."""

    path: Path
    per_measure_format: str | None = None

    @classmethod
    def parse(cls, output: Path) -> OutputTargets:
        """Check the output is writable before any slow work; nothing is created."""
        from fedsafe.io.writers import check_output_path

        if output.name.startswith(":"):
            extension = output.name[1:]
            check_output_path(output.parent / f"measure.{extension}")
            return cls(output.parent, extension)
        check_output_path(output)
        return cls(output)

    def describe(self) -> str:
        if self.per_measure_format is None:
            return str(self.path)
        return f"one {self.per_measure_format} file per measure in {self.path}"

    def split(self, table: pa.Table, measures: qm.Measures) -> Iterator[tuple[Path, pa.Table]]:
        """Each file's path and rows; a measure's own file drops the ``measure`` column and the
        group columns of other measures."""
        if self.per_measure_format is None:
            yield self.path, table
            return
        names = table.column("measure")
        for measure in measures.measures:
            rows = table.filter(pc.equal(names, measure.name))
            own = [name for name, _ in measure.group_by]
            columns = table.column_names[1:6] + own
            yield self.path / f"{measure.name}.{self.per_measure_format}", rows.select(columns)


def _policy() -> DisclosurePolicy:
    """The backend's disclosure policy when the executor gives one (FEDSAFE_DISCLOSURE_POLICY),
    else the defaults, which are ehrQL's (counts <= 7 redacted, then rounded to the nearest 5)."""
    from fedsafe.disclosure import DisclosurePolicy

    return DisclosurePolicy.from_environment()


def write_measures(table: pa.Table, output: Path, policy: DisclosurePolicy | None) -> int:
    """Protect the table with ``policy`` (None: the definition turned protection off), write it,
    then its sidecar; return the row count."""
    from fedsafe.disclosure import protect_measure_table, write_sidecar
    from fedsafe.io.writers import write_dataset

    record: dict[str, Any]
    if policy is not None:
        # The one place measures meet disclosure control.
        table, record = protect_measure_table(table, policy)
    else:
        kinds = dict.fromkeys(table.column_names, "label")
        kinds.update(numerator="count", denominator="count", ratio="derived")
        record = {"columns": kinds, "rules_applied": []}
    reader = pa.RecordBatchReader.from_batches(table.schema, table.to_batches())
    rows = write_dataset(reader, output)
    write_sidecar(output, record)
    return rows
