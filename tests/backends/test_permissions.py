"""Restricted tables on a backend: the project's grants in the backend configuration decide,
before anything runs; a definition's own claims count for nothing on real data."""

from __future__ import annotations

import datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from backends.databases import write_config, write_duckdb
from fedsafe.backends.backend import Backend
from fedsafe.backends.config import BackendConfigError, load_config
from fedsafe.cli.main import app
from fedsafe.loader import load_dataset_definition
from fedsafe.permissions import PermissionRefusedError

runner = CliRunner()
DAY = datetime.date(2024, 3, 1)
DEFINITION = """\
from ehrql import claim_permissions, create_dataset
from ehrql.tables.tpp import appointments, patients

claim_permissions("appointments")  # a claim: it must not open the table on a backend
dataset = create_dataset()
dataset.define_population(patients.exists_for_patient())
dataset.finished = appointments.where(appointments.status == "Finished").count_for_patient()
"""
GRANTS = """
[permissions.projects]
"granted-study" = ["appointments"]
"other-study" = ["sgss_covid_all_tests"]
"""


@pytest.fixture
def data(tmp_path: Path) -> Path:
    date = pa.array([DAY] * 3, pa.date32())
    write_duckdb(
        tmp_path / "tpp.duckdb",
        {
            "patients": pa.table(
                {
                    "patient_id": [1, 2],
                    "date_of_birth": pa.array([DAY, DAY], pa.date32()),
                    "sex": ["female", "male"],
                    "date_of_death": pa.array([None, None], pa.date32()),
                }
            ),
            "appointments": pa.table(
                {
                    "patient_id": [1, 1, 2],
                    "booked_date": date,
                    "start_date": date,
                    "seen_date": date,
                    "status": ["Finished", "Finished", "Did Not Attend"],
                }
            ),
        },
    )
    (tmp_path / "study.py").write_text(DEFINITION)
    return tmp_path


def _config(folder: Path, extra: str = GRANTS) -> Path:
    url = f"duckdb://{folder}/tpp.duckdb"
    config = write_config(folder / "b.toml", url, "native", ["patients", "appointments"])
    config.write_text(config.read_text() + extra)
    return config


def _generate(folder: Path, *extra: str):
    args = ["generate-dataset", str(folder / "study.py"), "--backend", str(_config(folder))]
    return runner.invoke(app, [*args, "--output", str(folder / "out.parquet"), *extra])


def test_a_granted_project_reads_the_restricted_table(data: Path) -> None:
    result = _generate(data, "--project", "granted-study")
    assert result.exit_code == 0, result.output
    rows = pq.read_table(data / "out.parquet").sort_by("patient_id").to_pylist()
    assert [r["finished"] for r in rows] == [2, 0]


@pytest.mark.parametrize(
    ("project", "who"),
    [
        (["--project", "other-study"], "project 'other-study'"),  # granted something else
        (["--project", "unknown-study"], "project 'unknown-study'"),  # not listed at all
        ([], "no project was named"),  # the claim in the definition is not enough
    ],
)
def test_a_project_without_the_grant_is_refused_before_anything_runs(
    data: Path, project: list[str], who: str
) -> None:
    result = _generate(data, *project)
    assert result.exit_code == 2, result.output
    message = " ".join(result.stderr.split())
    assert "backend 'test' refuses this job before it runs" in message
    assert "table 'appointments' needs permission 'appointments'" in message
    assert who in message
    assert not (data / "out.parquet").exists()


def test_the_refusal_comes_before_connecting(data: Path) -> None:
    """The check needs only the query: a backend whose database is gone still refuses by
    permission, not with a connection error."""
    config = load_config(_config(data))
    (data / "tpp.duckdb").unlink()
    loaded = load_dataset_definition(data / "study.py", {})
    with pytest.raises(PermissionRefusedError, match="'appointments'"):
        Backend(config).run(loaded.dataset, project="other-study")


def test_project_option_needs_a_backend(data: Path) -> None:
    out = str(data / "o.csv")
    args = ["generate-dataset", str(data / "study.py"), "--output", out, "--project", "x"]
    result = runner.invoke(app, args)
    assert result.exit_code == 2 and "give --backend" in result.stderr


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ('[permissions.projects]\n"s" = ["apointments"]\n', "permissions.projects.s"),
        ('[permissions.projects]\n"s" = "appointments"\n', "permissions.projects.s"),
        ("[permissions]\ngranted = []\n", "permissions.granted is not a known key"),
    ],
)
def test_bad_grants_are_refused_naming_the_key(data: Path, extra: str, expected: str) -> None:
    with pytest.raises(BackendConfigError) as refused:
        load_config(_config(data, extra))
    assert expected in str(refused.value)


def test_an_unknown_permission_lists_the_known_ones(data: Path) -> None:
    known = r"'apointments' is not a permission.*'appointments'"
    with pytest.raises(BackendConfigError, match=known):
        load_config(_config(data, '[permissions.projects]\n"s" = ["apointments"]\n'))


def test_restricted_tables_are_providable_by_native_backends_only(data: Path) -> None:
    url = f"sqlite://{data}/omop.sqlite"
    config = write_config(data / "o.toml", url, "omop", ["patients", "appointments"])
    with pytest.raises(BackendConfigError, match=r"appointments.*not a table the omop mapping"):
        load_config(config)
