"""``fedsafe backend ...`` and running definitions on a configured backend (``--backend``).

Kept apart from ``main.py`` so that the backend commands grow here without touching the rest
of the command line: ``main.py`` registers the group and routes ``--backend`` here.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

__all__ = ["backend_app", "dump_sql_on_backend", "generate_on_backend"]

backend_app = typer.Typer(
    help="Check and use a backend: an engine, a table mapping and a disclosure policy.",
    no_args_is_help=True,
)

ConfigArgument = Annotated[
    Path, typer.Argument(help="The backend's TOML configuration file.", show_default=False)
]


@backend_app.command("check")
def check(ctx: typer.Context, config: ConfigArgument) -> None:
    """Connect and report, table by table and column by column, what is present or missing."""
    from fedsafe.cli.main import EXIT_USER_ERROR, _reporting_errors

    with _reporting_errors(ctx) as console:
        from fedsafe.backends.backend import Backend
        from fedsafe.backends.config import load_config, redact

        backend = Backend(load_config(config))
        con = backend.connect()
        try:
            report = backend.check(con)
        finally:
            con.disconnect()
        out = Console(highlight=False)
        out.print(
            f"backend {backend.config.name}: {redact(backend.config.engine.url)} "
            f"({backend.config.mapping} mapping; provides {', '.join(backend.config.tables)})"
        )
        table = Table("table", "column", "status", "detail")
        for line in report:
            style = "green" if line.ok else "red"
            table.add_row(
                line.table, line.column or "", Text(line.status, style=style), line.detail
            )
        out.print(table)
        problems = sum(1 for line in report if not line.ok)
        if problems:
            console.print(Text(f"error: {problems} problem(s) found", style="red"))
            raise typer.Exit(EXIT_USER_ERROR)
        console.print("all tables and columns present")


@backend_app.command("tables")
def tables(ctx: typer.Context, config: ConfigArgument) -> None:
    """List the logical tables and columns this backend provides (from its configuration and
    mapping, without connecting; `fedsafe backend check` confirms the database holds them)."""
    from fedsafe.cli.main import _reporting_errors

    with _reporting_errors(ctx):
        from fedsafe.backends.backend import Backend
        from fedsafe.backends.config import load_config
        from fedsafe.backends.mappings.native import kind_of, logical_schema

        backend = Backend(load_config(config))
        out = Console(highlight=False)
        out.print(f"backend {backend.config.name} ({backend.config.mapping} mapping)")
        listing = Table("table", "column", "type")
        for name in backend.config.tables:
            schema = logical_schema(name)
            for column in schema.columns:
                listing.add_row(name, column.name, kind_of(column.type))
        out.print(listing)


def generate_on_backend(
    definition: Path,
    config: Path,
    output: Path,
    params: dict[str, str],
    project_dir: Path | None,
    console: Console,
    *,
    user_args: list[str] | tuple[str, ...] = (),
    project: str | None = None,
) -> None:
    """``generate-dataset --backend``: check everything, then run and write the dataset.

    ``project`` names the project the job is for: its grants in the backend's ``[permissions]``
    table decide which restricted tables it may read."""
    from fedsafe.backends.backend import Backend
    from fedsafe.backends.config import load_config
    from fedsafe.io.writers import check_output_path, write_dataset
    from fedsafe.loader import load_dataset_definition

    started = time.monotonic()
    backend = Backend(load_config(config))
    check_output_path(output)
    loaded = load_dataset_definition(
        definition, params, user_args=user_args, project_dir=project_dir
    )
    con, reader = backend.run(loaded.dataset, project=project)
    try:
        rows = write_dataset(reader, output)
    finally:
        con.disconnect()
    elapsed = time.monotonic() - started
    console.print(
        Text(
            f"wrote {rows:,} row{'' if rows == 1 else 's'} to {output} in {elapsed:.1f} s "
            f"on backend {backend.config.name}"
        ),
        soft_wrap=True,
    )


def dump_sql_on_backend(
    definition: Path,
    config: Path,
    params: dict[str, str],
    project_dir: Path | None,
    *,
    user_args: list[str] | tuple[str, ...] = (),
) -> str:
    """``dump-dataset-sql --backend``: the SQL the backend would run, without connecting."""
    from fedsafe.backends.backend import Backend
    from fedsafe.backends.config import load_config
    from fedsafe.loader import load_dataset_definition

    backend = Backend(load_config(config))
    loaded = load_dataset_definition(
        definition, params, user_args=user_args, project_dir=project_dir
    )
    return backend.sql(loaded.dataset)


@backend_app.command("profile")
def profile(
    ctx: typer.Context,
    config: ConfigArgument,
    output: Annotated[
        Path,
        typer.Option(
            "--output", "-o", help="Where to write the profile (JSON).", show_default=False
        ),
    ],
) -> None:
    """Summarise the backend's tables for dummy data to follow, safe to release.

    Every count is suppressed and rounded with the backend's policy; rare codes are left out;
    quantiles leave out the extremes. See docs/dummy-data.md.
    """
    from fedsafe.cli.main import UsageError, _reporting_errors

    with _reporting_errors(ctx) as console:
        from fedsafe.backends.backend import Backend
        from fedsafe.backends.config import load_config
        from fedsafe.cli.quality import core_tables
        from fedsafe.dummy_data.profile import compute_profile

        if output.is_dir():
            raise UsageError(f"--output {output} is a folder, not a file")
        if output.suffix != ".json":
            raise UsageError(f"--output {output}: a profile is written as a .json file")
        backend = Backend(load_config(config))
        policy = backend.config.policy
        tables = {n: t for n, t in core_tables().items() if n in backend.config.tables}
        con = backend.connect(list(tables))
        try:
            found = compute_profile(
                lambda name: backend.mapping.load(con, name),
                tables,
                policy,
                name=backend.config.name,
            )
        finally:
            con.disconnect()
        output.parent.mkdir(parents=True, exist_ok=True)
        temporary = output.with_name(output.name + ".partial")
        temporary.write_text(found.to_json())
        temporary.replace(output)
        console.print(
            Text(f"wrote the profile of backend {backend.config.name} to {output}"),
            soft_wrap=True,
        )
