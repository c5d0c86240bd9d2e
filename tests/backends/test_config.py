"""Backend configuration files: what is accepted, and each kind of mistake, named precisely."""

from __future__ import annotations

from pathlib import Path

import pytest

from fedsafe.backends.config import BackendConfigError, expand_env, load_config, redact
from fedsafe.executors.limits import ResourceLimits

GOOD = """
[backend]
name = "north"
mapping = "omop"
tables = ["patients", "clinical_events"]

[engine]
url = "postgresql://fedsafe:${NORTH_PASSWORD}@db.internal:5432/omop"

[policy]
minimum_count = 7
rounding_base = 10
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "backend.toml"
    path.write_text(text)
    return path


def test_a_good_config_loads(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, GOOD))
    assert config.name == "north"
    assert config.mapping == "omop"
    assert config.tables == ("patients", "clinical_events")
    assert config.engine.scheme == "postgresql"
    assert (config.policy.minimum_count, config.policy.rounding_base) == (7, 10)


def test_native_renames_and_policy_defaults(tmp_path: Path) -> None:
    text = """
[backend]
name = "local"
mapping = "native"
tables = ["patients"]
[engine]
url = "duckdb:///data/core.duckdb"
[tables]
patients = "gp_patients"
"""
    config = load_config(write(tmp_path, text))
    assert config.physical_name("patients") == "gp_patients"
    assert config.physical_name("medications") == "medications"
    assert (config.policy.minimum_count, config.policy.rounding_base) == (10, 5)
    assert config.limits == ResourceLimits()  # no [limits]: the executor's defaults


def test_a_backend_sets_its_own_resource_limits(tmp_path: Path) -> None:
    text = GOOD + "\n[limits]\ncpu_seconds = 60\nmemory_bytes = 1073741824\noutput_files = 50\n"
    limits = load_config(write(tmp_path, text)).limits
    assert limits == ResourceLimits(
        cpu_seconds=60,
        memory_bytes=1073741824,
        output_files=50,
        output_file_bytes=ResourceLimits().output_file_bytes,
        output_total_bytes=ResourceLimits().output_total_bytes,
        wall_seconds=ResourceLimits().wall_seconds,
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda t: t.replace('name = "north"\n', ""), "backend.name is missing"),
        (
            lambda t: t.replace("[engine]\n", "[engine]\nhost = 'x'\n"),
            "engine.host is not a known key",
        ),
        (lambda t: t + "\n[extra]\nx = 1\n", "extra is not a known key"),
        (
            lambda t: t.replace("minimum_count = 7", "minimun_count = 7"),
            "policy.minimun_count is not a known key",
        ),
        (lambda t: t.replace('"omop"', '"i2b2"'), "backend.mapping"),
        (lambda t: t.replace("minimum_count = 7", "minimum_count = 0"), "policy.minimum_count"),
        (lambda t: t.replace("minimum_count = 7", 'minimum_count = "7"'), "policy.minimum_count"),
        (lambda t: t.replace('"clinical_events"', '"clinical_event"'), "'clinical_event'"),
        (lambda t: t.replace("postgresql://", "mysql://"), "not a supported engine URL"),
        (lambda t: t.replace("[backend]", "[backend"), "is not valid TOML"),
        (lambda t: t + "\n[limits]\ncpu_seconds = 0\n", "limits.cpu_seconds"),
        (lambda t: t + '\n[limits]\nmemory_bytes = "8 GiB"\n', "limits.memory_bytes"),
        (lambda t: t + "\n[limits]\nwall_second = 60\n", "limits.wall_second is not a known"),
        (
            lambda t: t + "\n[limits]\noutput_file_bytes = 20\noutput_total_bytes = 10\n",
            "limits.output_file_bytes (20) is larger than limits.output_total_bytes (10)",
        ),
    ],
)
def test_mistakes_are_named(tmp_path: Path, change, message: str) -> None:
    path = write(tmp_path, change(GOOD))
    with pytest.raises(BackendConfigError) as error:
        load_config(path)
    assert message in str(error.value)
    assert str(path) in str(error.value)


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(BackendConfigError, match=r"nowhere\.toml does not exist"):
        load_config(tmp_path / "nowhere.toml")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda t: t.replace("${NORTH_PASSWORD}", "hunter2"), "engine.url contains a password"),
        (lambda t: t.replace("[engine]\n", '[engine]\npassword = "hunter2"\n'), "engine.password"),
        (lambda t: t.replace("[policy]\n", '[policy]\napi_token = "abc"\n'), "policy.api_token"),
    ],
)
def test_a_secret_in_the_file_is_refused(tmp_path: Path, change, message: str) -> None:
    with pytest.raises(BackendConfigError) as error:
        load_config(write(tmp_path, change(GOOD)))
    assert message in str(error.value)
    assert "environment variable" in str(error.value)
    assert "hunter2" not in str(error.value) and "abc" not in str(error.value)


def test_env_references_expand_only_from_the_environment() -> None:
    url = "postgresql://u:${PW}@h/db"
    assert expand_env(url, {"PW": "s3cret"}, what="engine.url") == "postgresql://u:s3cret@h/db"
    with pytest.raises(BackendConfigError, match="environment variable PW, which is not set"):
        expand_env(url, {}, what="engine.url")


def test_redact_hides_passwords() -> None:
    assert redact("postgresql://u:s3cret@h:5432/db") == "postgresql://u:***@h:5432/db"
    assert redact("duckdb:///x.duckdb") == "duckdb:///x.duckdb"
