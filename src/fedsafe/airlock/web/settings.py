"""Django settings for one backend's airlock (``fedsafe.airlock.web.settings``).

The backend folder comes from ``FEDSAFE_AIRLOCK_BACKEND_DIR`` (set by ``fedsafe airlock
serve``). Sessions are signed cookies and the airlock keeps its records in its own SQLite file
(``DIR/airlock/airlock.sqlite3``, through :mod:`fedsafe.airlock.db`), so Django needs no
database of its own. The secret key is made once per backend and kept in the airlock folder.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

BACKEND_DIR = Path(os.environ.get("FEDSAFE_AIRLOCK_BACKEND_DIR", ".")).resolve()
_KEY_FILE = BACKEND_DIR / "airlock" / "secret_key"


def _secret_key() -> str:
    if not _KEY_FILE.exists():
        _KEY_FILE.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(_KEY_FILE, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as file:
            file.write(secrets.token_urlsafe(50))
    return _KEY_FILE.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = False
ALLOWED_HOSTS = os.environ.get("FEDSAFE_AIRLOCK_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",")
INSTALLED_APPS = ["fedsafe.airlock.web.apps.AirlockWebConfig"]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
SESSION_ENGINE = "django.contrib.sessions.backends.signed_cookies"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Strict"
ROOT_URLCONF = "fedsafe.airlock.web.urls"
DATABASES: dict = {}
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": ["django.template.context_processors.csrf"]},
    }
]
USE_TZ = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
LOGGING = {"version": 1, "disable_existing_loggers": False}
