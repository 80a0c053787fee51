"""Settings of the floor app: Django's `startproject` defaults, the product's database options.

DATABASE_URL picks PostgreSQL (persistent connections, as the product keeps them); without it, an SQLite
file in FLOOR_VAR_DIR with the product's pragmas (WAL, synchronous=NORMAL, IMMEDIATE transactions) and, like
the product, connections kept between requests.
"""

import os
from pathlib import Path
from urllib.parse import unquote, urlparse

VAR_DIR = Path(os.environ.get("FLOOR_VAR_DIR", "/tmp/qinqing-floor"))
VAR_DIR.mkdir(parents=True, exist_ok=True)

SECRET_KEY = "floor-benchmark-only"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "floor",
]

# The middleware `django-admin startproject` writes: what a minimal Django app runs on every request.
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "floor.urls"
WSGI_APPLICATION = "floor.wsgi.application"
TEMPLATES: list = []


def _database(url: str) -> dict:
    if not url:
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(VAR_DIR / "floor.sqlite3"),
            "CONN_MAX_AGE": 600,  # as the product keeps its SQLite connections (qinqing/settings.py)
            "OPTIONS": {
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
        }
    parsed = urlparse(url)
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": unquote(parsed.path.lstrip("/")),
        "USER": unquote(parsed.username or ""),
        "PASSWORD": unquote(parsed.password or ""),
        "HOST": unquote(parsed.hostname or ""),
        "PORT": str(parsed.port or ""),
        "CONN_MAX_AGE": 60,
    }


DATABASES = {"default": _database(os.environ.get("DATABASE_URL", ""))}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LANGUAGE_CODE = "zh-hans"
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True
