"""Data-quality reports of several backends, combined side by side by ``combine_released``.

The reports are made by the real command on real databases (a native DuckDB with small groups,
an OMOP SQLite through its mapping) and released into one folder per backend."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import pytest
from typer.testing import CliRunner

from backends.databases import write_config, write_sqlite
from backends.population import core_population
from fedsafe.backends.mappings.omop_writer import to_omop
from fedsafe.cli.main import app
from fedsafe.disclosure import DisclosurePolicy, Status, check_output_file
from fedsafe.federation import ReleasedFilesError, combine_released
from quality.backend_db import make_database

REPORT = "backend_report"


@pytest.fixture(scope="module")
def made(tmp_path_factory) -> Path:
    """released/north (DuckDB, --dsn) and released/south (OMOP, --backend), as released."""
    folder = tmp_path_factory.mktemp("quality")
    north = make_database(folder / "north.duckdb")
    write_sqlite(folder / "south.sqlite", to_omop(core_population(n=150, seed=4)))
    south = write_config(
        folder / "south.toml",
        f"sqlite://{folder}/south.sqlite",
        "omop",
        ["patients", "clinical_events", "medications"],
        name="south",
    )
    released = folder / "released"
    for args in (
        ["--dsn", f"duckdb:///{north}", "-o", str(released / "north" / REPORT)],
        ["--backend", str(south), "-o", str(released / "south" / REPORT)],
    ):
        result = CliRunner().invoke(app, ["backend", "report", *args])
        assert result.exit_code == 0, result.output
    return released


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def _own(released: Path, backend: str, name: str) -> dict[str, dict[str, str]]:
    rows = _rows(released / backend / REPORT / name)
    return {row[next(iter(row))]: row for row in rows}


def test_reports_are_put_side_by_side_not_pooled(made, tmp_path):
    report = combine_released(made, tmp_path / "out")
    quality = [o for o in report.manifest["outputs"] if o["kind"] == "quality_comparison"]
    paths = {o["path"] for o in quality}
    assert f"quality/{REPORT}/table_sizes.csv" in paths
    assert f"quality/{REPORT}/report.html" in paths
    assert not [o for o in report.manifest["outputs"] if o["path"].startswith("tables/")]
    assert not [s for s in report.manifest["skipped"] if s["path"].startswith(REPORT)]
    sizes = {
        r["table"]: r for r in _rows(tmp_path / "out" / "quality" / REPORT / "table_sizes.csv")
    }
    # Each backend's own released values, unchanged under the same policy.
    for backend in ("north", "south"):
        own = _own(made, backend, "table_sizes.csv")
        for table in own:
            assert sizes[table][f"{backend}_rows"] == own[table]["rows"]
            assert sizes[table][f"{backend}_patients"] == own[table]["patients"]
    assert sizes["medications"]["north_rows"] == ""  # north has no medications table
    assert sizes["medications"]["south_rows"] != ""


def test_rows_per_1000_patients_by_month_per_backend(made, tmp_path):
    combine_released(made, tmp_path / "out")
    folder = tmp_path / "out" / "quality" / REPORT
    rates = _rows(folder / "per_1000_patients_months_clinical_events_date.csv")
    assert rates and all(r["month"][:4].isdigit() for r in rates)  # no Total or Other row
    for backend in ("north", "south"):
        patients = int(_own(made, backend, "table_sizes.csv")["patients"]["patients"])
        own = _own(made, backend, "months_clinical_events_date.csv")
        for row in rates:
            count = own.get(row["month"], {}).get("n", "")
            assert row[f"{backend}_n"] == count
            if count:
                expected = 1000 * int(count) / patients
                assert math.isclose(
                    float(row[f"{backend}_per_1000_patients"]), expected, rel_tol=1e-3
                )
            else:
                assert row[f"{backend}_per_1000_patients"] == ""


def test_every_combined_table_passes_the_checker_and_shows_no_small_count(made, tmp_path):
    combine_released(made, tmp_path / "out")
    tables = sorted((tmp_path / "out" / "quality" / REPORT).glob("*.csv"))
    assert len(tables) >= 6
    for path in tables:
        assert check_output_file(path, DisclosurePolicy()).status is Status.PASS, path
        for row in _rows(path):
            for column, value in row.items():
                counted = column.endswith(("_n", "_rows", "_patients", "_missing"))
                if counted and "per_1000" not in column and value:
                    assert int(value) == 0 or int(value) > 7, (path.name, column, value)


def test_a_stricter_combine_policy_hides_more_and_never_beside_a_total(made, tmp_path):
    """Re-protecting with a higher threshold hides cells the backends published; no total row
    and no 'present' column is kept from which such a cell could be worked out."""
    policy = DisclosurePolicy(suppress_at_or_below=300)
    combine_released(made, tmp_path / "out", policy)
    folder = tmp_path / "out" / "quality" / REPORT
    months = _rows(folder / "months_clinical_events_date.csv")
    assert any(r["north_n"] == "" for r in months)  # hidden by the stricter policy
    assert not [r for r in months if r["month"].lower() == "total"]
    completeness = _rows(folder / "completeness_clinical_events.csv")
    assert not [c for c in completeness[0] if c.endswith("_present")]
    for path in folder.glob("*.csv"):
        assert check_output_file(path, policy).status is Status.PASS, path


def _copy(made: Path, tmp_path: Path) -> Path:
    import shutil

    shutil.copytree(made, tmp_path / "released")
    return tmp_path / "released"


def test_an_index_naming_a_file_outside_its_folder_is_refused(made, tmp_path):
    released = _copy(made, tmp_path)
    index = released / "south" / REPORT / "index.json"
    document = json.loads(index.read_text())
    document["files"][0]["file"] = "../../north/secret.csv"
    index.write_text(json.dumps(document))
    with pytest.raises(ReleasedFilesError, match="is not a file name in the report folder"):
        combine_released(released, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_backends_releasing_different_columns_are_refused(made, tmp_path):
    released = _copy(made, tmp_path)
    path = released / "south" / REPORT / "table_sizes.csv"
    sidecar = path.with_name(path.name + ".disclosure.json")
    record = json.loads(sidecar.read_text())
    record["columns"]["rows"] = "label"
    sidecar.write_text(json.dumps(record))
    with pytest.raises(ReleasedFilesError, match="expected one label column"):
        combine_released(released, tmp_path / "out")
    assert not (tmp_path / "out").exists()
