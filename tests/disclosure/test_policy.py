"""DisclosurePolicy: defaults, validation on construction, and building from a config table."""

import dataclasses

import pytest

from fedsafe.disclosure import DisclosurePolicy, PolicyError
from fedsafe.errors import FedsafeError


def test_defaults_follow_opensafely():
    policy = DisclosurePolicy()
    assert policy.suppress_at_or_below == 7
    assert policy.rounding == "nearest"
    assert policy.base == 5
    assert policy.suppress_zero is False
    assert policy.secondary_suppression is True


def test_midpoint_rounding_defaults_to_base_six():
    assert DisclosurePolicy(rounding="midpoint").base == 6


def test_policy_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        DisclosurePolicy().suppress_at_or_below = 0  # type: ignore[misc]


def test_from_mapping_reads_a_backend_table():
    policy = DisclosurePolicy.from_mapping(
        {"suppress_at_or_below": 10, "rounding": "nearest", "rounding_base": 10}
    )
    assert (policy.suppress_at_or_below, policy.base) == (10, 10)


def test_from_mapping_refuses_unknown_keys_by_name():
    with pytest.raises(PolicyError) as caught:
        DisclosurePolicy.from_mapping(
            {"supress_at_or_below": 10, "round": 5}, source="backend.toml [disclosure]"
        )
    message = str(caught.value)
    assert "backend.toml [disclosure]" in message
    assert "'round'" in message and "'supress_at_or_below'" in message
    assert "suppress_at_or_below" in message.split("known settings are")[1]


BAD_VALUES = [
    ({"suppress_at_or_below": -1}, "suppress_at_or_below must be a whole number >= 0"),
    ({"suppress_at_or_below": "7"}, "suppress_at_or_below must be a whole number"),
    ({"suppress_at_or_below": 7.5}, "suppress_at_or_below must be a whole number"),
    ({"suppress_at_or_below": True}, "suppress_at_or_below must be a whole number"),
    ({"rounding": "banker"}, "rounding must be one of nearest, midpoint, none"),
    ({"rounding_base": 1}, "rounding_base must be a whole number >= 2"),
    ({"rounding_base": 0}, "rounding_base must be a whole number >= 2"),
    ({"rounding": "none", "rounding_base": 5}, "rounding is 'none'"),
    ({"suppress_zero": "yes"}, "suppress_zero must be true or false"),
    ({"secondary_suppression": 1}, "secondary_suppression must be true or false"),
    ({"dominance_n": 0}, "dominance_n must be a whole number >= 1"),
    ({"dominance_k": 0}, "dominance_k must be a number greater than 0"),
    ({"dominance_k": 101}, "dominance_k must be a number greater than 0 and at most 100"),
    ({"p_percent": float("nan")}, "p_percent must be a number"),
    ({"min_residual_df": -3}, "min_residual_df must be a whole number >= 0"),
    (
        {"min_observations_per_parameter": 0.5},
        "min_observations_per_parameter must be a number at least 1",
    ),
    ({"min_observations_per_parameter": "10"}, "min_observations_per_parameter must be a number"),
    ({"min_observations_per_parameter": float("inf")}, "min_observations_per_parameter must be"),
    ({"min_observations_per_parameter": True}, "min_observations_per_parameter must be a number"),
]


@pytest.mark.parametrize(("settings", "expected"), BAD_VALUES)
def test_bad_values_are_refused_with_the_setting_named(settings, expected):
    with pytest.raises(PolicyError, match=r"^cfg\.toml: ") as caught:
        DisclosurePolicy.from_mapping(settings, source="cfg.toml")
    assert expected in str(caught.value)
    assert isinstance(caught.value, FedsafeError)


def test_from_mapping_refuses_a_non_table():
    with pytest.raises(PolicyError, match="expected a table of settings, got list"):
        DisclosurePolicy.from_mapping([("rounding", "none")])  # type: ignore[arg-type]


def test_to_dict_round_trips():
    policy = DisclosurePolicy(rounding="midpoint", suppress_at_or_below=0)
    assert DisclosurePolicy.from_mapping(policy.to_dict()) == policy


def test_from_environment_reads_the_backend_policy():
    environ = {"FEDSAFE_DISCLOSURE_POLICY": '{"suppress_at_or_below": 10, "rounding": "midpoint"}'}
    policy = DisclosurePolicy.from_environment(environ)
    assert (policy.suppress_at_or_below, policy.rounding, policy.base) == (10, "midpoint", 6)
    assert DisclosurePolicy.from_environment({}) == DisclosurePolicy()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("{nope", "FEDSAFE_DISCLOSURE_POLICY: not valid JSON"),
        ('{"colour": 1}', "FEDSAFE_DISCLOSURE_POLICY: unknown setting 'colour'"),
        ("[1]", "FEDSAFE_DISCLOSURE_POLICY: expected a table of settings"),
    ],
)
def test_from_environment_refuses_bad_settings(text, expected):
    with pytest.raises(PolicyError) as caught:
        DisclosurePolicy.from_environment({"FEDSAFE_DISCLOSURE_POLICY": text})
    assert expected in str(caught.value)


def test_zero_and_full_cell_settings_are_validated_flags():
    """#16: new settings default to the strict side and refuse non-booleans by name."""
    from fedsafe.disclosure import PolicyError

    policy = DisclosurePolicy()
    assert policy.allow_zero_cells is False and policy.allow_full_cells is False
    assert policy.redacts_zero
    for name in ("allow_zero_cells", "allow_full_cells"):
        with pytest.raises(PolicyError, match=f"{name} must be true or false, got 'no'"):
            DisclosurePolicy.from_mapping({name: "no"})
    assert not DisclosurePolicy.from_mapping({"allow_zero_cells": True}).redacts_zero
