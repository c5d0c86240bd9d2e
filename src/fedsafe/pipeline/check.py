"""``fedsafe check``: everything about a project that can be known without running it.

project.yaml is read and checked (every rule in :mod:`fedsafe.pipeline.model`), each action's
``linkage:`` tables and columns are checked against the logical table schemas, the codelists
are checked, and each dataset definition is loaded in its sandbox, so a broken definition is
found in seconds rather than after the actions before it have run.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from fedsafe.codelists.check import check_codelists
from fedsafe.errors import FedsafeError
from fedsafe.linkage.errors import DeclarationError
from fedsafe.pipeline.errors import ProjectError
from fedsafe.pipeline.model import PROJECT_FILE, Project, combined, load_project
from fedsafe.pipeline.yaml_source import read_yaml

__all__ = ["BackendAvailabilityError", "check_project"]


class BackendAvailabilityError(FedsafeError):
    """A configured backend lacks a table or column an action of the project reads."""


def check_project(project_dir: Path, backends: Sequence[Path] = ()) -> list[str]:
    """Check the project in ``project_dir``; return what was checked, raise on a problem.

    With ``backends`` (backend configuration files), each dataset and measures action is also
    checked against every backend it may run on (its ``backends:`` in project.yaml, or all):
    a table or column a backend does not provide is found here, per backend, not when the job
    reaches it. Every problem is listed in one BackendAvailabilityError."""
    from fedsafe.backends.backend import Backend, TableNotProvidedError
    from fedsafe.backends.config import load_config
    from fedsafe.loader import load_dataset_definition, load_measures_definition

    configured = [Backend(load_config(path)) for path in backends]
    problems: list[str] = []
    project_dir = Path(project_dir).resolve()
    project = load_project(project_dir)
    report = [f"project.yaml: {len(project.actions)} actions, all valid"]
    report += check_linkage_tables(project, (project_dir / PROJECT_FILE).read_text("utf-8"))
    codelists = check_codelists(project_dir)
    report.append(f"codelists: {len(codelists)} checked, all valid and unchanged")
    for action in project.actions.values():
        definition = action.run.args[1] if action.run.reads_patient_data else None
        params = _params(action.run.args)
        if action.run.is_dataset:
            loaded = load_dataset_definition(
                project_dir / definition, params, project_dir=project_dir
            )
            query = loaded.dataset
            columns = len(loaded.dataset.variables)
            report.append(f"{definition} (action {action.name!r}): loads, {columns} columns")
        elif action.run.is_measures:
            query = load_measures_definition(
                project_dir / definition, params, project_dir=project_dir
            ).measures
            report.append(f"{definition} (action {action.name!r}): loads")
        else:
            continue
        for backend in configured:
            name = backend.config.name
            if action.backends is not None and name not in action.backends:
                report.append(f"  backend {name}: not one of this action's backends")
                continue
            try:
                backend.refuse_unprovided(query)  # type: ignore[arg-type]
            except TableNotProvidedError as exc:
                problems.append(f"action {action.name!r} ({definition}): {exc}")
                continue
            report.append(f"  backend {name}: provides every table and column it reads")
    if problems:
        raise BackendAvailabilityError(
            "some actions cannot run on a configured backend:\n  - " + "\n  - ".join(problems)
        )
    return report


def check_linkage_tables(project: Project, text: str) -> list[str]:
    """Each action's linkage tables and columns exist in the logical schemas.

    Kept out of parsing because the schemas import the query stack, which the coordinator
    (which also reads project.yaml) must not; the backend checks this before running anything.
    Raises ProjectError naming the line and field of every problem.
    """
    from fedsafe.linkage.schema_check import check_against_schemas

    located = None
    problems: list[ProjectError] = []
    report = []
    for action in project.actions.values():
        if action.linkage is None:
            continue
        try:
            check_against_schemas(action.linkage)
        except DeclarationError as exc:
            located = located or read_yaml(text, project.file)
            base = ("actions", action.name, "linkage")
            for path, message in exc.problems:
                path = _as_written(located.lines, base, path)
                problems.append(
                    ProjectError(
                        message,
                        file=project.file,
                        line=located.line_of((*base, *path)),
                        action=action.name,
                        field=".".join(str(p) for p in ("linkage", *path)),
                    )
                )
            continue
        tables = ", ".join(t.name for t in action.linkage.tables)
        report.append(
            f"action {action.name!r}: links {tables} from backend {action.linkage.backend!r}"
        )
    if problems:
        raise combined(problems)
    return report


def _as_written(lines: object, base: tuple, path: tuple) -> tuple:
    """A table is named ``core.x`` in checks but may be written ``x`` in project.yaml."""
    if len(path) >= 2 and path[0] == "tables" and str(path[1]).startswith("core."):
        short = str(path[1]).removeprefix("core.")
        if (*base, "tables", short) in lines:  # type: ignore[operator]
            return ("tables", short, *path[2:])
    return path


def _params(args: tuple[str, ...]) -> dict[str, str]:
    params = {}
    for index, arg in enumerate(args):
        value = None
        if arg == "--param" and index + 1 < len(args):
            value = args[index + 1]
        elif arg.startswith("--param="):
            value = arg.split("=", 1)[1]
        if value is not None:
            name, _, given = value.partition("=")
            params[name] = given
    return params
