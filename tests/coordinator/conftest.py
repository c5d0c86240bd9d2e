"""Fixtures for the coordinator's tests on Django's test database."""

from __future__ import annotations

import shutil

import pytest

from fedsafe.coordinator.setup_records import add_backend, create_project, create_workspace


@pytest.fixture
def user(django_user_model):
    return django_user_model.objects.create_user("rita", password="a long password")


@pytest.fixture
def other_user(django_user_model):
    return django_user_model.objects.create_user("sam", password="a long password")


@pytest.fixture
def workspace(user):
    project = create_project(user, "diabetes")
    return create_workspace(user, project, "hba1c", "https://example.org/hba1c.git", "main")


@pytest.fixture
def backends(db):
    """Three backends: two provide patients+events, one only patients."""
    return {
        "north": add_backend("north", "patients,events"),
        "south": add_backend("south", "patients events"),
        "west": add_backend("west", "patients"),
    }


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    """Test users need no slow password hashing."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory):
    """An empty, migrated coordinator database file, made once and copied per test."""
    from coordinator.live import in_coordinator

    path = tmp_path_factory.mktemp("template") / "coordinator.sqlite3"
    in_coordinator(f"sqlite:///{path}", "result = 0")
    return path


@pytest.fixture
def sqlite_url(tmp_path, migrated_sqlite):
    path = tmp_path / "coordinator.sqlite3"
    shutil.copy(migrated_sqlite, path)
    return f"sqlite:///{path}"


@pytest.fixture(autouse=True)
def _data_dir(settings, tmp_path):
    """Released files and combined results go to the test's own folder, never the cwd."""
    settings.DATA_DIR = tmp_path / "coordinator-data"
