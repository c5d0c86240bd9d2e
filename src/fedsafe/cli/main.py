"""The ``fedsafe`` command.

Errors a person caused (a bad definition, a missing file, a malformed option) are printed as one
readable ``error:`` message and exit with status 2; anything else is a fedsafe bug, printed as a
one-line summary with a pointer to ``--debug`` and exit status 1. Progress and summaries go to
stderr, so stdout carries only what was asked for (for example SQL) and can be piped.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.text import Text

import fedsafe
from fedsafe.cli.backend import backend_app, dump_sql_on_backend, generate_on_backend
from fedsafe.errors import DataSourceError, FedsafeError

if TYPE_CHECKING:
    import ibis

    from fedsafe.backends.dsn import Dsn
    from fedsafe.query_model.nodes import TableNode

__all__ = ["app"]

app = typer.Typer(
    name="fedsafe",
    help="fedsafe: write a study once, run it next to the data, release only safe aggregates.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# Exit statuses: 2 for errors the user can fix (as for usage errors), 1 for fedsafe's own bugs.
EXIT_USER_ERROR = 2
EXIT_INTERNAL_ERROR = 1
EXIT_INTERRUPTED = 130


class UsageError(FedsafeError):
    """Options that do not make sense together, or a malformed option value."""


@dataclass(frozen=True)
class GlobalOptions:
    debug: bool = False


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"fedsafe {fedsafe.__version__}")
        raise typer.Exit()


@app.callback()
def main(
    ctx: typer.Context,
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_show_version,
            is_eager=True,
            help="Show fedsafe's version and exit.",
        ),
    ] = False,
    debug: Annotated[
        bool,
        typer.Option("--debug", help="Show full tracebacks when something goes wrong."),
    ] = False,
) -> None:
    ctx.obj = GlobalOptions(debug=debug)


@contextmanager
def _reporting_errors(ctx: typer.Context) -> Iterator[Console]:
    """Turn exceptions into messages for people, and exit statuses for scripts."""
    options = ctx.find_root().obj or GlobalOptions()
    console = Console(stderr=True, highlight=False)
    try:
        yield console
    except (typer.Exit, typer.Abort):
        raise
    except FedsafeError as exc:
        if options.debug:
            _print_traceback(console, exc)
        _print_error(console, str(exc))
        raise typer.Exit(EXIT_USER_ERROR) from None
    except KeyboardInterrupt:
        _print_error(console, "interrupted")
        raise typer.Exit(EXIT_INTERRUPTED) from None
    except Exception as exc:
        if options.debug:
            raise
        summary = " ".join("".join(traceback.format_exception_only(exc)).split())
        if len(summary) > 200:
            summary = summary[:197] + "..."
        _print_error(
            console,
            f"unexpected internal error ({summary}); this is probably a bug in fedsafe: "
            "run again with --debug to see the traceback",
        )
        raise typer.Exit(EXIT_INTERNAL_ERROR) from None


def _print_error(console: Console, message: str) -> None:
    console.print(Text(f"error: {message}", style="red"), soft_wrap=True)


def _print_traceback(console: Console, exc: BaseException) -> None:
    console.print(Text("".join(traceback.format_exception(exc))), soft_wrap=True)
    details = getattr(exc, "details", None)  # a definition's own traceback, from its process
    if details:
        console.print(Text("In the dataset definition's process:\n" + details), soft_wrap=True)


def parse_params(values: list[str]) -> dict[str, str]:
    """``--param NAME=VALUE`` options as a dict, refusing malformed or repeated names."""
    params: dict[str, str] = {}
    for value in values:
        name, equals, given = value.partition("=")
        name = name.strip()
        if not equals or not name or any(c.isspace() for c in name):
            raise UsageError(f"--param {value!r} is not of the form NAME=VALUE")
        if name in params:
            raise UsageError(f"--param {name} is given more than once")
        params[name] = given
    return params


DefinitionArgument = Annotated[
    Path,
    typer.Argument(
        help="The dataset definition (a .py file that assigns `dataset = create_dataset()`).",
        show_default=False,
    ),
]
ParamOption = Annotated[
    list[str] | None,
    typer.Option(
        "--param",
        metavar="NAME=VALUE",
        help="A parameter for the definition, read with get_parameter(NAME). Repeatable.",
    ),
]
ProjectDirOption = Annotated[
    Path | None,
    typer.Option(
        "--project-dir",
        help=(
            "The folder the definition runs in, so its relative paths (such as codelists/...) "
            "are read from there. Default: the current folder."
        ),
    ),
]


BackendOption = Annotated[
    Path | None,
    typer.Option("--backend", help="A backend's TOML configuration: engine, mapping, policy."),
]
app.add_typer(backend_app, name="backend")


@app.command("generate-dataset")
def generate_dataset(
    ctx: typer.Context,
    definition: DefinitionArgument,
    output: Annotated[
        Path,
        typer.Option(
            "--output",
            "-o",
            help="Where to write the dataset: .csv, .csv.gz, .arrow, .feather or .parquet.",
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
    backend: BackendOption = None,
) -> None:
    """Run a dataset definition and write one row per patient in its population."""
    with _reporting_errors(ctx) as console:
        started = time.monotonic()
        params = parse_params(param or [])
        if backend is not None:
            if dsn is not None or dummy_tables is not None:
                raise UsageError("give --backend alone, without --dsn or --dummy-tables")
            return generate_on_backend(definition, backend, output, params, project_dir, console)
        source = _choose_source(dsn, dummy_tables)

        from fedsafe.io.writers import check_output_path, write_dataset

        check_output_path(output)

        from fedsafe.engines.execute import run_dataset
        from fedsafe.loader import load_dataset_definition
        from fedsafe.query_model.nodes import tables_used

        loaded = load_dataset_definition(definition, params, project_dir=project_dir)
        backend = _open_source(source, tables_used(loaded.dataset))
        try:
            reader = run_dataset(loaded.dataset, backend)
            with Progress(
                SpinnerColumn(),
                TextColumn("[progress.description]{task.description}"),
                TextColumn("{task.completed:,} rows written"),
                TimeElapsedColumn(),
                console=console,
                transient=True,
                disable=not console.is_terminal,  # no live display in logs and pipes
            ) as progress:
                task = progress.add_task(f"writing {output}", total=None)
                rows = write_dataset(
                    reader, output, on_progress=lambda n: progress.update(task, completed=n)
                )
        finally:
            backend.disconnect()
        elapsed = time.monotonic() - started
        console.print(
            Text(f"wrote {rows:,} row{'' if rows == 1 else 's'} to {output} in {elapsed:.1f} s"),
            soft_wrap=True,
        )


@dataclass(frozen=True)
class _DummyTablesSource:
    directory: Path


def _choose_source(dsn: str | None, dummy_tables: Path | None) -> Dsn | _DummyTablesSource:
    """Exactly one data source, checked as far as possible before the definition runs."""
    if dsn is not None and dummy_tables is not None:
        raise UsageError("give either --dsn or --dummy-tables, not both")
    if dsn is None and dummy_tables is None:
        raise UsageError(
            "--dummy-tables DIR or --dsn URL is required: generating dummy data without "
            "dummy tables will come in a later release"
        )
    if dsn is not None:
        from fedsafe.backends.dsn import parse_dsn

        parsed = parse_dsn(dsn)
        if parsed.path is not None and not parsed.path.is_file():
            raise DataSourceError(f"DuckDB database {parsed.path} does not exist")
        return parsed
    assert dummy_tables is not None
    if not dummy_tables.is_dir():
        what = "is not a folder" if dummy_tables.exists() else "does not exist"
        raise DataSourceError(f"dummy tables folder {dummy_tables} {what}")
    return _DummyTablesSource(dummy_tables)


def _open_source(
    source: Dsn | _DummyTablesSource, tables: dict[str, TableNode]
) -> ibis.BaseBackend:
    if isinstance(source, _DummyTablesSource):
        from fedsafe.backends.dummy_tables import load_dummy_tables

        return load_dummy_tables(source.directory, tables)
    from fedsafe.backends.dsn import connect
    from fedsafe.backends.validate import check_tables

    backend = connect(source)
    try:
        check_tables(backend, tables, source=str(source))
    except BaseException:
        backend.disconnect()
        raise
    return backend


@app.command("dump-dataset-sql")
def dump_dataset_sql(
    ctx: typer.Context,
    definition: DefinitionArgument,
    dialect: Annotated[
        str, typer.Option("--dialect", help="The SQL dialect to write the query in.")
    ] = "duckdb",
    param: ParamOption = None,
    project_dir: ProjectDirOption = None,
    backend: BackendOption = None,
) -> None:
    """Print the SQL a dataset definition compiles to, without running it."""
    with _reporting_errors(ctx):
        from fedsafe.engines.execute import SQL_DIALECTS, dataset_sql
        from fedsafe.loader import load_dataset_definition

        params = parse_params(param or [])
        if backend is not None:
            return typer.echo(dump_sql_on_backend(definition, backend, params, project_dir))
        if dialect not in SQL_DIALECTS:
            raise UsageError(
                f"unknown SQL dialect {dialect!r}: supported are " + ", ".join(SQL_DIALECTS)
            )
        loaded = load_dataset_definition(definition, params, project_dir=project_dir)
        typer.echo(dataset_sql(loaded.dataset, dialect))
