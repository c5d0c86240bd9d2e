"""The runner hands a backend's database to dataset actions only, as ``--backend``."""

from __future__ import annotations

from pathlib import Path

from fedsafe.pipeline.runner import _on_backend


def test_data_source_options_are_replaced_by_the_backend_and_user_args_kept():
    args = (
        "generate-dataset",
        "analysis/d.py",
        "--output",
        "output/d.arrow",
        "--dummy-data-file",
        "dummy.csv",
        "--dsn=duckdb:///x.duckdb",
        "--dummy-tables",
        "tables/",
        "--",
        "--dummy-data-file",
        "kept-for-the-definition",
    )
    assert _on_backend(args, Path("/etc/fedsafe/north.toml")) == (
        "generate-dataset",
        "analysis/d.py",
        "--output",
        "output/d.arrow",
        "--backend",
        "/etc/fedsafe/north.toml",
        "--",
        "--dummy-data-file",
        "kept-for-the-definition",
    )


def test_a_backend_option_in_project_yaml_cannot_choose_another_config():
    args = ("generate-dataset", "d.py", "--backend", "--output", "o.arrow")
    assert _on_backend(args, Path("/b.toml")) == (
        "generate-dataset",
        "d.py",
        "--output",
        "o.arrow",
        "--backend",
        "/b.toml",
    )


PROJECT = """
version: '1'
actions:
  peek:
    run: python:v1 analysis/peek.py
    outputs:
      moderately_sensitive:
        seen: output/seen.txt
  big:
    run: python:v1 analysis/big.py
    outputs:
      moderately_sensitive:
        big: output/big.txt
"""

PEEK = """
import os
open("output/seen.txt", "w").write(repr(os.environ.get("DB_PASSWORD")))
"""

BIG = """
open("output/big.txt", "w").write("x" * 3_000_000)
"""


def _study(tmp_path: Path) -> Path:
    (tmp_path / "analysis").mkdir()
    (tmp_path / "project.yaml").write_text(PROJECT)
    (tmp_path / "analysis" / "peek.py").write_text(PEEK)
    (tmp_path / "analysis" / "big.py").write_text(BIG)
    return tmp_path


def test_a_data_sources_limits_apply_to_analysis_actions_and_its_env_does_not(tmp_path):
    """One mechanism: the DataSource's env goes to the executor as ``dataset_env`` (fedsafe's
    runtime only) and its limits as the job's ``limits``, for every action."""
    from fedsafe.executors.limits import ResourceLimits
    from fedsafe.pipeline.runner import DataSource, run_one_action

    study = _study(tmp_path)
    limits = ResourceLimits(output_file_bytes=1_000_000, output_total_bytes=2_000_000)
    source = DataSource(tmp_path / "backend.toml", (("DB_PASSWORD", "hunter2-secret"),), limits)

    peek = run_one_action(study, "peek", source)
    assert peek.status == "succeeded", peek.message
    assert (study / "output" / "seen.txt").read_text() == "None"

    big = run_one_action(study, "big", source)
    assert big.status == "failed"
    assert "wrote a file larger than" in (big.message or "")
    # Without the backend's limits (fedsafe's defaults) the same action succeeds.
    assert run_one_action(study, "big").status == "succeeded"
