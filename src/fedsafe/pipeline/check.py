"""``fedsafe check``: everything about a project that can be known without running it.

project.yaml is read and checked (every rule in :mod:`fedsafe.pipeline.model`), the codelists
are checked, and each dataset definition is loaded in its sandbox, so a broken definition is
found in seconds rather than after the actions before it have run.
"""

from __future__ import annotations

from pathlib import Path

from fedsafe.codelists.check import check_codelists
from fedsafe.pipeline.model import load_project

__all__ = ["check_project"]


def check_project(project_dir: Path) -> list[str]:
    """Check the project in ``project_dir``; return what was checked, raise on a problem."""
    from fedsafe.loader import load_dataset_definition, load_measures_definition

    project_dir = Path(project_dir).resolve()
    project = load_project(project_dir)
    report = [f"project.yaml: {len(project.actions)} actions, all valid"]
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
