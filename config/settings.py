"""One settings module for every deployment mode, driven by environment variables.

Debug mode is off unless `DEBUG=1` (`make dev`). Without `SECRET_KEY` a key is made on the first
run and kept in `.secret-key` (git ignores it); without `ALLOWED_HOSTS` the host names follow
`HOST`, the address the server listens on. Plain HTTP works (a classroom network); TLS redirects,
HSTS and secure cookies come with `TLS_PROXY=1`, a TLS-terminating proxy in front.
DATABASE_URL / REDIS_URL switch to PostgreSQL and Redis. A missing or malformed value stops
start-up with its name.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
import django_stubs_ext
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from config.env import envbool, envchoice, envfloat, envint, envlist, envsecret, envstr
from config.hosts import hosts_for
from config.secret_key import local_secret_key

# Lets annotations such as ModelAdmin[LessonRead] work at run time.
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = envbool("DEBUG", False)
if os.environ.get("SECRET_KEY") == "":
    raise ImproperlyConfigured("SECRET_KEY is set but empty: give it a value or unset it")
SECRET_KEY = envsecret("SECRET_KEY", required=False) or local_secret_key(BASE_DIR / ".secret-key")
# The address the server listens on (`make run HOST=...`): the names a browser may use follow.
HOST = envstr("HOST") or "127.0.0.1"
ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", hosts_for(HOST))
if not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS is set but empty (comma-separated host names)")
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS", [])
# A TLS-terminating proxy in front of the server, which sets X-Forwarded-Proto.
TLS_PROXY = envbool("TLS_PROXY", False)

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "axes",
    "csp",
    "django_htmx",
    "template_partials",
    "channels",
    "course",
    "quizzes",
    "labs",
    "ops",
]

MIDDLEWARE = [
    # First, so every record logged while answering carries the request's correlation id.
    "ops.correlation.CorrelationIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # After authentication: turns away a login locked out by too many failures.
    "axes.middleware.AxesMiddleware",
    "config.errors.StyledNotFoundMiddleware",
    "config.middleware.SyncChainMiddleware",  # last: see its docstring
]

ROOT_URLCONF = "config.urls"
ASGI_APPLICATION = "config.asgi.application"
WSGI_APPLICATION = None

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "builtins": ["template_partials.templatetags.partials"],
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "course.context_processors.course_nav",
            ],
        },
    }
]

# --- Database: SQLite by default, DATABASE_URL for PostgreSQL (or another SQLite file) ---
# Several coach turns write at once; wait for the lock instead of failing, and take the write
# lock when a transaction starts (BEGIN IMMEDIATE) so that two writers never deadlock on an
# upgrade from read to write. WAL lets readers run beside the writer, and with
# synchronous=NORMAL a commit no longer waits for an fsync (a power cut may lose the last
# commits, never corrupt the file). The same however SQLite is named.
SQLITE_OPTIONS = {
    "timeout": 20,
    "transaction_mode": "IMMEDIATE",
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
}
_database_url = envstr("DATABASE_URL")
if _database_url:
    try:
        _db = dj_database_url.parse(_database_url)
    except ValueError as exc:
        raise ImproperlyConfigured(f"DATABASE_URL is malformed: {exc}") from None
    if not _db.get("ENGINE"):
        raise ImproperlyConfigured(f"DATABASE_URL has an unknown scheme: {_database_url!r}")
    if _db["ENGINE"] == "django.db.backends.postgresql":
        # Under ASGI every request and every websocket hop closes its connection when done;
        # the pool keeps them open between hops instead of connecting anew each time. A
        # worker holds at most DB_POOL_SIZE connections (and waits for one beyond that).
        _db.setdefault("OPTIONS", {})["pool"] = {
            "min_size": 1,
            "max_size": envint("DB_POOL_SIZE", 10, minimum=1),
        }
    _db.setdefault("TEST", {})
else:
    _db = {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": envstr("SQLITE_PATH") or str(BASE_DIR / "db.sqlite3"),
    }
if _db["ENGINE"] == "django.db.backends.sqlite3":
    _db["OPTIONS"] = {**SQLITE_OPTIONS, **_db.get("OPTIONS", {})}
    # The websocket's database hops all run in one long-lived thread: keeping its connection
    # spares each hop a reconnect, and SQLite's checkpoint of the WAL when the last connection
    # closes. An HTTP request runs in a thread of its own, whose connection closes with it.
    _db["CONN_MAX_AGE"] = 60
DATABASES = {"default": _db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: channel layer + cache + shared rate-limit governor ---
REDIS_URL = envstr("REDIS_URL")
if REDIS_URL:
    if not REDIS_URL.startswith(("redis://", "rediss://", "unix://")):
        raise ImproperlyConfigured(
            f"REDIS_URL must start with redis:// or rediss://: {REDIS_URL!r}"
        )
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            # redis-py >= 8 defaults socket_timeout to 5 s, which kills idle consumers.
            "CONFIG": {"hosts": [{"address": REDIS_URL, "socket_timeout": None}]},
        }
    }
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    # Refuses a locked-out login before the password is hashed (each try costs ~0.25 s of CPU).
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Login throttling (django-axes): after LOGIN_FAILURE_LIMIT wrong passwords for one account
# from one address, that pair waits LOGIN_COOLOFF_MINUTES. Counting by the pair, not by
# address alone, keeps a class behind one school address from locking each other out.
AXES_FAILURE_LIMIT = envint("LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=envint("LOGIN_COOLOFF_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_DISABLE_ACCESS_LOG = True
AXES_LOCKOUT_CALLABLE = "course.accounts.locked_out"
# Password-reset email (course.reset_limit): per PASSWORD_RESET_WINDOW_MINUTES, at most
# PASSWORD_RESET_LIMIT_PER_EMAIL requests name one email address and at most
# PASSWORD_RESET_LIMIT_PER_CLIENT come from one address (higher: a class may share one).
PASSWORD_RESET_LIMIT_PER_EMAIL = envint("PASSWORD_RESET_LIMIT_PER_EMAIL", 3, minimum=1)
PASSWORD_RESET_LIMIT_PER_CLIENT = envint("PASSWORD_RESET_LIMIT_PER_CLIENT", 20, minimum=1)
PASSWORD_RESET_WINDOW = timedelta(minutes=envint("PASSWORD_RESET_WINDOW_MINUTES", 15, minimum=1))
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

LANGUAGE_CODE = "en"
TIME_ZONE = envstr("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(envstr("STATIC_ROOT", str(BASE_DIR / "staticfiles")) or "staticfiles")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG

# --- Security ---
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
if TLS_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", 31536000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = envbool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = envbool("SECURE_HSTS_PRELOAD", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
# Scripts and styles only from the site's own files: no inline script, no eval, nothing from
# elsewhere. htmx 4 adds its indicator styles as a constructed stylesheet, which this allows.
# `'self'` covers the lab's websocket (same host, ws: or wss:).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# --- Email (password reset): printed on the server's output unless EMAIL_HOST names SMTP ---
EMAIL_HOST = envstr("EMAIL_HOST", "") or ""
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    # STARTTLS on 587 unless EMAIL_USE_SSL asks for implicit TLS (usually port 465).
    EMAIL_USE_SSL = envbool("EMAIL_USE_SSL", False)
    EMAIL_USE_TLS = envbool("EMAIL_USE_TLS", not EMAIL_USE_SSL)
    EMAIL_PORT = envint("EMAIL_PORT", 465 if EMAIL_USE_SSL else 587, minimum=1)
    EMAIL_HOST_USER = envstr("EMAIL_HOST_USER", "") or ""
    EMAIL_HOST_PASSWORD = envsecret("EMAIL_HOST_PASSWORD", required=False) or ""
    if EMAIL_USE_TLS and EMAIL_USE_SSL:
        raise ImproperlyConfigured("EMAIL_USE_TLS and EMAIL_USE_SSL cannot both be on")
    EMAIL_TIMEOUT = envint("EMAIL_TIMEOUT", 10, minimum=1)
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = (
    envstr("DEFAULT_FROM_EMAIL", "") or "Production Patterns course <course@localhost>"
)

# --- Course content ---
CONTENT_DIR = Path(envstr("CONTENT_DIR", str(BASE_DIR / "content")) or "content")
if not CONTENT_DIR.is_dir():
    raise ImproperlyConfigured(f"CONTENT_DIR is not a folder: {CONTENT_DIR}")

# --- Coach (labs) ---
ANTHROPIC_API_KEY = envsecret("ANTHROPIC_API_KEY", required=False)
ANTHROPIC_BASE_URL = envstr("ANTHROPIC_BASE_URL")
COACH_MODEL: str = envstr("COACH_MODEL") or "claude-sonnet-4-6"
COACH_FALLBACK_MODEL = envstr("COACH_FALLBACK_MODEL", "")
COACH_MAX_TOKENS = envint("COACH_MAX_TOKENS", 1024, minimum=16)
COACH_FAULTS = envstr("COACH_FAULTS", "")
# Proactive pacing of real-API turns: "auto" shares one limit through Redis when REDIS_URL is
# set (every worker of a deployment), else paces per process; "memory" or "off" to override.
COACH_GOVERNOR = envchoice("COACH_GOVERNOR", "auto", ("auto", "redis", "memory", "off"))
if COACH_GOVERNOR == "redis" and not REDIS_URL:
    raise ImproperlyConfigured("COACH_GOVERNOR=redis needs REDIS_URL")
# The organisation's limits when known (0: learn them from the anthropic-ratelimit-* headers).
COACH_RPM = envint("COACH_RPM", 0, minimum=0)
COACH_ITPM = envint("COACH_ITPM", 0, minimum=0)
COACH_OTPM = envint("COACH_OTPM", 0, minimum=0)
COACH_TTFT = envfloat("COACH_TTFT", 0.4, minimum=0)
COACH_TOKENS_PER_SECOND = envfloat("COACH_TOKENS_PER_SECOND", 60.0, minimum=0)
CHAT_MAX_MESSAGE_CHARS = envint("CHAT_MAX_MESSAGE_CHARS", 4000, minimum=1)
CHAT_MESSAGES_PER_MINUTE = envint("CHAT_MESSAGES_PER_MINUTE", 10, minimum=1)
BUDGET_CONVERSATION_USD = envfloat("BUDGET_CONVERSATION_USD", 0.50, minimum=0)
BUDGET_LEARNER_DAY_USD = envfloat("BUDGET_LEARNER_DAY_USD", 2.00, minimum=0)
BUDGET_GLOBAL_DAY_USD = envfloat("BUDGET_GLOBAL_DAY_USD", 50.0, minimum=0)

# --- Operations (ops): correlation ids, metrics, telemetry retention, alert thresholds ---
TRUST_X_REQUEST_ID = envbool("TRUST_X_REQUEST_ID", False)
METRICS_TOKEN = envsecret("METRICS_TOKEN", required=False)
TELEMETRY_RETENTION_DAYS = envint("TELEMETRY_RETENTION_DAYS", 30, minimum=1)
ALERT_WINDOW_MINUTES = envint("ALERT_WINDOW_MINUTES", 5, minimum=1)
ALERT_MIN_TURNS = envint("ALERT_MIN_TURNS", 5, minimum=1)
ALERT_ERROR_RATE_PERCENT = envfloat("ALERT_ERROR_RATE_PERCENT", 5.0, minimum=0)
ALERT_P95_LATENCY_MS = envfloat("ALERT_P95_LATENCY_MS", 30000.0, minimum=0)
ALERT_P95_TTFT_MS = envfloat("ALERT_P95_TTFT_MS", 5000.0, minimum=0)
ALERT_COST_BUDGET_FRACTION = envfloat("ALERT_COST_BUDGET_FRACTION", 1.0, minimum=0)

LOG_LEVEL = envstr("LOG_LEVEL", "INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "config.logs.JsonFormatter"}},
    "filters": {"correlation": {"()": "ops.logs.CorrelationFilter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "filters": ["correlation"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.server": {"level": "WARNING"},
        "daphne": {"level": "WARNING"},
        # Failed logins and lock-outs are warnings; every start and every login would be info.
        "axes": {"level": "WARNING"},
    },
}
