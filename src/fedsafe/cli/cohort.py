"""``fedsafe cohort count`` and ``fedsafe cohort distribution``: cohort discovery on one backend.

Prints the safe JSON answer on stdout (RQuest v2 result format for RQuest input, fedsafe's small
form otherwise). With ``--dsn`` it runs on that database and keeps the backend's audit log and
differencing ledger in ``--audit-log``; with no ``--dsn`` it runs on generated dummy data and,
unless ``--audit-log`` is given, on a throwaway log, since dummy answers are not releases.
"""

from __future__ import annotations

import datetime
import getpass
import json
import tempfile
from pathlib import Path
from typing import Annotated, Any

import typer

__all__ = ["cohort_app"]

cohort_app = typer.Typer(
    name="cohort",
    help="Cohort discovery: safe counts of patients matching a query.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

DsnOption = Annotated[
    str | None,
    typer.Option("--dsn", help="Database, e.g. duckdb:///data.duckdb (else dummy data)."),
]
FormatOption = Annotated[
    str | None,
    typer.Option("--format", help="rquest or fedsafe (default: detected from the document)."),
]
AuditOption = Annotated[
    Path | None,
    typer.Option(
        "--audit-log",
        help="The backend's audit log and ledger (JSONL). Default with --dsn: "
        ".fedsafe/cohort-audit.jsonl; with dummy data: a throwaway file.",
    ),
]
DateOption = Annotated[
    str | None,
    typer.Option("--reference-date", help="YYYY-MM-DD for ages and time windows (default today)."),
]
ThresholdOption = Annotated[
    int | None,
    typer.Option("--threshold", help="Counts below this become 0 (default 10, or --backend's)."),
]
BaseOption = Annotated[
    int | None,
    typer.Option("--rounding-base", help="Round to nearest, halves up (10, or --backend's)."),
]
AutoOption = Annotated[
    bool, typer.Option("--auto-release", help="Record that this backend releases without review.")
]
SizeOption = Annotated[int, typer.Option("--population-size", help="Dummy data: patients.")]
SeedOption = Annotated[int, typer.Option("--seed", help="Dummy data: random seed.")]
BackendConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--backend",
        help="A backend's configuration file (TOML): count on its database, whatever its "
        "mapping (native or OMOP), as its agent does.",
    ),
]
UserOption = Annotated[str | None, typer.Option("--user", help="Who asks (for the audit log).")]


def _read(path: Path) -> Any:
    from fedsafe.cohort.errors import CohortQueryError
    from fedsafe.errors import DataSourceError

    if not path.is_file():
        raise DataSourceError(f"query file {path} does not exist")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CohortQueryError(f"{path}: $", f"not valid JSON ({exc})") from None


def _date(text: str | None) -> datetime.date:
    from fedsafe.cli.main import UsageError

    if text is None:
        return datetime.date.today()
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        raise UsageError(f"--reference-date {text!r} is not a date YYYY-MM-DD") from None


