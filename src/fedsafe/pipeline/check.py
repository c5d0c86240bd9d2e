"""``fedsafe check``: everything about a project that can be known without running it.

project.yaml is read and checked (every rule in :mod:`fedsafe.pipeline.model`), each action's
``linkage:`` tables and columns are checked against the logical table schemas, the codelists
are checked, and each dataset definition is loaded in its sandbox, so a broken definition is
found in seconds rather than after the actions before it have run.
"""

from __future__ import annotations

from pathlib import Path

from fedsafe.codelists.check import check_codelists
from fedsafe.linkage.errors import DeclarationError
from fedsafe.pipeline.errors import ProjectError
from fedsafe.pipeline.model import PROJECT_FILE, Project, combined, load_project
from fedsafe.pipeline.yaml_source import read_yaml

__all__ = ["check_project"]


def check_project(project_dir: Path) -> list[str]:
    """Check the project in ``project_dir``; return what was checked, raise on a problem."""
    from fedsafe.loader import load_dataset_definition, load_measures_definition

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
            columns = len(loaded.dataset.variables)
            report.append(f"{definition} (action {action.name!r}): loads, {columns} columns")
        elif action.run.is_measures:
            load_measures_definition(project_dir / definition, params, project_dir=project_dir)
            report.append(f"{definition} (action {action.name!r}): loads")
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
