"""Backend configuration files: what is accepted, and each kind of mistake, named precisely."""

from __future__ import annotations

from pathlib import Path

import pytest

from fedsafe.backends.config import BackendConfigError, expand_env, load_config, redact
from fedsafe.disclosure import DisclosurePolicy
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
    assert config.policy == DisclosurePolicy(suppress_at_or_below=6, rounding_base=10)


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
    # Backend files have always defaulted to showing counts of 10 or more, rounded to 5.
    assert config.policy == DisclosurePolicy(suppress_at_or_below=9, rounding_base=5)
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


def _with_policy(tmp_path: Path, lines: str) -> Path:
    return write(tmp_path, GOOD.replace("minimum_count = 7\nrounding_base = 10\n", lines))


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        # the older keys keep their meaning
        ("minimum_count = 8\n", DisclosurePolicy(suppress_at_or_below=7)),
        ("rounding_base = 1\n", DisclosurePolicy(suppress_at_or_below=9, rounding="none")),
        # every DisclosurePolicy setting by its own name
        (
            'suppress_at_or_below = 7\nrounding = "midpoint"\nallow_zero_cells = true\n',
            DisclosurePolicy(rounding="midpoint", allow_zero_cells=True),
        ),
        ("minimum_count = 11\nmin_residual_df = 20\n", DisclosurePolicy(10, min_residual_df=20)),
        (
            "suppress_at_or_below = 7\nmin_observations_per_parameter = 20\n",
            DisclosurePolicy(min_observations_per_parameter=20),
        ),
    ],
)
def test_the_policy_table_makes_a_disclosure_policy(tmp_path, lines, expected) -> None:
    policy = load_config(_with_policy(tmp_path, lines)).policy
    assert isinstance(policy, DisclosurePolicy)
    assert policy == expected


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ("minimum_count = -3\n", "policy.minimum_count must be a whole number >= 1, got -3"),
        ("minimum_count = true\n", "policy.minimum_count must be a whole number >= 1"),
        ("rounding_base = 0\n", "policy.rounding_base must be a whole number >= 2, got 0"),
        ('rounding = "up"\n', "policy.rounding must be one of nearest, midpoint, none"),
        ('rounding = "none"\nrounding_base = 5\n', "policy.rounding_base was given"),
        ("suppress_at_or_below = -1\n", "policy.suppress_at_or_below must be a whole number"),
        ("dominance_k = 150.0\n", "policy.dominance_k must be a number greater than 0"),
        (
            "min_observations_per_parameter = 0.5\n",
            "policy.min_observations_per_parameter must be a number at least 1",
        ),
        ('allow_zero_cells = "yes"\n', "policy.allow_zero_cells must be true or false"),
        ("supress_at_or_below = 7\n", "policy.supress_at_or_below is not a known key"),
        (
            "minimum_count = 10\nsuppress_at_or_below = 9\n",
            "policy.minimum_count and policy.suppress_at_or_below say the same thing",
        ),
    ],
)
def test_bad_policy_values_name_the_field(tmp_path, lines, message) -> None:
    path = _with_policy(tmp_path, lines)
    with pytest.raises(BackendConfigError) as error:
        load_config(path)
    assert message in str(error.value)
    assert str(path) in str(error.value)


def test_a_policy_that_is_not_a_table_is_refused(tmp_path: Path) -> None:
    text = "policy = 5\n" + GOOD.replace("[policy]\nminimum_count = 7\nrounding_base = 10\n", "")
    with pytest.raises(BackendConfigError, match="policy: Input should be a valid dictionary"):
        load_config(write(tmp_path, text))


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


def test_a_backend_sets_its_cohort_policy(tmp_path: Path) -> None:
    default = load_config(write(tmp_path, GOOD))
    assert (default.cohort.threshold, default.cohort.rounding_base) == (10, 10)
    assert default.cohort.auto_release is True
    path = write(tmp_path, GOOD + "\n[cohort]\nthreshold = 20\nrounding_base = 5\n")
    config = load_config(path)
    assert (config.cohort.threshold, config.cohort.rounding_base) == (20, 5)
    for bad, key in (("threshold = 0", "threshold"), ("rounding = 5", "rounding")):
        with pytest.raises(BackendConfigError, match=key):
            load_config(write(tmp_path, GOOD + f"\n[cohort]\n{bad}\n"))
