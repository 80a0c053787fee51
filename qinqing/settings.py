"""Django settings for Qinqing. Everything deployment-specific comes from the environment."""

import datetime as dt
from pathlib import Path

from csp.constants import NONE, SELF

from qinqing.lib.env import database_from_url, env_bool, env_int, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("QINQING_VAR_DIR", str(BASE_DIR / "var")))
# The SQLite database and Huey's queue live here: create it, so that any management command works on a
# fresh clone (not only after `make run` made it).
VAR_DIR.mkdir(parents=True, exist_ok=True)

# Published in this repository, so it protects nothing: a server refuses to start with it (qinqing/wsgi.py)
# unless DEBUG is on or QINQING_DEMO says this is the demo (`make run` sets it); `check --deploy` flags it.
DEV_SECRET_KEY = "qinqing-local-only-secret-change-me-in-production"
SECRET_KEY = env_str("SECRET_KEY", DEV_SECRET_KEY)
DEBUG = env_bool("DEBUG", False)
QINQING_DEMO = env_bool("QINQING_DEMO", False)
ALLOWED_HOSTS = [h for h in env_str("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",") if h]
CSRF_TRUSTED_ORIGINS = [o for o in env_str("CSRF_TRUSTED_ORIGINS", "").split(",") if o]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "huey.contrib.djhuey",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "qinqing.accounts",
    "qinqing.workdays",
    "qinqing.enterprises",
    "qinqing.demands",
    "qinqing.notifications",
    "qinqing.portal",
    "qinqing.demo",
    "qinqing.visits",
    "qinqing.supervision",
    "qinqing.reports",
    "qinqing.workbench",
    "qinqing.audit",
    "qinqing.ops",
    "qinqing.policies",
    "qinqing.textmodel",
    "qinqing.handling",
    "qinqing.cooperation",
    "qinqing.handoffs",
    "qinqing.transparency",
    "qinqing.fulfilment",
    "qinqing.hotissues",
]

MIDDLEWARE = [
    # A call to /api/ without a session cookie (a bearer token) skips the session middleware below.
    "qinqing.api.lane.BearerApiLane",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",  # after WhiteNoise: pages get the policy, static files need none
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Idle and absolute session limits, the second factor, the forced change of an initial password.
    "qinqing.accounts.security.AccountGuardMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Empty 403/404/405 answers (require_POST) become the Chinese error page, status and Allow kept.
    "qinqing.accounts.errorpages.ErrorPageMiddleware",
    "axes.middleware.AxesMiddleware",  # last, as axes asks: turns a locked-out login into the lockout page
]

ROOT_URLCONF = "qinqing.urls"
WSGI_APPLICATION = "qinqing.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "qinqing" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "qinqing.workdays.context_processors.calendar_warning",
            ],
        },
    },
]

DATABASES = {"default": database_from_url(env_str("DATABASE_URL"), VAR_DIR / "qinqing.sqlite3")}
# No `SELECT 1` before each request's first query on a kept PostgreSQL connection: it was a round trip on
# every API call. If the server restarted meanwhile, one request fails and Django drops the broken
# connection at its end, so the next request connects afresh.
DATABASES["default"]["CONN_HEALTH_CHECKS"] = False
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # Each server thread keeps its SQLite connection too: opening one (with its pragmas and the functions
    # Django registers on it) cost about a millisecond of CPU on every request. A local file has no server
    # to restart, and between requests no transaction is open, so a kept connection blocks nobody.
    DATABASES["default"]["CONN_MAX_AGE"] = 600
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Axes first: it refuses a locked-out account or address before any password is checked. The API's bearer
# tokens never pass through authenticate(), so lockouts cannot touch them.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

# 等保2.0 三级 口令复杂度: 8 characters or more, three of the four classes, not a common password, not like
# the user's own name, number or address. Django's messages are translated; ours are Chinese.
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator",
     "OPTIONS": {"user_attributes": ["username", "full_name", "email", "phone"]}},
    {"NAME": "qinqing.accounts.passwords.LengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "qinqing.accounts.passwords.CharacterClassesValidator"},
]

