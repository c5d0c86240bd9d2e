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
