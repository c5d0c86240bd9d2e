"""Fixtures for the coordinator's tests on Django's test database."""

from __future__ import annotations

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