# Login lockout (django-axes): consecutive failures per account lock it for a while; failures per address
# have a higher limit, since a whole office may reach us from one address. Administrators unlock under
# 组织与用户 → 登录失败与锁定. A successful login clears the account's count, not the address's.
AXES_FAILURE_LIMIT = env_int("QINQING_LOGIN_FAILURE_LIMIT", 5)
QINQING_LOGIN_ADDRESS_FAILURE_LIMIT = env_int("QINQING_LOGIN_ADDRESS_FAILURE_LIMIT", 50)
AXES_COOLOFF_TIME = dt.timedelta(minutes=env_int("QINQING_LOGIN_LOCKOUT_MINUTES", 30))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_HANDLER = "qinqing.accounts.security.LockoutHandler"
AXES_LOCKOUT_CALLABLE = "qinqing.accounts.security.lockout_response"
AXES_CLIENT_IP_CALLABLE = "qinqing.accounts.security.client_address"
AXES_RESET_ON_SUCCESS = True
# Attempts while locked do not push the unlock time further: the time the page announces holds.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_ENABLE_ADMIN = False  # qinqing.accounts.admin lists attempts and logins with Chinese labels
AXES_VERBOSE = False

# Sessions: an absolute limit from login, and an idle limit (staff 30 minutes, enterprise accounts longer);
# both enforced by qinqing.accounts.security.AccountGuardMiddleware (the cookie's age alone would slide).
QINQING_SESSION_MAX_HOURS = env_int("QINQING_SESSION_MAX_HOURS", 12)
QINQING_SESSION_IDLE_MINUTES = env_int("QINQING_SESSION_IDLE_MINUTES", 30)
QINQING_PORTAL_SESSION_IDLE_MINUTES = env_int("QINQING_PORTAL_SESSION_IDLE_MINUTES", 120)
SESSION_COOKIE_AGE = QINQING_SESSION_MAX_HOURS * 3600

# Second factor (TOTP, django-otp): anyone may enrol; holders of these roles must, at their next login.
QINQING_REQUIRE_2FA_ROLES = [r.strip() for r in env_str("QINQING_REQUIRE_2FA_ROLES", "").split(",") if r.strip()]
OTP_TOTP_ISSUER = "亲清"
# API tokens expire this many days after they are issued (qinqing.accounts.services.issue_token).
QINQING_API_TOKEN_DAYS = env_int("QINQING_API_TOKEN_DAYS", 90)

LANGUAGE_CODE = "zh-hans"
# The only language offered: an English-language browser must still get Chinese pages and dates.
LANGUAGES = [("zh-hans", "简体中文")]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "qinqing" / "static"]
_NODE_HTMX = BASE_DIR / "node_modules" / "htmx.org" / "dist"
if _NODE_HTMX.exists():
    STATICFILES_DIRS.append(("vendor/htmx", _NODE_HTMX))
_NODE_ECHARTS = BASE_DIR / "node_modules" / "echarts" / "dist"
if _NODE_ECHARTS.exists():  # dashboards fall back to their tables without it
    STATICFILES_DIRS.append(("vendor/echarts", _NODE_ECHARTS))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
MEDIA_ROOT = VAR_DIR / "media"
MEDIA_URL = "media/"