def _run(
    ctx: typer.Context,
    source: Path | dict,
    dsn: str | None,
    form: str | None,
    audit_log: Path | None,
    reference_date: str | None,
    threshold: int | None,
    rounding_base: int | None,
    auto_release: bool,
    population_size: int,
    seed: int,
    user: str | None,
    backend_config: Path | None = None,
) -> None:
    from fedsafe.cli.main import UsageError, _choose_source, _reporting_errors

    with _reporting_errors(ctx):
        from fedsafe.cohort import service
        from fedsafe.cohort.audit import AuditLog
        from fedsafe.cohort.policy import CohortCountPolicy
        from fedsafe.query_model import nodes as qm

        document = _read(source) if isinstance(source, Path) else source
        config = None
        if backend_config is not None:
            from fedsafe.backends.config import load_config

            config = load_config(backend_config)
        settings = config.cohort if config is not None else None
        policy = CohortCountPolicy(
            threshold if threshold is not None else (settings.threshold if settings else 10),
            rounding_base
            if rounding_base is not None
            else (settings.rounding_base if settings else 10),
            auto_release or bool(settings and settings.auto_release),
        )
        ref = _date(reference_date)
        reads = service.reads(document, ref, form)  # checks the query before any data
        tables = dict(qm.tables_used(reads))
        with tempfile.TemporaryDirectory(prefix="fedsafe-cohort-") as scratch:
            if config is not None:
                from fedsafe.backends.backend import Backend
                from fedsafe.backends.logical import connect_logical

                if dsn is not None:
                    raise UsageError("give only one of --dsn and --backend")
                connection = connect_logical(Backend(config))
                log = audit_log or Path(".fedsafe/cohort-audit.jsonl")
            elif dsn is not None:
                from fedsafe.cli.main import _open_source

                connection = _open_source(_choose_source(dsn, None), tables)
                log = audit_log or Path(".fedsafe/cohort-audit.jsonl")
            else:
                connection = _dummy(reads, population_size, seed)
                log = audit_log or Path(scratch) / "dummy-audit.jsonl"
            try:
                result = service.answer(
                    document,
                    connection,
                    audit=AuditLog(log),
                    policy=policy,
                    reference_date=ref,
                    user=user or getpass.getuser(),
                    form=form,
                )
            finally:
                connection.disconnect()
        typer.echo(json.dumps(result, indent=2))


def _dummy(dataset: Any, population_size: int, seed: int) -> Any:
    """An in-memory DuckDB of dummy data generated for what the query reads."""
    import ibis

    from fedsafe.dummy_data import generate_dummy_tables

    generated = generate_dummy_tables(dataset, population_size=population_size, seed=seed)
    connection = ibis.duckdb.connect()
    for name, table in generated.tables.items():
        connection.create_table(name, table)
    return connection


@cohort_app.command("count")
def count(
    ctx: typer.Context,
    query: Annotated[Path, typer.Argument(help="The availability query (JSON).")],
    dsn: DsnOption = None,
    form: FormatOption = None,
    audit_log: AuditOption = None,
    reference_date: DateOption = None,
    threshold: ThresholdOption = None,
    rounding_base: BaseOption = None,
    auto_release: AutoOption = False,
    population_size: SizeOption = 1000,
    seed: SeedOption = 0,
    user: UserOption = None,
    backend: BackendConfigOption = None,
) -> None:
    """Count the patients matching an availability query, safely (RQuest v2 or fedsafe JSON)."""
    _run(ctx, query, dsn, form, audit_log, reference_date, threshold, rounding_base,
         auto_release, population_size, seed, user, backend)  # fmt: skip


@cohort_app.command("distribution")
def distribution(
    ctx: typer.Context,
    kind: Annotated[str, typer.Argument(help="codes (per-code counts) or demographics.")],
    dsn: DsnOption = None,
    audit_log: AuditOption = None,
    reference_date: DateOption = None,
    threshold: ThresholdOption = None,
    rounding_base: BaseOption = None,
    auto_release: AutoOption = False,
    population_size: SizeOption = 1000,
    seed: SeedOption = 0,
    user: UserOption = None,
    uuid: Annotated[str, typer.Option("--uuid", help="Query id to echo back.")] = "",
    collection: Annotated[str, typer.Option("--collection", help="Collection id.")] = "",
) -> None:
    """Safe per-code counts or demographics (sex, age bands), as an RQuest v2 result."""
    codes = {"codes": "GENERIC", "demographics": "DEMOGRAPHICS"}
    document = {"analysis": "DISTRIBUTION", "code": codes.get(kind, kind), "uuid": uuid,
                "collection": collection}  # fmt: skip
    _run(ctx, document, dsn, "rquest", audit_log, reference_date, threshold, rounding_base,
         auto_release, population_size, seed, user)  # fmt: skip
