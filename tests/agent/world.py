"""What the agent's tests run on: a study in a real git repository, backends with real
databases (DuckDB in fedsafe's native tables, SQLite in OMOP form), a live coordinator and
real ``fedsafe agent run`` processes.

The data and the study are full of distinctive markers (a patient's value, a log line, an
output's content and an output's file name) so that a scan of what the coordinator stored
can tell if any of them leaked.
"""

from __future__ import annotations

import datetime
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from backends.databases import write_config, write_duckdb, write_sqlite
from backends.population import core_population
from coordinator.live import FEDSAFE, in_coordinator
from fedsafe.backends.mappings.omop_writer import to_omop
from fedsafe.pipeline.scaffold import init_project

SHARED_CODELIST = Path("/work/shared/data/codelists/nhsd-primary-care-domain-refsets-dm_cod.csv")

# Markers: none may ever reach the coordinator.
PATIENT_VALUE = 8675.309  # one patient's HbA1c-like value, distinctive
PATIENT_BIRTH = datetime.date(1931, 7, 1)  # OMOP keeps the year and month
LOG_MARKER = "LOGLINE-qz7-wombat"
CONTENT_MARKER = "CONTENT-kx4-pelican"
OUTPUT_NAME = "zebra_summary_m9"
SECRET_NAME = "private_rows_h3"
CORE = ["patients", "practice_registrations", "clinical_events", "medications", "ons_deaths"]

PROJECT = f"""
version: '1'
actions:
  generate_dataset:
    run: fedsafe:v1 generate-dataset analysis/dataset_definition.py --output output/dataset.arrow
    outputs:
      highly_sensitive:
        dataset: output/dataset.arrow
  analyse:
    run: python:v1 analysis/analyse.py
    needs: [generate_dataset]
    outputs:
      highly_sensitive:
        rows: output/{SECRET_NAME}.csv
      moderately_sensitive:
        summary: output/{OUTPUT_NAME}.csv
"""

DEFINITION = """
from ehrql import codelist_from_csv, create_dataset
from ehrql.tables.core import clinical_events, patients

codes = codelist_from_csv("codelists/nhsd-primary-care-domain-refsets-dm_cod.csv", column="code")
dataset = create_dataset()
dataset.configure_dummy_data(population_size=50)
dataset.define_population(patients.date_of_birth.is_not_null())
dataset.birth = patients.date_of_birth
diabetes = clinical_events.where(clinical_events.snomedct_code.is_in(codes))
dataset.has_diabetes = diabetes.exists_for_patient()
dataset.top_value = clinical_events.numeric_value.maximum_for_patient()
"""

ANALYSE = f"""
import os, time
from pathlib import Path
from fedsafe_analysis import read_dataset

Path("started.flag").write_text("x")
time.sleep(float(os.environ.get("ANALYSE_SLEEP", "0") or 0))
data = read_dataset("output/dataset.arrow")
print("{LOG_MARKER}")
print(data.to_string())
data.to_csv("output/{SECRET_NAME}.csv", index=False)
with open("output/{OUTPUT_NAME}.csv", "w") as out:
    out.write("what,count\\n{CONTENT_MARKER},%d\\n" % (len(data) // 10 * 10))
"""


def git(*args: str, cwd: Path) -> str:
    command = ["git", "-c", "user.name=t", "-c", "user.email=t@example.org", *args]
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=True).stdout


def study_repo(root: Path, analyse: str = ANALYSE) -> tuple[str, str, Path]:
    """The study in a bare repository; returns its file:// URL, the commit and the work tree."""
    work, bare = root / "study", root / "study.git"
    init_project(work)
    shared = work / "codelists" / SHARED_CODELIST.name
    assert shared.read_bytes() == SHARED_CODELIST.read_bytes()  # the real codelist
    (work / "project.yaml").write_text(PROJECT)
    (work / "analysis" / "report.py").unlink()
    (work / "analysis" / "dataset_definition.py").write_text(DEFINITION)
    (work / "analysis" / "analyse.py").write_text(analyse)
    git("init", "-q", "-b", "main", cwd=work)
    git("add", ".", cwd=work)
    git("commit", "-qm", "study", cwd=work)
    git("clone", "-q", "--bare", str(work), str(bare), cwd=root)
    commit = git("rev-parse", "HEAD", cwd=work).strip()
    return f"file://{bare}", commit, work


