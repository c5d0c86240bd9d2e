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
from typing import TYPE_CHECKING, Annotated, Any

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


USER_ARGS = {"allow_extra_args": True}
"""Arguments after ``--`` are the definition's own: they become its ``sys.argv[1:]``."""

SeedOption = Annotated[
    int,
    typer.Option(
        "--seed",
        help="Dummy data only: the random seed. The same definition and seed give the same data.",
    ),
]
BackendOption = Annotated[
    Path | None,
    typer.Option("--backend", help="A backend's TOML configuration: engine, mapping, policy."),
]
app.add_typer(backend_app, name="backend")


@app.command("generate-dataset", context_settings=USER_ARGS)
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
    dummy_data_file: Annotated[
        Path | None,
        typer.Option(
            "--dummy-data-file",
            help=(
                "Your own dummy dataset (.csv, .csv.gz, .parquet, .arrow): checked against the "
                "definition's columns and types, then written to --output."
            ),
        ),
    ] = None,
    dummy_profile: Annotated[
        Path | None,
        typer.Option(
            "--dummy-profile",
            help="A backend's released profile (from `fedsafe backend profile`) for dummy data "
            "to follow.",
        ),
    ] = None,
    seed: SeedOption = 0,
    param: ParamOption = None,
    project_dir: ProjectDirOption = None,
    backend: BackendOption = None,
    project: Annotated[
        str | None,
        typer.Option(
            "--project",
            help="With --backend: the project this job is for; the permissions the backend's "
            "configuration grants it decide which restricted tables it may read.",
        ),
    ] = None,
) -> None:
    """Run a dataset definition and write one row per patient in its population.

    With no data source (--dsn or --dummy-tables), writes dummy data: tables are generated to
    suit the definition and its own query runs on them. Arguments after -- go to the
    definition, which reads them with argparse.
    """
    with _reporting_errors(ctx) as console:
        started = time.monotonic()
        params = parse_params(param or [])
        if backend is not None:
            others = [dsn, dummy_tables, dummy_data_file, dummy_profile]
            if any(o is not None for o in others):
                raise UsageError(
                    "give --backend alone, without --dsn, --dummy-tables, --dummy-data-file or "
                    "--dummy-profile"
                )
            return generate_on_backend(
                definition,
                backend,
                output,
                params,
                project_dir,
                console,
                user_args=ctx.args,
                project=project,
            )
        if project is not None:
            raise UsageError("--project names a project's grants on a backend: give --backend")
        source = _choose_source(dsn, dummy_tables, dummy_data_file, dummy_profile)

        from fedsafe.io.writers import check_output_path, write_dataset

        check_output_path(output)

        from fedsafe.loader import load_dataset_definition

        loaded = load_dataset_definition(
            definition, params, user_args=ctx.args, project_dir=project_dir
        )
        if source is None or isinstance(source, Path | _DummyTablesSource):
            from fedsafe.cli.permissions import warn_unclaimed

            warn_unclaimed(loaded, console)
        if source is None or isinstance(source, Path):
            from fedsafe.cli import dummy

            if source is None:
                table = dummy.generated_dummy_dataset(
                    loaded, console, seed=seed, profile=dummy_profile
                )
            else:
                table = dummy.dataset_from_file(loaded, source)
            reader = table.to_reader()
            rows = write_dataset(reader, output)
        else:
            rows = _run_on_source(loaded.dataset, source, output, console)
        elapsed = time.monotonic() - started
        console.print(
            Text(f"wrote {rows:,} row{'' if rows == 1 else 's'} to {output} in {elapsed:.1f} s"),
            soft_wrap=True,
        )


def _run_on_source(
    dataset: Any, source: Dsn | _DummyTablesSource, output: Path, console: Console
) -> int:
    from fedsafe.engines.execute import run_dataset
    from fedsafe.io.writers import write_dataset
    from fedsafe.query_model.nodes import tables_used

    backend = _open_source(source, tables_used(dataset))
    try:
        reader = run_dataset(dataset, backend)
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
            return write_dataset(
                reader, output, on_progress=lambda n: progress.update(task, completed=n)
            )
    finally:
        backend.disconnect()


@dataclass(frozen=True)
class _DummyTablesSource:
    directory: Path


def _choose_source(
    dsn: str | None,
    dummy_tables: Path | None,
    dummy_data_file: Path | None = None,
    dummy_profile: Path | None = None,
) -> Dsn | _DummyTablesSource | Path | None:
    """At most one data source, checked as far as possible before the definition runs.

    None means generated dummy data; a bare Path is a researcher's own dummy dataset file.
    """
    given = [
        name
        for name, value in (
            ("--dsn", dsn),
            ("--dummy-tables", dummy_tables),
            ("--dummy-data-file", dummy_data_file),
        )
        if value is not None
    ]
    if len(given) > 1:
        raise UsageError(f"give only one of {' and '.join(given)}")
    if dummy_profile is not None and given:
        raise UsageError(
            f"--dummy-profile steers generated dummy data, so it cannot be used with {given[0]}"
        )
    if dummy_profile is not None and not dummy_profile.is_file():
        raise DataSourceError(f"dummy data profile {dummy_profile} does not exist")
    if dsn is not None:
        from fedsafe.backends.dsn import parse_dsn

        parsed = parse_dsn(dsn)
        if parsed.path is not None and not parsed.path.is_file():
            raise DataSourceError(f"DuckDB database {parsed.path} does not exist")
        return parsed
    if dummy_tables is not None:
        if not dummy_tables.is_dir():
            what = "is not a folder" if dummy_tables.exists() else "does not exist"
            raise DataSourceError(f"dummy tables folder {dummy_tables} {what}")
        return _DummyTablesSource(dummy_tables)
    if dummy_data_file is not None and not dummy_data_file.is_file():
        raise DataSourceError(f"dummy data file {dummy_data_file} does not exist")
    return dummy_data_file


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


