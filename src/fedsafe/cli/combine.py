"""``fedsafe combine``: combine the outputs several backends released into one answer.

A thin wrapper over :func:`fedsafe.federation.combine_released`, which the coordinator calls
directly; see ``docs/federation.md``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from fedsafe.cli.main import _reporting_errors, app


@app.command("combine")
def combine(
    ctx: typer.Context,
    released: Annotated[
        Path,
        typer.Argument(
            help="Folder of released files, one sub-folder per backend: RELEASED/<backend>/...",
            show_default=False,
        ),
    ],
    output: Annotated[
        Path,
        typer.Option(
            "--output",
            "-o",
            help="Folder to write combined results to (replaced).",
            show_default=False,
        ),
    ],
    policy_file: Annotated[
        Path | None,
        typer.Option("--policy", help="Disclosure policy for pooled tables, TOML or JSON."),
    ] = None,
) -> None:
    """Meta-analyse estimates files and pool count and measures tables across backends."""
    with _reporting_errors(ctx) as console:
        from fedsafe.cli.debugging import _load_policy
        from fedsafe.federation import combine_released

        report = combine_released(released, output, _load_policy(policy_file))
        console.print(
            f"combined {len(report.manifest['backends'])} backends into {output}: "
            f"{len(report.outputs)} outputs, {len(report.skipped)} files skipped "
            f"(see {output / 'manifest.json'})"
        )
        for skipped in report.skipped:
            console.print(f"  skipped {skipped['path']}: {skipped['reason']}")
