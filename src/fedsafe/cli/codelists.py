"""``fedsafe codelists check`` and ``fedsafe codelists add FILE``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.text import Text

from fedsafe.cli.main import _reporting_errors, app

__all__ = ["codelists_app"]

codelists_app = typer.Typer(
    name="codelists", help="Check and record the project's codelists.", no_args_is_help=True
)
app.add_typer(codelists_app)

ProjectDir = Annotated[
    Path, typer.Option("--project-dir", help="The project's folder (holding codelists/).")
]


@codelists_app.command("check")
def check(ctx: typer.Context, project_dir: ProjectDir = Path(".")) -> None:
    """Check that each listed codelist exists, parses, has valid codes and is unchanged."""
    with _reporting_errors(ctx) as console:
        from fedsafe.codelists.check import check_codelists

        checked = check_codelists(project_dir)
        for item in checked:
            console.print(
                Text(f"ok: {item.file} ({item.codes} {item.system} codes)", style="green"),
                soft_wrap=True,
            )
        console.print(f"{len(checked)} codelist{'' if len(checked) == 1 else 's'} checked")


@codelists_app.command("add")
def add(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="The codelist CSV to record.", show_default=False)],
    system: Annotated[
        str | None,
        typer.Option("--system", help="Its coding system (snomedct, dmd, icd10, ctv3, ...)."),
    ] = None,
    column: Annotated[
        str | None, typer.Option("--column", help="The column holding the codes.")
    ] = None,
    project_dir: ProjectDir = Path("."),
) -> None:
    """Record a local codelist CSV in codelists.txt and codelists.json (copying it in)."""
    with _reporting_errors(ctx) as console:
        from fedsafe.codelists.add import add_codelist

        record = add_codelist(project_dir, file, system=system, column=column)
        console.print(
            f"recorded codelists/{record.file}: {record.codes} {record.system} codes "
            f"in column {record.column!r}",
            soft_wrap=True,
        )
