"""``fedsafe coordinator ...``: run the coordinator and manage its users and backends.

Every command takes ``--database URL`` (or ``FEDSAFE_COORDINATOR_DATABASE``) and brings the
database's tables up to date before doing anything else.
"""

from __future__ import annotations

import sys
import time
from typing import Annotated

import typer

__all__ = ["coordinator_app"]

coordinator_app = typer.Typer(
    help="The coordinator: web app, public jobs log and agent API.", no_args_is_help=True
)

DatabaseOption = Annotated[
    str,
    typer.Option(
        "--database",
        envvar="FEDSAFE_COORDINATOR_DATABASE",
        help="sqlite:///path or postgresql://user:password@host:port/name.",
    ),
]
DEFAULT_DB = "sqlite:///fedsafe-coordinator.sqlite3"
DataDirOption = Annotated[
    str | None,
    typer.Option(
        "--data-dir",
        envvar="FEDSAFE_COORDINATOR_DATA_DIR",
        help="Folder for released files and combined results (default: beside a SQLite "
        "database, <name>-data; else ./fedsafe-coordinator-data).",
    ),
]


def _errors(ctx: typer.Context):
    from fedsafe.cli.main import _reporting_errors

    return _reporting_errors(ctx)


@coordinator_app.command("serve")
def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port (0: any free port).")] = 8000,
    database: DatabaseOption = DEFAULT_DB,
    lease_seconds: Annotated[
        int,
        typer.Option("--lease-seconds", min=1, help="How long a lease lasts without heartbeat."),
    ] = 300,
    data_dir: DataDirOption = None,
) -> None:
    """Serve the web app, the public jobs log, the agent API and the release API."""
    with _errors(ctx):
        from fedsafe.coordinator.runtime import configure, serve

        configure(database, lease_seconds, data_dir)
        serve(host, port)


@coordinator_app.command("createuser")
def createuser(
    ctx: typer.Context,
    username: Annotated[str, typer.Argument(help="The new user's login name.")],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
    staff: Annotated[bool, typer.Option("--staff", help="May cancel anyone's requests.")] = False,
    database: DatabaseOption = DEFAULT_DB,
) -> None:
    """Create a user who can log in to the web app."""
    with _errors(ctx) as console:
        from fedsafe.coordinator.runtime import configure

        configure(database)
        from fedsafe.coordinator.users import create_user

        if password_stdin:
            password = sys.stdin.readline().rstrip("\n")
        else:
            password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
        create_user(username, password, staff=staff)
        console.print(f"created user {username}")


@coordinator_app.command("add-backend")
def add_backend(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The backend's name, e.g. north.")],
    provides: Annotated[
        str, typer.Option("--provides", help="Logical tables it provides, comma separated.")
    ] = "",
    database: DatabaseOption = DEFAULT_DB,
) -> None:
    """Register a backend and print its agent's token (shown this once; only a hash is kept)."""
    with _errors(ctx) as console:
        from fedsafe.coordinator.runtime import configure

        configure(database)
        from fedsafe.coordinator.setup_records import add_backend as add

        new = add(name, provides)
        console.print(f"added backend {new.backend.name}; its token (shown only now):")
        typer.echo(new.token)


@coordinator_app.command("issue-token")
def issue_token(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The backend's name.")],
    database: DatabaseOption = DEFAULT_DB,
) -> None:
    """Give a backend another token (e.g. after revoking a leaked one); shown this once."""
    with _errors(ctx):
        from fedsafe.coordinator.runtime import configure

        configure(database)
        from fedsafe.coordinator.setup_records import new_backend_token

        typer.echo(new_backend_token(name))


@coordinator_app.command("revoke-backend")
def revoke_backend(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The backend's name.")],
    database: DatabaseOption = DEFAULT_DB,
) -> None:
    """Revoke every token of a backend; its agent is refused from now on."""
    with _errors(ctx) as console:
        from fedsafe.coordinator.runtime import configure

        configure(database)
        from fedsafe.coordinator.setup_records import revoke_backend_tokens

        count = revoke_backend_tokens(name)
        console.print(f"revoked {count} token{'' if count == 1 else 's'} of {name}")


@coordinator_app.command("run-schedules")
def run_schedules(
    ctx: typer.Context,
    once: Annotated[bool, typer.Option("--once", help="Fire what is due now, then stop.")] = False,
    interval: Annotated[int, typer.Option("--interval", min=1, help="Seconds between looks.")] = 30,
    database: DatabaseOption = DEFAULT_DB,
    data_dir: DataDirOption = None,
) -> None:
    """Create job requests for schedules whose time has come (and expire stale leases), and
    combine any completed releases that were not combined yet."""
    with _errors(ctx) as console:
        from fedsafe.coordinator.runtime import configure

        configure(database, data_dir=data_dir)
        from django.utils import timezone

        from fedsafe.coordinator.combining import combine_pending
        from fedsafe.coordinator.leases import expire_leases
        from fedsafe.coordinator.schedules import run_due_schedules

        while True:
            now = timezone.now()
            expire_leases(now)
            for firing in run_due_schedules(now):
                if firing.error:
                    console.print(f"schedule {firing.schedule_id}: {firing.error}")
                else:
                    console.print(f"schedule {firing.schedule_id}: request {firing.request_id}")
            for run in combine_pending():
                console.print(f"combine {run.pk} ({run.action or 'no action'}): {run.state}")
            if once:
                return
            time.sleep(interval)


