"""``fedsafe agent run``: a backend's agent, pulling jobs from the coordinator.

The token comes from ``FEDSAFE_AGENT_TOKEN`` or ``--token-file``, never from the command line,
where any user of the machine could read it in the process list.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

__all__ = ["agent_app"]

agent_app = typer.Typer(help="A backend's agent: runs the coordinator's jobs next to the data.")

TOKEN_ENV = "FEDSAFE_AGENT_TOKEN"


@agent_app.callback()
def _group() -> None:
    """A backend's agent: runs the coordinator's jobs next to the data."""


@agent_app.command("run")
def run(
    ctx: typer.Context,
    backend: Annotated[
        Path, typer.Option("--backend", help="The backend's TOML configuration (see [agent]).")
    ],
    coordinator: Annotated[
        str, typer.Option("--coordinator", help="The coordinator's URL, e.g. https://fed.example.")
    ],
    token_file: Annotated[
        Path | None,
        typer.Option(
            "--token-file",
            help=f"A file holding the backend's token (default: the {TOKEN_ENV} variable).",
        ),
    ] = None,
    once: Annotated[
        bool, typer.Option("--once", help="Stop when there is no more work (tests, demos).")
    ] = False,
    poll_seconds: Annotated[
        float, typer.Option("--poll-seconds", min=0.1, help="Pause between polls when idle.")
    ] = 10.0,
    heartbeat_seconds: Annotated[
        float,
        typer.Option("--heartbeat-seconds", min=0.1, help="Pause between heartbeats of a job."),
    ] = 10.0,
) -> None:
    """Declare the backend's tables, then lease, run and report jobs."""
    from fedsafe.cli.main import _reporting_errors
    from fedsafe.errors import FedsafeError

    with _reporting_errors(ctx):
        from fedsafe.agent.client import AgentClient
        from fedsafe.agent.loop import Agent
        from fedsafe.backends.config import load_config

        if token_file is not None:
            try:
                token = token_file.read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise FedsafeError(f"cannot read --token-file {token_file}: {exc}") from None
        else:
            token = os.environ.get(TOKEN_ENV, "").strip()
        if not token:
            raise FedsafeError(
                f"no token: set {TOKEN_ENV} or give --token-file with the backend's token"
            )
        if not coordinator.startswith(("http://", "https://")):
            raise FedsafeError(f"--coordinator {coordinator!r} must start with http(s)://")
        config = load_config(backend.resolve())
        client = AgentClient(coordinator, token)
        try:
            Agent(config, client, poll_seconds, heartbeat_seconds).run(once=once)
        finally:
            client.close()
