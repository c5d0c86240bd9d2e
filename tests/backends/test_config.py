"""Backend configuration files: what is accepted, and each kind of mistake, named precisely."""

from __future__ import annotations

from pathlib import Path

import pytest

from fedsafe.backends.config import BackendConfigError, expand_env, load_config, redact

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


def test_the_agent_folders_default_beside_the_file_and_may_be_set(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, GOOD))
    assert config.agent.work_dir == tmp_path / "agent" / "work"
    assert config.agent.medium_store == tmp_path / "agent" / "medium"
    custom = GOOD + '\n[agent]\nhigh_store = "/srv/high"\nstate = "s/agent.sqlite3"\n'
    config = load_config(write(tmp_path, custom))
    assert config.agent.high_store == Path("/srv/high")
    assert config.agent.state == tmp_path / "s" / "agent.sqlite3"


@pytest.mark.parametrize(
    ("agent", "expected"),
    [
        ('medium_store = "agent/high/medium"', "agent.high_store and agent.medium_store overlap"),
        ('work_dir = "agent/medium"', "agent.work_dir and agent.medium_store overlap"),
        ('high_store = "x"\nmedium_store = "x"', "agent.high_store and agent.medium_store overlap"),
        ('hgh_store = "x"', "agent.hgh_store is not a known key"),
    ],
)
def test_agent_folders_that_overlap_or_are_misspelt_are_refused(
    tmp_path: Path, agent: str, expected: str
) -> None:
    with pytest.raises(BackendConfigError, match=expected):
        load_config(write(tmp_path, GOOD + "\n[agent]\n" + agent + "\n"))
