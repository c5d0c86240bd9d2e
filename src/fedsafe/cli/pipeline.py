"""``fedsafe run``, ``fedsafe check`` and ``fedsafe init``: working with a project's pipeline.

They register themselves on the main app when ``fedsafe.cli.main`` imports this module, so
main.py needs one line for them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from fedsafe.cli.main import _reporting_errors, app
from fedsafe.pipeline.errors import ActionFailed

__all__ = ["check", "init", "run"]

ProjectDir = Annotated[
    Path,
    typer.Option("--project-dir", help="The project's folder (holding project.yaml)."),
]

_STYLES = {"succeeded": "green", "skipped": "cyan", "failed": "red", "not run": "yellow"}


class _ProgressReporter:
    """Shows the action running now, and a line for each as it finishes."""

    def __init__(self, console: Console, progress: Progress) -> None:
        self.console = console
        self.progress = progress
        self.task: object = None

    def starting(self, name: str) -> None:
        self.task = self.progress.add_task(f"running {name}", total=None)

    def finished(self, outcome: object) -> None:
        from fedsafe.pipeline.runner import Outcome

        assert isinstance(outcome, Outcome)
        if self.task is not None:
            self.progress.remove_task(self.task)  # type: ignore[arg-type]
            self.task = None
        style = _STYLES[outcome.status]
        line = Text(f"{outcome.name}: ")
        line.append(outcome.status, style=style)
        if outcome.message:
            line.append(f" ({outcome.message})")
        self.progress.console.print(line, soft_wrap=True)
        for warning in outcome.warnings:
            self.progress.console.print(
                Text(f"  warning: {warning}", style="yellow"), soft_wrap=True
            )


@app.command("run")
def run(
    ctx: typer.Context,
    actions: Annotated[
        list[str],
        typer.Argument(
            help="The actions to run (and what they need), or 'all'.", show_default=False
        ),
    ],
    force_run_dependencies: Annotated[
        bool,
        typer.Option(
            "--force-run-dependencies",
            "-f",
            help="Run every action involved again, even those whose code and inputs are unchanged.",
        ),
    ] = False,
    continue_on_error: Annotated[
        bool,
        typer.Option(
            "--continue-on-error",
            help="After a failure, still run the actions that do not depend on the failed one.",
        ),
    ] = False,
    project_dir: ProjectDir = Path("."),
) -> None:
    """Run actions from project.yaml on this machine, on dummy data."""
    with _reporting_errors(ctx) as console:
        from fedsafe.pipeline.runner import run_project

        with Progress(
            SpinnerColumn(),
            TextColumn("[progress.description]{task.description}"),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        ) as progress:
            summary = run_project(
                project_dir,
                list(actions),
                force_run_dependencies=force_run_dependencies,
                continue_on_error=continue_on_error,
                reporter=_ProgressReporter(console, progress),
            )
        table = Table(title="fedsafe run", title_justify="left")
        for column in ("action", "status", "time", "outputs"):
            table.add_column(column)
        table.add_column("log", overflow="fold")
        for outcome in summary.outcomes:
            table.add_row(
                outcome.name,
                Text(outcome.status, style=_STYLES[outcome.status]),
                f"{outcome.seconds:.1f} s" if outcome.status in ("succeeded", "failed") else "",
                str(outcome.outputs) if outcome.outputs else "",
                outcome.log_path or "",
            )
        console.print(table)
        if summary.failed:
            lines = [
                f"action {o.name!r} failed ({o.message}); its log is "
                f"{Path(project_dir) / (o.log_path or '')}"
                for o in summary.failed
            ]
            raise ActionFailed("\n".join(lines))


@app.command("check")
def check(
    ctx: typer.Context,
    project_dir: ProjectDir = Path("."),
    backend: Annotated[
        list[Path] | None,
        typer.Option(
            "--backend",
            help="A backend's TOML configuration (repeatable): also report, per backend, any "
            "table or column an action reads that the backend does not provide.",
        ),
    ] = None,
) -> None:
    """Check a whole project: project.yaml, that each dataset definition loads, codelists."""
    with _reporting_errors(ctx) as console:
        from fedsafe.pipeline.check import check_project

        for line in check_project(project_dir, backend or ()):
            console.print(Text(line, style="green"), soft_wrap=True)


@app.command("init")
def init(
    ctx: typer.Context,
    directory: Annotated[
        Path, typer.Argument(help="Where to create the study (default: here).")
    ] = Path("."),
) -> None:
    """Create a small working example study: definition, codelist, analysis, project.yaml."""
    with _reporting_errors(ctx) as console:
        from fedsafe.pipeline.scaffold import init_project

        written = init_project(directory)
        console.print(f"created an example study in {directory}:", soft_wrap=True)
        for name in written:
            console.print(f"  {name}", soft_wrap=True)
        where = "" if directory == Path(".") else f"cd {directory} && "
        console.print(f"next: {where}fedsafe run all", soft_wrap=True)
