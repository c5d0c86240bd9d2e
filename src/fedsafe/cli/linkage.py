"""``fedsafe linkage``: the operator's commands for a backend's linkage.

``new-secret`` writes a linkage secret (give the same file to the other backend's operator by a
channel the coordinator is not part of); ``verify-log`` checks a backend's linkage audit log
(its hash chain, and that every transfer has a deletion after it); ``sweep`` is the watchdog:
it destroys every job's linked data whose owner process is gone or whose lifetime has ended,
and records each deletion.
"""

from __future__ import annotations

import datetime
import os
from pathlib import Path
from typing import Annotated

import typer

__all__ = ["linkage_app"]

linkage_app = typer.Typer(
    name="linkage",
    help="Per-job linkage between backends: secrets, the watchdog, audit checks.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@linkage_app.command("new-secret")
def new_secret(path: Annotated[Path, typer.Argument(help="Where to write the secret.")]) -> None:
    """Write a new random linkage secret, readable by its owner only."""
    from fedsafe.linkage.keys import LinkageSecret

    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        typer.echo(f"{path} exists; a secret is never overwritten (remove it first)", err=True)
        raise typer.Exit(1) from None
    with os.fdopen(descriptor, "w") as file:
        file.write(LinkageSecret.generate().to_hex() + "\n")
    typer.echo(f"wrote a new linkage secret to {path} (mode 600)")


@linkage_app.command("verify-log")
def verify_log_command(
    log: Annotated[Path, typer.Argument(help="A backend's linkage audit log (JSON lines).")],
) -> None:
    """Check the log's hash chain and that every transfer has a deletion after it."""
    from fedsafe.linkage.audit import verify_log

    if not log.is_file():
        typer.echo(f"{log} does not exist", err=True)
        raise typer.Exit(1)
    problems = verify_log(log)
    if problems:
        typer.echo(f"{log}: {len(problems)} problems", err=True)
        for problem in problems:
            typer.echo(f"  {problem}", err=True)
        raise typer.Exit(1)
    typer.echo(f"{log}: intact; every transfer has a deletion after it")


@linkage_app.command("sweep")
def sweep_command(
    vault: Annotated[Path, typer.Argument(help="The folder holding jobs' linked-data stores.")],
    audit_log: Annotated[Path, typer.Option("--audit-log", help="Where deletions are recorded.")],
    backend: Annotated[str, typer.Option("--backend", help="This backend's name.")],
) -> None:
    """The watchdog: destroy stores whose job is gone or expired, recording each deletion."""
    from fedsafe.linkage.audit import LinkageAudit
    from fedsafe.linkage.vault import sweep

    audit = LinkageAudit(audit_log, backend)
    removed = sweep(vault, datetime.datetime.now(datetime.UTC), audit.deleted)
    for deletion in removed:
        typer.echo(f"deleted job {deletion.job_id}'s linked data ({deletion.reason})")
    typer.echo(f"{len(removed)} stores removed")
