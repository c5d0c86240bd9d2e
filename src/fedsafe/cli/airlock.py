"""``fedsafe airlock``: serve a backend's airlock, verify its audit log, retry uploads.

Run by a backend's operator inside the backend. The configuration is read and checked before
anything starts, so a bad ``config.toml`` is reported by key and nothing is served.
"""

from __future__ import annotations

import getpass
import os
from pathlib import Path
from typing import Annotated

import typer

from fedsafe.errors import FedsafeError

__all__ = ["airlock_app"]

airlock_app = typer.Typer(
    name="airlock",
    help="A backend's release review: serve it, verify its audit log, upload releases.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

BackendDir = Annotated[
    Path,
    typer.Option("--backend-dir", help="The backend folder (holds workspaces/ and airlock/)."),
]


@airlock_app.command("serve")
def serve(
    ctx: typer.Context,
    backend_dir: BackendDir,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8010,
) -> None:
    """Serve the airlock's web pages for this backend."""
    from fedsafe.cli.main import _reporting_errors

    with _reporting_errors(ctx):
        from fedsafe.airlock.config import load_config

        config = load_config(backend_dir)  # refuse a bad config before serving anything
        if not 0 < port < 65536:
            raise FedsafeError(f"--port: {port} is not a port number")
        os.environ["FEDSAFE_AIRLOCK_BACKEND_DIR"] = str(config.backend_dir)
        os.environ["DJANGO_SETTINGS_MODULE"] = "fedsafe.airlock.web.settings"
        import django
        from django.core.servers.basehttp import run
        from django.core.wsgi import get_wsgi_application

        django.setup()
        typer.echo(f"airlock for backend {config.backend} on http://{host}:{port}/", err=True)
        run(host, port, get_wsgi_application(), threading=True)


@airlock_app.command("verify-audit")
def verify_audit(ctx: typer.Context, backend_dir: BackendDir) -> None:
    """Check the audit log's hash chain in the database and in audit.jsonl."""
    from fedsafe.cli.main import _reporting_errors

    with _reporting_errors(ctx):
        from fedsafe.airlock.audit import verify_audit as verify
        from fedsafe.airlock.config import airlock_dir

        folder = airlock_dir(backend_dir.resolve())
        database = folder / "airlock.sqlite3"
        if not database.is_file():
            raise FedsafeError(f"--backend-dir: no airlock database at {database}")
        problems = verify(database, folder / "audit.jsonl")
        for problem in problems:
            typer.echo(problem)
        if problems:
            raise FedsafeError(f"the audit log has been altered ({len(problems)} problem(s) above)")
        typer.echo("audit log intact", err=True)


@airlock_app.command("release")
def release(
    ctx: typer.Context,
    backend_dir: BackendDir,
    request_id: Annotated[str, typer.Argument(help="The approved request to upload.")],
) -> None:
    """Upload an approved request's files that have not arrived yet (safe to repeat)."""
    from fedsafe.cli.main import _reporting_errors

    with _reporting_errors(ctx):
        from fedsafe.airlock.config import load_config
        from fedsafe.airlock.service import SYSTEM, Airlock

        status = Airlock(load_config(backend_dir)).release(SYSTEM, request_id)
        typer.echo(f"{request_id}: {status.value}")


@airlock_app.command("hash-password")
def hash_password(ctx: typer.Context) -> None:
    """Print a password hash for a user's ``password_hash`` in config.toml."""
    from fedsafe.cli.main import _reporting_errors

    with _reporting_errors(ctx):
        from fedsafe.airlock.config import hash_password as make

        typer.echo(make(getpass.getpass("password: ")))