@coordinator_app.command("issue-user-token")
def issue_user_token(
    ctx: typer.Context,
    username: Annotated[str, typer.Argument(help="The user who gets an API token.")],
    database: DatabaseOption = DEFAULT_DB,
) -> None:
    """Give a person an API token for the TES and crate APIs; shown this once."""
    with _errors(ctx):
        from fedsafe.coordinator.runtime import configure

        configure(database)
        from fedsafe.coordinator.user_tokens import issue_user_token as issue

        typer.echo(issue(username))


@coordinator_app.command("create-linkage")
def create_linkage(
    ctx: typer.Context,
    project: Annotated[str, typer.Option("--project", help="The project it is for.")],
    requester: Annotated[
        str, typer.Option("--requester", help="The backend whose jobs receive the rows (A).")
    ],
    provider: Annotated[str, typer.Option("--provider", help="The backend that sends them (B).")],
    table: Annotated[
        list[str],
        typer.Option("--table", help="TABLE=COLUMN,COLUMN,... (repeat for each table)."),
    ],
    finest_dates: Annotated[
        str, typer.Option("--finest-dates", help="The finest date precision: day, month, year.")
    ],
    expires: Annotated[
        str, typer.Option("--expires", help="When it expires, e.g. 2027-01-01T00:00:00+00:00.")
    ],
    start: Annotated[
        str | None, typer.Option("--start", help="First date covered (YYYY-MM-DD).")
    ] = None,
    end: Annotated[
        str | None, typer.Option("--end", help="Last date covered (YYYY-MM-DD).")
    ] = None,
    database: DatabaseOption = DEFAULT_DB,
) -> None:
    """Record a linkage permission; it is usable once both data controllers grant it."""
    import datetime

    with _errors(ctx) as console:
        from fedsafe.coordinator.errors import FieldError

        try:
            expires_at = datetime.datetime.fromisoformat(expires)
            dates = (
                None
                if start is None and end is None
                else (
                    datetime.date.fromisoformat(start or ""),
                    datetime.date.fromisoformat(end or ""),
                )
            )
        except ValueError as exc:
            raise FieldError("dates", f"{exc} (give --start and --end together)") from None
        from fedsafe.coordinator.runtime import configure

        configure(database)
        from fedsafe.coordinator.linkage_permissions import create_permission, parse_tables

        permission = create_permission(
            project=project,
            requester=requester,
            provider=provider,
            tables=parse_tables(table),
            finest_dates=finest_dates,
            expires_at=expires_at,
            date_range=dates,
        )
        console.print(
            f"created linkage permission {permission.pk}; both {requester} and {provider} "
            "must grant it (fedsafe coordinator grant-linkage)"
        )


@coordinator_app.command("grant-linkage")
def grant_linkage(
    ctx: typer.Context,
    permission: Annotated[int, typer.Argument(help="The permission's number.")],
    backend: Annotated[str, typer.Option("--backend", help="The backend the controller controls.")],
    granted_by: Annotated[str, typer.Option("--by", help="The data controller's name.")],
    database: DatabaseOption = DEFAULT_DB,
) -> None:
    """Record one data controller's grant of a linkage permission."""
    with _errors(ctx) as console:
        from fedsafe.coordinator.runtime import configure

        configure(database)
        from django.utils import timezone

        from fedsafe.coordinator.linkage_permissions import grant_permission

        grant = grant_permission(permission, backend, granted_by)
        state = "active" if grant.permission.active_at(timezone.now()) else "not yet active"
        console.print(f"{backend} granted linkage permission {permission}; it is {state}")


@coordinator_app.command("revoke-linkage")
def revoke_linkage(
    ctx: typer.Context,
    permission: Annotated[int, typer.Argument(help="The permission's number.")],
    reason: Annotated[str, typer.Option("--reason", help="Why, for the audit log.")],
    database: DatabaseOption = DEFAULT_DB,
) -> None:
    """Revoke a linkage permission: no new request is checked against it."""
    with _errors(ctx) as console:
        from fedsafe.coordinator.runtime import configure

        configure(database)
        from fedsafe.coordinator.linkage_permissions import revoke_permission

        revoke_permission(permission, reason)
        console.print(f"revoked linkage permission {permission}")
