"""Identifiers normalised (failures counted, never sent), per-job keys, and the key check."""

from __future__ import annotations

import os

import pytest

from fedsafe.linkage.errors import SecretError, SecretMismatch
from fedsafe.linkage.identifiers import (
    nhs_number_problem,
    normalise_nhs_number,
    normalise_nhs_numbers,
)
from fedsafe.linkage.keys import (
    LinkageSecret,
    confirm_same_key,
    derive_job_key,
    load_secret,
    pseudonymise,
)
from linkage_data import nhs_numbers, with_check_digit

VALID = "9434765919"  # the NHS's own example number


def test_a_valid_nhs_number_is_normalised_whatever_its_spacing():
    assert normalise_nhs_number(VALID) == VALID
    assert normalise_nhs_number("943 476 5919") == VALID
    assert normalise_nhs_number(" 943-476-5919 ") == VALID


@pytest.mark.parametrize(
    ("value", "why"),
    [
        (None, "missing"),
        ("", "missing"),
        (9434765919, "not text"),
        ("94347659l9", "not digits"),
        ("٩٤٣٤٧٦٥٩١٩", "not digits"),  # Arabic-Indic digits: isdigit() but not ASCII
        ("943476591", "not 10 digits"),
        ("94347659190", "not 10 digits"),
        ("9434765918", "check digit wrong"),
    ],
)
def test_invalid_identifiers_give_a_reason(value, why):
    assert nhs_number_problem(value) == why
    assert normalise_nhs_number(value) is None


def test_a_check_digit_of_ten_is_never_valid():
    # find nine digits whose check digit would be 10; no tenth digit makes them valid
    nine = next(
        f"{n:09d}" for n in range(100000000, 100001000) if with_check_digit(f"{n:09d}") is None
    )
    assert all(nhs_number_problem(nine + str(d)) == "check digit wrong" for d in range(10))


def test_failures_are_counted_by_reason_and_left_out():
    good = nhs_numbers(3, seed=1)
    result = normalise_nhs_numbers(
        [(1, good[0]), (2, "123"), (3, None), (4, good[1]), (4, good[2]), (5, good[0])]
    )
    assert result.patient_ids == (1, 4)
    assert result.identifiers == (good[0], good[1])
    assert result.failures == {
        "not 10 digits": 1,
        "missing": 1,
        "patient listed twice": 1,
        "shared by two patients": 1,
    }
    assert result.failed == 4
    assert "4 failed and are left out" in result.report()
    assert "123" not in result.report() and good[0] not in result.report()


def secret() -> LinkageSecret:
    return LinkageSecret(bytes(range(32)))


def test_the_same_secret_project_and_job_give_the_same_key_on_both_sides():
    a = derive_job_key(secret(), "heart-study", "job-1")
    b = derive_job_key(LinkageSecret(bytes(range(32))), "heart-study", "job-1")
    assert a.key == b.key and a.check_value == b.check_value
    confirm_same_key(a, b.check_value, their_backend="hospital")


def test_keys_differ_per_job_and_per_project_and_the_boundary_is_unambiguous():
    keys = {
        derive_job_key(secret(), "heart-study", "job-1").key,
        derive_job_key(secret(), "heart-study", "job-2").key,
        derive_job_key(secret(), "lung-study", "job-1").key,
        derive_job_key(secret(), "heart-s", "tudyjob-1").key,  # same characters, split elsewhere
        derive_job_key(LinkageSecret(bytes(range(1, 33))), "heart-study", "job-1").key,
    }
    assert len(keys) == 5
    with pytest.raises(ValueError):
        derive_job_key(secret(), "heart-study", "")


def test_mismatched_secrets_are_a_clear_error():
    mine = derive_job_key(secret(), "heart-study", "job-1")
    theirs = derive_job_key(LinkageSecret(os.urandom(32)), "heart-study", "job-1")
    with pytest.raises(SecretMismatch) as caught:
        confirm_same_key(mine, theirs.check_value, their_backend="hospital")
    message = str(caught.value)
    assert "'hospital'" in message and "secrets are not the same" in message
    assert "Nothing was transferred" in message
    with pytest.raises(SecretMismatch):
        confirm_same_key(mine, None, their_backend="hospital")  # type: ignore[arg-type]


def test_the_check_value_and_key_id_reveal_neither_key_nor_secret():
    key = derive_job_key(secret(), "heart-study", "job-1")
    assert key.key.hex() not in key.check_value + key.key_id
    assert key.check_value != key.key_id
    assert "key=" not in repr(key) and bytes(range(32)).hex() not in repr(secret())


def test_pseudonyms_are_hmac_sha256_under_the_job_key():
    import hashlib
    import hmac

    key = derive_job_key(secret(), "heart-study", "job-1")
    assert pseudonymise(key, [VALID]) == [
        hmac.new(key.key, VALID.encode(), hashlib.sha256).hexdigest()
    ]


def test_a_short_secret_is_refused():
    with pytest.raises(SecretError, match="at least 32 random bytes"):
        LinkageSecret(b"password")


def test_a_secret_file_is_read_and_must_be_private(tmp_path):
    path = tmp_path / "linkage.secret"
    path.write_text(os.urandom(32).hex() + "\n")
    path.chmod(0o600)
    assert len(load_secret(path).value) == 32
    path.chmod(0o644)
    with pytest.raises(SecretError, match="chmod 600"):
        load_secret(path)
    path.chmod(0o600)
    path.write_text("not hex")
    with pytest.raises(SecretError, match="hex digits only"):
        load_secret(path)
    with pytest.raises(SecretError, match="does not exist"):
        load_secret(tmp_path / "missing")
