"""``fedsafe check-outputs``: the automated disclosure check of output files, from the shell.

Prints each file's status and findings (or JSON with ``--json``, for the airlock and scripts).
With ``--ledger DIR`` each file is also checked against the backend's release ledger
(``fedsafe.disclosure.ledger``) for differencing with earlier releases; the ledger is read,
never written (a folder with no ledger is an error, so a mistyped path cannot pass everything):
recording a release is the airlock's job. Exit status says the worst result, so a pipeline can
gate on it: 0 every file passes, 3 some file needs review (none fails), 4 some file fails, 2
some file could not be checked at all.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Annotated

import typer

__all__ = ["check_outputs"]

EXIT_NEEDS_REVIEW = 3
EXIT_FAIL = 4


def check_outputs(
    ctx: typer.Context,
    files: Annotated[
        list[Path],
        typer.Argument(
            help=(
                "Output files or folders to check. Tables (.csv, .csv.gz, .arrow, .feather, "
                ".parquet) are checked; other files are marked for review by a person."
            )
        ),
    ],
    policy_file: Annotated[
        Path | None,
        typer.Option(
            "--policy",
            help=(
                "TOML file with the backend's disclosure policy (its [disclosure] table, or "
                "top-level keys). Default: counts <= 7 redacted, rounded to the nearest 5."
            ),
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print findings as JSON.")] = False,
    ledger_dir: Annotated[
        Path | None,
        typer.Option(
            "--ledger",
            help=(
                "Folder of the backend's release ledger: also check each file for differencing "
                "against every table released before (the ledger is only read)."
            ),
        ),
    ] = None,
    backend: Annotated[
        str, typer.Option("--backend", help="Backend whose releases to compare with.")
    ] = "local",
    project: Annotated[str, typer.Option("--project", help="Project of these files.")] = "",
) -> None:
    """Check output files for disclosure risks: pass, needs review or fail, with the cells."""
    from fedsafe.cli.main import EXIT_USER_ERROR, _print_error, _reporting_errors
    from fedsafe.disclosure.checker import check_output_file, output_files_in
    from fedsafe.disclosure.errors import OutputFileError
    from fedsafe.disclosure.findings import FileReport, Status
    from fedsafe.disclosure.ledger import ReleaseLedger

    with _reporting_errors(ctx) as console:
        policy = _load_policy(policy_file)
        ledger = ReleaseLedger(ledger_dir, create=False) if ledger_dir is not None else None
        reports, unreadable = [], 0
        for path in output_files_in(files):
            try:
                report = check_output_file(path, policy)
                if ledger is not None and _has_counts(path, report):
                    extra = ledger.check_file(path, policy, backend=backend, project=project)
                    report = FileReport(path, (*report.findings, *extra))
                reports.append(report)
            except OutputFileError as exc:
                unreadable += 1
                _print_error(console, str(exc))
        if as_json:
            typer.echo(json.dumps([r.to_dict() for r in reports], indent=2))
        else:
            for report in reports:
                typer.echo(f"{report.status.value.upper():<13} {report.path}")
                for finding in report.findings:
                    typer.echo(
                        f"  {finding.status.value:<12} {finding.location()}: {finding.reason} "
                        f"[{finding.rule}]"
                    )
        statuses = {r.status for r in reports}
        if unreadable:
            raise typer.Exit(EXIT_USER_ERROR)
        if Status.FAIL in statuses:
            raise typer.Exit(EXIT_FAIL)
        if Status.NEEDS_REVIEW in statuses:
            raise typer.Exit(EXIT_NEEDS_REVIEW)


def _has_counts(path: Path, report) -> bool:
    """Whether the ledger can compare the file: a table, or a chart with recorded counts."""
    from fedsafe.disclosure.reading import is_table_file

    return is_table_file(path) or not any(f.rule == "not_a_table" for f in report.findings)


def _load_policy(path: Path | None):
    from fedsafe.disclosure import DisclosurePolicy, PolicyError

    if path is None:
        return DisclosurePolicy()
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise PolicyError(f"{path}: cannot read the policy file ({exc.strerror})") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise PolicyError(f"{path}: not valid TOML ({exc})") from None
    table = document.get("disclosure", document)
    source = f"{path} [disclosure]" if "disclosure" in document else str(path)
    return DisclosurePolicy.from_mapping(table, source=source)
