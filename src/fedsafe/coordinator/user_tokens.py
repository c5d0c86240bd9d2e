"""People's API tokens (for the TES and crate APIs): shown once, stored as SHA-256, and
checked on each call; revoked or unknown tokens are refused and audited."""

from __future__ import annotations

import secrets

from django.contrib.auth import get_user_model
from django.utils import timezone

from fedsafe.coordinator import audit
from fedsafe.coordinator.errors import FieldError
from fedsafe.coordinator.models import UserApiToken
from fedsafe.coordinator.tokens import hash_token

__all__ = ["issue_user_token", "user_for_token"]

USER_TOKEN_PREFIX = "fsu_"


def issue_user_token(username: str) -> str:
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise FieldError("username", f"no user called {username!r}")
    token = USER_TOKEN_PREFIX + secrets.token_urlsafe(32)
    UserApiToken.objects.create(
        user=user, token_hash=hash_token(token), prefix=token[:12], created_at=timezone.now()
    )
    audit.record("operator", "user.token_issued", f"user:{user.pk}", prefix=token[:12])
    return token


def user_for_token(token: str, path: str):
    found = UserApiToken.objects.select_related("user").filter(token_hash=hash_token(token)).first()
    if found is None or found.revoked_at is not None or not found.user.is_active:
        reason = "unknown token" if found is None else f"revoked token {found.prefix}"
        audit.record("anonymous", "api.refused", path[:60], reason=reason)
        return None
    return found.user
