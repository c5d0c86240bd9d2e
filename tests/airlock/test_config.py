"""A bad airlock config is refused with the key it is about, before anything is served."""

from __future__ import annotations

import pytest

from fedsafe.airlock.config import check_password, hash_password, load_config
from fedsafe.airlock.errors import AirlockConfigError


def _rewrite(backend, old, new):
    path = backend / "airlock/config.toml"
    path.write_text(path.read_text().replace(old, new, 1))


@pytest.mark.parametrize(
    ("old", "new", "field"),
    [
        ("max_file_bytes = 5000", "max_file_bytes = -1", "airlock.max_file_bytes"),
        ("max_file_bytes = 5000", 'max_file_bytes = "big"', "airlock.max_file_bytes"),
        ("max_file_bytes = 5000", "auto_release = 1", "airlock.auto_release"),
        ("max_file_bytes = 5000", "colour = 1", "airlock.colour"),
        ("max_file_bytes = 5000", 'coordinator_url = "ftp://x"', "airlock.coordinator_url"),
        ("max_file_bytes = 5000", 'allowed_suffixes = ["csv"]', "airlock.allowed_suffixes"),
        ('roles = ["researcher"]', 'roles = ["admin"]', "users.rita.roles"),
        ('workspaces = ["study"]', 'workspaces = ["../x"]', "users.rita.workspaces"),
        ("password_hash = ", "password = ", "users.rita.password_hash"),
        ("[airlock]", "[disclosure]\nsuppress_at_or_below = -3\n[airlock]", "disclosure"),
    ],
)
def test_bad_settings_name_their_key(backend, old, new, field):
    _rewrite(backend, old, new)
    with pytest.raises(AirlockConfigError) as error:
        load_config(backend)
    assert str(error.value).startswith(f"{field}:")


def test_not_toml_and_missing_files_are_clear(backend, tmp_path):
    (backend / "airlock/config.toml").write_text("[airlock\n")
    with pytest.raises(AirlockConfigError, match="not valid TOML"):
        load_config(backend)
    with pytest.raises(AirlockConfigError, match=r"^--backend-dir:"):
        load_config(tmp_path / "nowhere")


def test_passwords_are_checked_against_their_hash():
    stored = hash_password("s3cret")
    assert check_password("s3cret", stored)
    assert not check_password("s3cre", stored)
    assert not check_password("s3cret", "scrypt$zz$zz")
