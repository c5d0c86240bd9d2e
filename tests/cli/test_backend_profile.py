"""``fedsafe backend profile``: a backend's released profile, the same through either mapping."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from backends.databases import write_config, write_duckdb, write_sqlite
from backends.population import core_population
from fedsafe.backends.mappings.omop_writer import to_omop
from fedsafe.cli.main import app
from fedsafe.dummy_data.profile import read_profile

CORE = ["patients", "practice_registrations", "clinical_events", "medications", "ons_deaths"]
runner = CliRunner()


@pytest.fixture(scope="module")
def configs(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("profiled")
    population = core_population(n=400)
    write_duckdb(folder / "core.duckdb", population)
    write_sqlite(folder / "omop.sqlite", to_omop(population))
    return {
        "native": write_config(
            folder / "native.toml", f"duckdb://{folder}/core.duckdb", "native", CORE
        ),
        "omop": write_config(folder / "omop.toml", f"sqlite://{folder}/omop.sqlite", "omop", CORE),
    }


def test_profile_is_written_and_the_same_through_both_mappings(configs, tmp_path: Path) -> None:
    profiles = {}
    for name, config in configs.items():
        out = tmp_path / f"{name}.json"
        result = runner.invoke(app, ["backend", "profile", str(config), "--output", str(out)])
        assert result.exit_code == 0, result.output
        profiles[name] = read_profile(out)
    native, omop = profiles["native"], profiles["omop"]
    assert native.tables["patients"].rows == omop.tables["patients"].rows
    assert native.age_bands == omop.age_bands
    sexes = native.tables["patients"].columns["sex"].frequencies
    assert sexes and sexes == omop.tables["patients"].columns["sex"].frequencies
    # Counts come out protected by the backend's policy (minimum count 10, rounding to 5).
    for count in native.age_bands.values():
        assert count in (None, 0) or (count % 5 == 0 and count >= 10)


def test_profile_makes_dummy_data_that_follows_it(configs, tmp_path: Path) -> None:
    out = tmp_path / "p.json"
    assert (
        runner.invoke(app, ["backend", "profile", str(configs["native"]), "-o", str(out)]).exit_code
        == 0
    )
    (tmp_path / "analysis").mkdir()
    (tmp_path / "analysis" / "d.py").write_text(
        "from ehrql import create_dataset\n"
        "from ehrql.tables.core import patients\n"
        "dataset = create_dataset()\n"
        "dataset.configure_dummy_data(population_size=50)\n"
        "dataset.define_population(patients.exists_for_patient())\n"
        "dataset.sex = patients.sex\n"
    )
    result = runner.invoke(
        app,
        [
            "generate-dataset",
            str(tmp_path / "analysis" / "d.py"),
            "--output",
            str(tmp_path / "d.csv"),
            "--dummy-profile",
            str(out),
            "--project-dir",
            str(tmp_path),
        ],
    )
    assert result.exit_code == 0, result.output
    assert len((tmp_path / "d.csv").read_text().splitlines()) == 51


@pytest.mark.parametrize(
    ("output", "expected"),
    [("profile.txt", "a .json file"), ("folder", "is a folder")],
)
def test_bad_output_is_refused(configs, tmp_path: Path, output: str, expected: str) -> None:
    (tmp_path / "folder").mkdir()
    result = runner.invoke(
        app, ["backend", "profile", str(configs["native"]), "-o", str(tmp_path / output)]
    )
    assert result.exit_code == 2
    assert expected in result.stderr
    assert not (tmp_path / "profile.txt").exists()


def test_profile_file_is_json_with_the_format_marker(configs, tmp_path: Path) -> None:
    out = tmp_path / "p.json"
    runner.invoke(app, ["backend", "profile", str(configs["omop"]), "-o", str(out)])
    assert json.loads(out.read_text())["format"] == "fedsafe-backend-profile"