@app.command("dump-dataset-sql", context_settings=USER_ARGS)
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
    """Print the SQL a dataset definition compiles to, without running it.

    Arguments after -- go to the definition, which reads them with argparse.
    """
    with _reporting_errors(ctx):
        from fedsafe.engines.execute import SQL_DIALECTS, dataset_sql
        from fedsafe.loader import load_dataset_definition

        params = parse_params(param or [])
        if backend is not None:
            sql = dump_sql_on_backend(definition, backend, params, project_dir, user_args=ctx.args)
            return typer.echo(sql)
        if dialect not in SQL_DIALECTS:
            raise UsageError(
                f"unknown SQL dialect {dialect!r}: supported are " + ", ".join(SQL_DIALECTS)
            )
        loaded = load_dataset_definition(
            definition, params, user_args=ctx.args, project_dir=project_dir
        )
        typer.echo(dataset_sql(loaded.dataset, dialect))


@app.command("create-dummy-tables", context_settings=USER_ARGS)
def create_dummy_tables(
    ctx: typer.Context,
    definition: DefinitionArgument,
    directory: Annotated[
        Path,
        typer.Argument(
            help="Folder to write one CSV per table into (created if missing).",
            show_default=False,
        ),
    ],
    dummy_profile: Annotated[
        Path | None,
        typer.Option("--dummy-profile", help="A backend's released profile to follow."),
    ] = None,
    seed: SeedOption = 0,
    param: ParamOption = None,
    project_dir: ProjectDirOption = None,
) -> None:
    """Write the dummy tables a definition's dummy data comes from, as CSV files to edit.

    Run the definition on them (or on your edited copies) with --dummy-tables DIR. Arguments
    after -- go to the definition, which reads them with argparse.
    """
    with _reporting_errors(ctx) as console:
        from fedsafe.cli import dummy
        from fedsafe.dummy_data import generate_dummy_tables
        from fedsafe.dummy_data.settings import DummyDataSettings
        from fedsafe.loader import load_dataset_definition

        params = parse_params(param or [])
        if directory.exists() and not directory.is_dir():
            raise UsageError(f"{directory} exists and is not a folder")
        if dummy_profile is not None and not dummy_profile.is_file():
            raise DataSourceError(f"dummy data profile {dummy_profile} does not exist")
        from fedsafe.cli.permissions import warn_unclaimed

        loaded = load_dataset_definition(
            definition, params, user_args=ctx.args, project_dir=project_dir
        )
        warn_unclaimed(loaded, console)
        settings = DummyDataSettings.from_config(loaded.dummy_data_config)
        tables = generate_dummy_tables(
            loaded.dataset,
            population_size=settings.population_size,
            seed=seed,
            timeout=settings.timeout,
            additional_population_constraint=settings.additional_population_constraint,
            priors=dummy._priors(dummy_profile),
        )
        written = dummy.write_dummy_tables(dict(tables.tables), directory)
        console.print(
            Text(
                f"wrote {len(written)} dummy tables for {tables.population_size:,} patients to "
                f"{directory}: " + ", ".join(p.name for p in written)
            ),
            soft_wrap=True,
        )


# Commands kept in modules of their own join ``app`` here, once it exists.
from fedsafe.cli import codelists, pipeline  # noqa: E402, F401 - they register themselves
from fedsafe.cli import combine as _combine  # noqa: E402, F401
from fedsafe.cli import measures as _measures  # noqa: E402, F401
from fedsafe.cli import quality as _quality  # noqa: E402, F401 - joins `fedsafe backend`
from fedsafe.cli.airlock import airlock_app  # noqa: E402
from fedsafe.cli.cohort import cohort_app  # noqa: E402
from fedsafe.cli.coordinator import coordinator_app  # noqa: E402
from fedsafe.cli.debugging import report_dataset, test_definition  # noqa: E402
from fedsafe.cli.disclosure import check_outputs  # noqa: E402

app.command("check-outputs")(check_outputs)
app.command("test-definition")(test_definition)
app.command("report-dataset")(report_dataset)
app.add_typer(airlock_app)
app.add_typer(cohort_app)
app.add_typer(coordinator_app, name="coordinator")
from fedsafe.cli.crate import crate_app  # noqa: E402

app.add_typer(crate_app)
from fedsafe.cli.linkage import linkage_app  # noqa: E402

app.add_typer(linkage_app)
from fedsafe.cli.agent import agent_app  # noqa: E402

app.add_typer(agent_app, name="agent")
from fedsafe.cli import cohort_submit as _cohort_submit  # noqa: E402, F401 - joins `fedsafe cohort`
