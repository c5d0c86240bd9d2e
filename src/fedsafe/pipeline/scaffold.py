"""``fedsafe init``: a small, complete study that ``fedsafe run all`` runs as it stands.

It is the quickest way to see every part working (a dataset definition with a real codelist,
a Python analysis writing a table and a chart, the pipeline joining them) and a starting point
to edit. Its dataset action names no database, so it runs on dummy data that fedsafe generates
to fit the definition.
"""

from __future__ import annotations

import shutil
from importlib import resources
from pathlib import Path

from fedsafe.codelists.add import add_codelist
from fedsafe.pipeline.errors import ProjectError

__all__ = ["init_project"]

_CODELIST = "nhsd-primary-care-domain-refsets-dm_cod.csv"
_TEMPLATE_FILES = ("project.yaml", "analysis/dataset_definition.py", "analysis/report.py")
_GITIGNORE = "# Made by fedsafe run, not committed.\noutput/\nmetadata/\n"


def init_project(directory: Path) -> list[str]:
    """Create the example study in ``directory`` (made if missing); return the files written."""
    directory = Path(directory)
    if (directory / "project.yaml").exists():
        raise ProjectError(
            f"{directory} already has a project.yaml; choose an empty or new folder",
            file=str(directory / "project.yaml"),
        )
    directory.mkdir(parents=True, exist_ok=True)
    template = resources.files("fedsafe.pipeline").joinpath("template")
    written = []
    for name in _TEMPLATE_FILES:
        target = directory / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(template.joinpath(name).read_bytes())
        written.append(name)
    (directory / ".gitignore").write_text(_GITIGNORE)
    written.append(".gitignore")
    with resources.as_file(template.joinpath(_CODELIST)) as codelist:
        staged = directory / "codelists" / _CODELIST
        staged.parent.mkdir(exist_ok=True)
        shutil.copyfile(codelist, staged)
    add_codelist(directory, staged, system="snomedct", column="code")
    written += [f"codelists/{_CODELIST}", "codelists/codelists.txt", "codelists/codelists.json"]
    return written
