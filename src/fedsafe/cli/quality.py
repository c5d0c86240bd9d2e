"""``fedsafe backend report``: per-table data-quality metrics of a backend's database.

Run by (or for) a backend operator; writes protected tables that could be released. Only
``--dsn`` is taken for now: backend configuration files (engine, table mapping, policy in one
place) are not built yet, and when they are this command should take one instead.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from fedsafe.cli.backend import backend_app

__all__ = ["core_tables"]


def core_tables() -> dict:
    """The core schema's tables by name, as query model table nodes."""
    from fedsafe.query_model import nodes as qm
    from fedsafe.tables import core

    found = {}
    for name in dir(core):
        node = getattr(getattr(core, name), "_node", None)
        if isinstance(node, qm.SelectTable | qm.SelectPatientTable) and node.name == name:
            found[name] = node
    return found


@backend_app.command("report")
def backend_report(
    ctx: typer.Context,
    dsn: Annotated[str, typer.Option("--dsn", help="The database URL, e.g. duckdb:///data.duckdb")],
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Folder to write the metric tables into.")
    ] = Path("backend_report"),
    tables: Annotated[
        str | None,
        typer.Option(
            "--tables",
            help="Comma-separated core tables to report (default: every core table present).",
        ),
    ] = None,
    policy_file: Annotated[
        Path | None,
        typer.Option("--policy", help="Disclosure policy, TOML or JSON (as for report-dataset)."),
    ] = None,
) -> None:
    """Per-table metrics: rows, patients, completeness, rows by month, top codes (protected)."""
    from fedsafe.backends.dsn import connect, parse_dsn
    from fedsafe.backends.validate import check_tables
    from fedsafe.cli.debugging import _load_policy
    from fedsafe.cli.main import UsageError, _reporting_errors
    from fedsafe.errors import DataSourceError
    from fedsafe.quality import compute_backend_metrics, write_backend_metrics

    with _reporting_errors(ctx):
        policy = _load_policy(policy_file)
        known = core_tables()
        if tables is not None:
            wanted = [t.strip() for t in tables.split(",") if t.strip()]
            unknown = [t for t in wanted if t not in known]
            if unknown or not wanted:
                problem = f"unknown table {unknown[0]!r}" if unknown else "no table named"
                raise UsageError(
                    f"--tables: {problem}; the core tables are {', '.join(sorted(known))}"
                )
        parsed = parse_dsn(dsn)
        if parsed.path is not None and not parsed.path.is_file():
            raise DataSourceError(f"DuckDB database {parsed.path} does not exist")
        backend = connect(parsed)
        try:
            present = set(backend.list_tables())
            chosen = wanted if tables is not None else sorted(t for t in known if t in present)
            if not chosen:
                raise DataSourceError(
                    f"{parsed}: has none of the core tables ({', '.join(sorted(known))})"
                )
            selected = {name: known[name] for name in chosen}
            check_tables(backend, selected, source=str(parsed))
            metrics = compute_backend_metrics(backend, selected, policy)
        finally:
            backend.disconnect()
        written = write_backend_metrics(metrics, output)
    typer.echo(f"wrote {len(written)} files to {output}: metrics for {', '.join(chosen)}")
