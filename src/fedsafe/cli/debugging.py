"""``fedsafe test-definition`` and ``fedsafe report-dataset``: debugging without seeing data.

Kept out of ``cli/main.py`` (which only registers them) so the commands and their options live
next to each other. Exit status: 0 when every test patient passes, 1 when some fail (as pytest
does, so CI treats it as a failed test), 2 for input errors.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

__all__ = ["EXIT_TESTS_FAILED", "test_definition"]

EXIT_TESTS_FAILED = 1


def test_definition(
    ctx: typer.Context,
    definition: Annotated[Path, typer.Argument(help="The dataset definition (.py).")],
    test_data: Annotated[
        Path | None,
        typer.Option(
            "--test-data",
            help=(
                "YAML or JSON file of test patients (default: the definition's test_data, and "
                "<definition>.test_data.yaml beside it if there is one)."
            ),
        ),
    ] = None,
    verbose: Annotated[
        bool,
        typer.Option("--verbose", "-v", help="Show every patient, not only failures."),
    ] = False,
) -> None:
    """Run a dataset definition on hand-made test patients and say what differed."""
    from fedsafe.assurance import test_definition as run_tests
    from fedsafe.cli.main import _reporting_errors

    with _reporting_errors(ctx):
        report = run_tests(definition, test_data_file=test_data)
    typer.echo(report.text(verbose=verbose))
    if not report.passed:
        raise typer.Exit(EXIT_TESTS_FAILED)


test_definition.__test__ = False  # type: ignore[attr-defined]
