"""``fedsafe init``: a small, complete study that ``fedsafe run all`` runs as it stands.

It is the quickest way to see every part working (a dataset definition with a real codelist,
a Python analysis writing a table and a chart, the pipeline joining them) and a starting point
to edit. The dummy tables are made here, from a fixed seed, so every new project gets the same
data and the example's results can be compared between machines.
"""

from __future__ import annotations

import csv
import datetime
import random
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
    written += _write_dummy_tables(directory / "dummy_tables", _codes(staged))
    return written


def _codes(codelist: Path) -> list[str]:
    with codelist.open(newline="", encoding="utf-8") as handle:
        return [row["code"] for row in csv.DictReader(handle)]


def _write_dummy_tables(folder: Path, diabetes_codes: list[str], patients: int = 500) -> list[str]:
    """Patients, registrations and clinical events, about one in seven with diabetes."""
    rng = random.Random(20240101)
    folder.mkdir(exist_ok=True)
    other_codes = ["22298006", "38341003", "195967001"]  # heart attack, hypertension, asthma
    rows: dict[str, list[list[object]]] = {
        "patients": [],
        "practice_registrations": [],
        "clinical_events": [],
    }
    for patient_id in range(1, patients + 1):
        born = datetime.date(rng.randint(1920, 2010), rng.randint(1, 12), 1)
        sex = rng.choice(["female", "male"])
        rows["patients"].append([patient_id, born, sex, ""])
        start = datetime.date(rng.randint(1990, 2023), rng.randint(1, 12), 1)
        end = "" if rng.random() < 0.9 else start + datetime.timedelta(days=rng.randint(30, 900))
        rows["practice_registrations"].append([patient_id, start, end, rng.randint(1, 20)])
        for _ in range(rng.randint(0, 4)):
            code = rng.choice(diabetes_codes) if rng.random() < 0.04 else rng.choice(other_codes)
            when = born + datetime.timedelta(
                days=rng.randint(0, (datetime.date(2024, 6, 1) - born).days)
            )
            rows["clinical_events"].append([patient_id, when, code, ""])
    headers = {
        "patients": ["patient_id", "date_of_birth", "sex", "date_of_death"],
        "practice_registrations": ["patient_id", "start_date", "end_date", "practice_pseudo_id"],
        "clinical_events": ["patient_id", "date", "snomedct_code", "numeric_value"],
    }
    written = []
    for table, table_rows in rows.items():
        with (folder / f"{table}.csv").open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(headers[table])
            writer.writerows(table_rows)
        written.append(f"dummy_tables/{table}.csv")
    return written
