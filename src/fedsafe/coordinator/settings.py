"""Django settings, read from the environment so one process can be pointed at any database.

``FEDSAFE_COORDINATOR_DATABASE``: a database URL (default: SQLite in the current folder).
``FEDSAFE_COORDINATOR_SECRET_KEY``: signs sessions; without it a random key is made per process,
so logins do not survive a restart (jobs and requests do: they are in the database).
``FEDSAFE_COORDINATOR_LEASE_SECONDS``: how long an agent's lease lasts without a heartbeat.
``FEDSAFE_COORDINATOR_DATA_DIR``: where released files and combined results are kept (default:
beside a SQLite database, ``<name>-data``; otherwise ``fedsafe-coordinator-data`` here).
``FEDSAFE_COORDINATOR_RELEASE_MAX_BYTES``: the largest released file accepted (10 MB).
"""

from __future__ import annotations

import os
import secrets

from fedsafe.coordinator.blobs import DEFAULT_DATA_DIR, data_dir
from fedsafe.coordinator.dburl import DEFAULT_DATABASE_URL, database_settings

SECRET_KEY = os.environ.get("FEDSAFE_COORDINATOR_SECRET_KEY") or secrets.token_urlsafe(50)
DEBUG = False
ALLOWED_HOSTS = [h for h in os.environ.get("FEDSAFE_COORDINATOR_HOSTS", "*").split(",") if h]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "ninja",
    "fedsafe.coordinator.apps.CoordinatorConfig",
]

MIDDLEWARE = [
    "fedsafe.coordinator.middleware.BodySizeLimit",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "fedsafe.coordinator.urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]
WSGI_APPLICATION = "fedsafe.coordinator.wsgi.application"

DATABASES = {
    "default": database_settings(
        os.environ.get("FEDSAFE_COORDINATOR_DATABASE") or DEFAULT_DATABASE_URL
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

USE_TZ = True
TIME_ZONE = "UTC"
STATIC_URL = "static/"
LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/jobs/"
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
DATA_UPLOAD_MAX_MEMORY_SIZE = 64 * 1024  # forms are small; nothing is uploaded to this app yet

DATA_DIR = data_dir(
    os.environ.get("FEDSAFE_COORDINATOR_DATA_DIR"), DATABASES["default"], DEFAULT_DATA_DIR
)
RELEASE_MAX_BYTES = int(os.environ.get("FEDSAFE_COORDINATOR_RELEASE_MAX_BYTES", "10000000"))
# What a backend may release, as the airlock allows by default: tables, text, images, reports.
RELEASE_SUFFIXES = (".csv", ".txt", ".log", ".md", ".json", ".png", ".jpg", ".svg", ".html")
COMBINE_TIMEOUT_SECONDS = int(os.environ.get("FEDSAFE_COORDINATOR_COMBINE_TIMEOUT", "600"))

LEASE_SECONDS = int(os.environ.get("FEDSAFE_COORDINATOR_LEASE_SECONDS", "300"))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}