def population() -> dict[str, pa.Table]:
    """The shared test population with one distinctive patient value and birth date."""
    tables = core_population(n=60, seed=11)
    patients = tables["patients"].to_pylist()
    patients[0]["date_of_birth"] = PATIENT_BIRTH
    events = tables["clinical_events"].to_pylist()
    events.append(
        {
            "patient_id": patients[0]["patient_id"],
            "date": datetime.date(2019, 5, 5),
            "snomedct_code": "111552007",
            "numeric_value": PATIENT_VALUE,
        }
    )
    return {
        **tables,
        "patients": pa.Table.from_pylist(patients, schema=tables["patients"].schema),
        "clinical_events": pa.Table.from_pylist(events, schema=tables["clinical_events"].schema),
    }


def duckdb_backend(root: Path, name: str = "north") -> Path:
    """A DuckDB database in fedsafe's native tables, and its config."""
    root.mkdir(parents=True, exist_ok=True)
    write_duckdb(root / "data.duckdb", population())
    return write_config(
        root / "backend.toml", f"duckdb:///{root}/data.duckdb", "native", CORE, name=name
    )


def sqlite_omop_backend(root: Path, name: str = "south") -> Path:
    """A SQLite database in OMOP form holding the same population, and its config."""
    root.mkdir(parents=True, exist_ok=True)
    write_sqlite(root / "omop.sqlite", to_omop(population()))
    return write_config(
        root / "backend.toml", f"sqlite:///{root}/omop.sqlite", "omop", CORE, name=name
    )


def seed_coordinator(database: str, backends: list[str], repo_url: str) -> dict[str, str]:
    """Backends with tokens, a user, a project and the study's workspace."""
    return in_coordinator(
        database,
        f"""
from fedsafe.coordinator.setup_records import add_backend
result = {{name: add_backend(name, "patients").token for name in {backends!r}}}
user = User.objects.create_user("rita", password="x" * 12)
create_workspace(user, create_project(user, "diabetes"), "hba1c", {repo_url!r}, "main")
""",
    )


def request(
    database: str, actions: list[str], commit: str, backends: str | list[str] = "all"
) -> int:
    return in_coordinator(
        database,
        f"""
user = User.objects.get(username="rita")
spec = RequestSpec(actions={actions!r}, backends={backends!r}, reason="hba1c by backend",
                   commit={commit!r})
result = create_job_request(user, Workspace.objects.get(name="hba1c"), spec).pk
""",
    )


@dataclass
class AgentProcess:
    """``fedsafe agent run`` in a subprocess, with the token in its environment only."""

    config: Path
    url: str
    token: str
    extra_env: dict[str, str] | None = None
    process: subprocess.Popen | None = None

    def command(self, once: bool = True) -> list[str]:
        return [
            FEDSAFE,
            "agent",
            "run",
            "--backend",
            str(self.config),
            "--coordinator",
            self.url,
            "--poll-seconds",
            "0.2",
            "--heartbeat-seconds",
            "0.5",
            *(["--once"] if once else []),
        ]

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "FEDSAFE_AGENT_TOKEN": self.token,
            "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "src"),
            **(self.extra_env or {}),
        }

    def start(self, once: bool = True) -> AgentProcess:
        self.process = subprocess.Popen(
            self.command(once),
            env=self.env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        return self

    def wait(self, timeout: float = 600) -> tuple[int, str]:
        assert self.process is not None
        out, _ = self.process.communicate(timeout=timeout)
        return self.process.returncode, out

    def run(self, timeout: float = 600) -> tuple[int, str]:
        return self.start().wait(timeout)