# Uploads: demands accept a few attachments of ordinary office types.
QINQING_ATTACHMENT_MAX_BYTES = env_int("QINQING_ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024)
# Ledger exports up to this many rows download at once; larger ones become a background job.
QINQING_EXPORT_SYNC_ROWS = env_int("QINQING_EXPORT_SYNC_ROWS", 3000)
# A calendar change recomputes open demands' deadlines inline up to this many candidates, else in the worker.
QINQING_CALENDAR_SYNC_DEMANDS = env_int("QINQING_CALENDAR_SYNC_DEMANDS", 2000)
# 默认满意: a reply left unrated this many working days is closed as such (qinqing.handoffs).
QINQING_DEFAULT_SATISFIED_WORKDAYS = env_int("QINQING_DEFAULT_SATISFIED_WORKDAYS", 7)
# 惠企政策 reminders: days before an application window closes on which eligible enterprises are told again
# (a comma-separated list, e.g. "15,3"; qinqing.policies.pushes).
QINQING_POLICY_REMINDER_DAYS = env_str("QINQING_POLICY_REMINDER_DAYS", "15,3")
# Briefings count on-site visits as 走访; districts whose 会见 are held at the enterprise count those too.
QINQING_BRIEFING_MEETINGS_COUNT_AS_VISITS = env_bool("QINQING_BRIEFING_MEETINGS_COUNT_AS_VISITS", False)
# The SMS gateway (a dotted path); the default only records messages in the database (no network).
QINQING_SMS_BACKEND = env_str("QINQING_SMS_BACKEND", "qinqing.notifications.sms.DatabaseBackend")
# The text model learns a category or a unit once this many dispatched demands carry it; until two do, the
# keyword lexicon suggests (qinqing.textmodel.services).
QINQING_TEXTMODEL_MIN_EXAMPLES = env_int("QINQING_TEXTMODEL_MIN_EXAMPLES", 30)
QINQING_ATTACHMENT_EXTENSIONS = ["pdf", "jpg", "jpeg", "png", "doc", "docx", "xls", "xlsx", "txt"]
QINQING_ATTACHMENTS_PER_DEMAND = 10
# Every upload is checked by its content, its extension and its size (qinqing.lib.uploads); each use has its
# own limit: attachments above, the registry import in QINQING_IMPORT_LIMITS (50 MB by default), these two.
# 包联关系表 and a campaign's target list:
QINQING_WORKBOOK_UPLOAD_MAX_BYTES = env_int("QINQING_WORKBOOK_UPLOAD_MAX_BYTES", 5 * 1024 * 1024)
QINQING_CALENDAR_UPLOAD_MAX_BYTES = 512 * 1024  # a year's holiday arrangement is a few dozen lines
# Form fields other than files (Django counts files apart); files above 2 MB go to a temporary file on
# disk instead of memory while they are checked. The reverse proxy caps a whole request's size.
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.filebased.EmailBackend")
EMAIL_FILE_PATH = VAR_DIR / "mail"
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "qinqing@localhost")

_REDIS_URL = env_str("REDIS_URL")
if _REDIS_URL:
    HUEY = {"huey_class": "huey.RedisHuey", "name": "qinqing", "url": _REDIS_URL, "immediate": False}
else:
    HUEY = {
        "huey_class": "huey.SqliteHuey",
        "name": "qinqing",
        "filename": str(VAR_DIR / "huey.sqlite3"),
        "immediate": False,
    }
HUEY["consumer"] = {"workers": 2, "worker_type": "thread", "periodic": True}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    # Huey's consumer installs its own handler; not propagating avoids every line printed twice.
    # axes: failures and lockouts (WARNING) are kept; every successful login at INFO is in 登录记录 already.
    "loggers": {"jieba": {"level": "WARNING"}, "huey": {"level": "INFO", "propagate": False},
                "axes": {"level": "WARNING"}},
}

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
CSRF_FAILURE_VIEW = "qinqing.accounts.errorpages.csrf_failure"  # a Chinese page, not Django's English one
X_FRAME_OPTIONS = "DENY"

# HTTPS behind a reverse proxy (README, 安全): the proxy terminates TLS and sets X-Forwarded-Proto and
# X-Forwarded-For; Django then redirects plain HTTP, marks cookies Secure and sends HSTS for a year.
QINQING_HTTPS = env_bool("QINQING_HTTPS", False)
if QINQING_HTTPS:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = 365 * 24 * 3600
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = False
# Preload would commit the whole registrable domain (often a gov.cn name we do not own) to the browsers'
# HTTPS-only list; that is the domain owner's decision, so the reminder is silenced.
SILENCED_SYSTEM_CHECKS = ["security.W021"]

# Content-Security-Policy (django-csp): scripts and styles only from our own static files, no inline code,
# no framing. Charts, htmx and the admin run from static files; JSON data rides in json_script blocks.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}
