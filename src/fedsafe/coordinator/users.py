"""Creating web users, with Django's password validation and an audit record."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import transaction

from fedsafe.coordinator import audit
from fedsafe.coordinator.errors import FieldError
from fedsafe.coordinator.validation import check_name

__all__ = ["create_user"]

MIN_PASSWORD = 10


def create_user(username: str, password: str, staff: bool = False):
    username = check_name("username", username)
    if len(password) < MIN_PASSWORD:
        raise FieldError("password", f"use at least {MIN_PASSWORD} characters")
    User = get_user_model()
    with transaction.atomic():
        if User.objects.filter(username=username).exists():
            raise FieldError("username", f"a user called {username!r} already exists")
        user = User.objects.create_user(username=username, password=password, is_staff=staff)
        audit.record("operator", "user.created", f"user:{user.pk}", username=username, staff=staff)
    return user
