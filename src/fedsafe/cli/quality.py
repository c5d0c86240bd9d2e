"""``fedsafe backend report``: per-table data-quality metrics of a backend's database.

Run by (or for) a backend operator; writes protected tables that could be released. With
``--backend CONFIG`` the backend's logical tables are read through its mapping (native or OMOP)
and protected with its ``[policy]``, so every backend's report has the same shape whatever its
physical schema; ``--dsn`` reads a database of core tables as they are.
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
    config: Annotated[
        Path | None,
        typer.Option(
            "--backend",
            help="The backend's TOML configuration: its tables are read through its mapping "
            "(native or OMOP) and protected with its [policy].",
        ),
    ] = None,
    dsn: Annotated[
        str | None,
        typer.Option(
            "--dsn", help="Instead of --backend: a database of core tables, e.g. duckdb:///x.duckdb"
        ),
    ] = None,
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Folder to write the metric tables into.")
    ] = Path("backend_report"),
    tables: Annotated[
        str | None,
        typer.Option(
            "--tables",
            help="Comma-separated core tables to report (default: every core table present, "
            "or with --backend every core table it provides).",
        ),
    ] = None,
    policy_file: Annotated[
        Path | None,
        typer.Option(
            "--policy",
            help="With --dsn: disclosure policy, TOML or JSON (as for report-dataset). With "
            "--backend the backend's own [policy] applies.",
        ),
    ] = None,
) -> None:
    """Per-table metrics: rows, patients, completeness, rows by month, top codes (protected)."""
    from fedsafe.cli.main import UsageError, _reporting_errors

    with _reporting_errors(ctx):
        if (config is None) == (dsn is None):
            raise UsageError("give either --backend CONFIG or --dsn URL (one of them)")
        if config is not None and policy_file is not None:
            raise UsageError(
                "--policy applies with --dsn only: with --backend the backend's [policy] applies"
            )
        known = core_tables()
        wanted = _wanted_tables(tables, known)
        if config is not None:
            chosen, metrics = _report_on_backend(config, known, wanted)
        else:
            chosen, metrics = _report_on_dsn(dsn or "", known, wanted, policy_file)
        from fedsafe.quality import write_backend_metrics

        written = write_backend_metrics(metrics, output)
    typer.echo(f"wrote {len(written)} files to {output}: metrics for {', '.join(chosen)}")


def _wanted_tables(tables: str | None, known: dict) -> list[str] | None:
    from fedsafe.cli.main import UsageError

    if tables is None:
        return None
    wanted = [t.strip() for t in tables.split(",") if t.strip()]
    unknown = [t for t in wanted if t not in known]
    if unknown or not wanted:
        problem = f"unknown table {unknown[0]!r}" if unknown else "no table named"
        raise UsageError(f"--tables: {problem}; the core tables are {', '.join(sorted(known))}")
    return wanted


def _report_on_backend(config: Path, known: dict, wanted: list[str] | None):
    """Metrics over the backend's logical tables, read through its mapping, after checking
    that the mapped tables and columns are in its database."""
    from fedsafe.backends.backend import Backend, TableNotProvidedError
    from fedsafe.backends.config import load_config
    from fedsafe.errors import DataSourceError
    from fedsafe.quality import compute_backend_metrics

    backend = Backend(load_config(config))
    provided = [t for t in backend.config.tables if t in known]
    if wanted is not None:
        missing = [t for t in wanted if t not in backend.config.tables]
        if missing:
            raise TableNotProvidedError(
                f"--tables: backend {backend.config.name!r} does not provide "
                f"{', '.join(map(repr, missing))}; it provides {', '.join(backend.config.tables)}"
            )
    chosen = sorted(wanted if wanted is not None else provided)
    if not chosen:
        raise DataSourceError(f"backend {backend.config.name!r} provides none of the core tables")
    con = backend.connect(chosen)
    try:
        problems = [s for s in backend.check(con, chosen) if not s.ok]
        if problems:
            raise DataSourceError(
                f"backend {backend.config.name!r} ({backend.config.mapping} mapping) lacks what "
                "the report reads:\n  - "
                + "\n  - ".join(
                    f"{s.table}{'.' + s.column if s.column else ''}: {s.status}" for s in problems
                )
            )
        mapping = backend.mapping
        metrics = compute_backend_metrics(
            con,
            {name: known[name] for name in chosen},
            backend.config.policy,
            load=lambda name: mapping.load(con, name),
        )
    finally:
        con.disconnect()
    return chosen, metrics


def _report_on_dsn(dsn: str, known: dict, wanted: list[str] | None, policy_file: Path | None):
    from fedsafe.backends.dsn import connect, parse_dsn
    from fedsafe.backends.validate import check_tables
    from fedsafe.cli.debugging import _load_policy
    from fedsafe.errors import DataSourceError
    from fedsafe.quality import compute_backend_metrics

    policy = _load_policy(policy_file)
    parsed = parse_dsn(dsn)
    if parsed.path is not None and not parsed.path.is_file():
        raise DataSourceError(f"DuckDB database {parsed.path} does not exist")
    backend = connect(parsed)
    try:
        present = set(backend.list_tables())
        chosen = wanted if wanted is not None else sorted(t for t in known if t in present)
        if not chosen:
            raise DataSourceError(
                f"{parsed}: has none of the core tables ({', '.join(sorted(known))})"
            )
        selected = {name: known[name] for name in chosen}
        check_tables(backend, selected, source=str(parsed))
        metrics = compute_backend_metrics(backend, selected, policy)
    finally:
        backend.disconnect()
    return chosen, metrics
