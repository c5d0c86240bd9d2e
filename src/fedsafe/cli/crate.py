"""``fedsafe crate show FILE``: a readable summary of a Five Safes RO-Crate (BagIt zip)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated

import typer

__all__ = ["crate_app"]

crate_app = typer.Typer(name="crate", help="Five Safes RO-Crates.", no_args_is_help=True)


@crate_app.command("show")
def show(
    ctx: typer.Context,
    file: Annotated[
        Path, typer.Argument(help="A crate: a BagIt zip.", exists=True, dir_okay=False)
    ],
) -> None:
    """Check the crate's checksums and print who asked for what, what ran, who checked it and
    what was released."""
    from fedsafe.cli.main import _reporting_errors

    with _reporting_errors(ctx):
        from fedsafe.provenance.bag import open_bag
        from fedsafe.provenance.summary import summarise

        with tempfile.TemporaryDirectory() as tmp:
            bag = open_bag(file.read_bytes(), Path(tmp))
        typer.echo(summarise(bag))
