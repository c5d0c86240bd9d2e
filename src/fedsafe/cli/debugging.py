"""``fedsafe test-definition`` and ``fedsafe report-dataset``: debugging without seeing data.

Kept out of ``cli/main.py`` (which only registers them) so the commands and their options live
next to each other. Exit status: 0 when every test patient passes, 1 when some fail (as pytest
does, so CI treats it as a failed test), 2 for input errors.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

__all__ = ["EXIT_TESTS_FAILED", "report_dataset", "test_definition"]

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
    param: Annotated[
        list[str] | None,
        typer.Option(
            "--param",
            metavar="NAME=VALUE",
            help="A parameter for the definition, read with get_parameter(NAME). Repeatable.",
        ),
    ] = None,
) -> None:
    """Run a dataset definition on hand-made test patients and say what differed."""
    from fedsafe.assurance import test_definition as run_tests
    from fedsafe.cli.main import _reporting_errors, parse_params

    with _reporting_errors(ctx):
        params = parse_params(param or [])
        report = run_tests(definition, test_data_file=test_data, params=params)
    typer.echo(report.text(verbose=verbose))
    if not report.passed:
        raise typer.Exit(EXIT_TESTS_FAILED)


test_definition.__test__ = False  # type: ignore[attr-defined]


def report_dataset(
    ctx: typer.Context,
    dataset: Annotated[
        Path, typer.Argument(help="The dataset: .csv, .csv.gz, .arrow, .feather or .parquet.")
    ],
    output: Annotated[
        Path,
        typer.Option("--output", "-o", help="The HTML report to write; tables go beside it."),
    ] = Path("dataset_report.html"),
    policy_file: Annotated[
        Path | None,
        typer.Option(
            "--policy",
            help=(
                "The backend's disclosure policy, as TOML (its [disclosure] table or top-level "
                "keys) or JSON. Default: the policy in FEDSAFE_DISCLOSURE_POLICY if set, else "
                "counts <= 7 suppressed, rounded to the nearest 5."
            ),
        ),
    ] = None,
) -> None:
    """Write a safe report of what a dataset holds: missing values and distributions."""
    from fedsafe.cli.main import _reporting_errors
    from fedsafe.reports import write_dataset_report

    with _reporting_errors(ctx):
        policy = _load_policy(policy_file)
        report = write_dataset_report(dataset, output, policy)
    typer.echo(f"wrote {report.html} and {len(report.tables)} tables in {report.tables[0].parent}")


def _load_policy(path: Path | None):
    """A policy from TOML (as ``check-outputs`` reads it) or JSON (an object of settings);
    without a file, the backend's (``FEDSAFE_DISCLOSURE_POLICY``) or the defaults."""
    import json

    from fedsafe.cli.disclosure import _load_policy as load_toml_policy
    from fedsafe.disclosure import DisclosurePolicy, PolicyError

    if path is None:
        # In a backend the executor passes the backend's policy in the environment.
        return DisclosurePolicy.from_environment()
    if path.suffix.lower() != ".json":
        return load_toml_policy(path)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise PolicyError(f"{path}: cannot read the policy file ({exc.strerror})") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise PolicyError(f"{path}: not valid JSON ({exc})") from None
    if isinstance(document, dict) and "disclosure" in document:
        return DisclosurePolicy.from_mapping(document["disclosure"], source=f"{path} disclosure")
    return DisclosurePolicy.from_mapping(document, source=str(path))
