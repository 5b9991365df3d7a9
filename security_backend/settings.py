"""The one settings module: every value comes from the environment, with dev defaults."""

import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()

# --------------------------------------------------------------------------- core
DEBUG = env.bool("DEBUG", default=True)


def _dev_secret_key() -> str:
    """A random key kept per checkout, so dev tokens survive restarts; never used in production."""
    path = VAR_DIR / "dev-secret-key"
    if not path.exists():
        VAR_DIR.mkdir(exist_ok=True)
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = env.str("SECRET_KEY", default="")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[])
if not DEBUG:
    # Production must be configured explicitly: no key or host list that "just works".
    if len(SECRET_KEY) < 50:
        raise ImproperlyConfigured(
            "SECRET_KEY (at least 50 characters) is required when DEBUG is off."
        )
    if not ALLOWED_HOSTS:
        raise ImproperlyConfigured("ALLOWED_HOSTS is required when DEBUG is off.")
else:
    SECRET_KEY = SECRET_KEY or _dev_secret_key()
    ALLOWED_HOSTS = ALLOWED_HOSTS or ["localhost", "127.0.0.1", "[::1]", "testserver"]

INSTALLED_APPS = [
    "daphne",
    "secalerts.accounts.apps.AdminConfig",  # django.contrib.admin, login throttled
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "django_tasks_db",
    "secalerts.core",
    "secalerts.audit",
    "secalerts.accounts",
    "secalerts.events",
    "secalerts.rules",
    "secalerts.sigma",
    "secalerts.alerts",
    "secalerts.tuning",
    "secalerts.notifications",
    "secalerts.intake",
    "secalerts.syslog",
    "secalerts.jobs",
    "secalerts.console",
]

MIDDLEWARE = [
    "secalerts.core.request_log.RequestLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "security_backend.urls"
ASGI_APPLICATION = "security_backend.asgi.application"
WSGI_APPLICATION = "security_backend.wsgi.application"

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
            ],
        },
    },
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
STATIC_URL = "static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=str(VAR_DIR / "static"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# Serve static files from the apps directly in development; production runs collectstatic.
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG

# ---------------------------------------------------------------------- database
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
IS_POSTGRES = DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
# Keep connections between requests on both databases: opening one (and, on SQLite,
# running the PRAGMAs below) costs more than a whole single-event request.
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DB_CONN_MAX_AGE", default=60))
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if IS_POSTGRES:
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
        "connect_timeout", env.int("DB_CONNECT_TIMEOUT", default=5)
    )
else:
    # WAL lets readers run beside the writer; IMMEDIATE takes the write lock at BEGIN,
    # so concurrent writers queue instead of failing mid-transaction: across worker
    # processes on a file lock first (secalerts/core/sqlite), then on the
    # busy timeout.
    # Checkpoints every 10,000 pages (40 MiB of WAL) rather than 1,000: a 1000-event
    # batch dirties about that many index pages, and each checkpoint costs two fsyncs.
    # A 32 MiB page cache per connection rather than 2: the events table's six indexes
    # outgrow 2 MiB within minutes, and then every batch re-read their pages from the OS.
    DATABASES["default"]["ENGINE"] = "secalerts.core.sqlite"
    DATABASES["default"]["OPTIONS"] = {
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA wal_autocheckpoint=10000; "
            "PRAGMA cache_size=-32768;"
        ),
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
    }

# ------------------------------------------------------ cache + channel layer
REDIS_URL = env.str("REDIS_URL", default="")
CHANNEL_LAYERS: dict[str, dict[str, Any]]  # each backend's CONFIG is its own shape
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "secalerts",
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }
    # Pub/sub fan-out: one Redis PUBLISH per alert whatever the number of listeners.
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL], "prefix": "secalerts"},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    # Each process relays pushes from one channel (alerts.broadcast): room for a burst.
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels.layers.InMemoryChannelLayer",
            "CONFIG": {"capacity": 10_000},
        }
    }

# -------------------------------------------------------------------- auth / JWT
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env.int("JWT_ACCESS_MINUTES", default=15)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env.int("JWT_REFRESH_DAYS", default=1)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": False,
    "ALGORITHM": "HS256",
    "SIGNING_KEY": SECRET_KEY,
    "AUTH_HEADER_TYPES": ("Bearer",),
    "LEEWAY": 0,
    # Tokens carry a hash of the password hash, compared on every use (accounts.identity):
    # a password change revokes every token of the user at once.
    "CHECK_REVOKE_TOKEN": True,
}

LOGIN_FAILURES_PER_MINUTE = env.int("LOGIN_FAILURES_PER_MINUTE", default=5)
# How many reverse proxies in front of us append to X-Forwarded-For (0: use the peer address).
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)

# --------------------------------------------------------------------------- DRF
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["secalerts.accounts.authentication.BearerAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["secalerts.accounts.permissions.HasAnyRole"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["secalerts.core.parsers.StrictJSONParser"],
    "DEFAULT_THROTTLE_CLASSES": [
        "secalerts.accounts.throttling.UserRateThrottle",
        "secalerts.accounts.throttling.AnonRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "user": env.str("THROTTLE_USER_RATE", default="6000/minute") or None,
        "anon": env.str("THROTTLE_ANON_RATE", default="600/minute") or None,
    },
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "secalerts.core.api.exception_handler",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "NUM_PROXIES": TRUSTED_PROXY_COUNT,
}

# -------------------------------------------------------------------------- docs
SPECTACULAR_SETTINGS = {
    "TITLE": "Security Event & Alert Backend API",
    "DESCRIPTION": "Ingest security events, detect with rules, triage alerts, stream changes.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "secalerts.core.schema.add_error_responses",
    ],
    "ENUM_NAME_OVERRIDES": {
        "SeverityEnum": "secalerts.events.models.Severity",
        "RuleSeverityEnum": "secalerts.rules.models.SEVERITY_CHOICES",
        "StatusEnum": "secalerts.alerts.models.AlertStatus",
        "DeliveryStatusEnum": "secalerts.notifications.models.DeliveryStatus",
    },
}

# ---------------------------------------------------------------------- security
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
# Strict for every page: scripts, styles, fonts and images from this origin only, no inline
# script or style. The API docs widen it for their views alone (secalerts/console/docs.py).
SECURE_CSP: dict[str, list[str]] = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],  # same-origin ws:/wss: included (CSP level 3)
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
if not DEBUG:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    # Health probes come from inside the network over plain HTTP.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^livez$", r"^readyz$", r"^metrics$"]
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

# ----------------------------------------------------------------------- logging
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "secalerts.core.request_log.JsonFormatter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "json"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # Our request log replaces Django's, which would log every 4xx twice.
        "django.request": {"level": "ERROR"},
        "django.server": {"level": "ERROR"},
        # Two lines per task run otherwise (Django's "django" logger is at INFO); each
        # delivery's attempts are in the delivery log instead.
        "django.tasks": {"level": "WARNING"},
    },
}

# ------------------------------------------------------------------------ server
# Daphne workers started by `manage.py serve` (more than one needs REDIS_URL).
WEB_WORKERS = env.int("WEB_WORKERS", default=1)

# ----------------------------------------------------------------------- metrics
# GET /metrics (core.metrics). Off: nothing is counted and /metrics answers 404.
METRICS_ENABLED = env.bool("METRICS_ENABLED", default=True)
# When set, /metrics asks for `Authorization: Bearer <token>`; unset, it is open, like
# /healthz, to whoever reaches the port: keep it inside the network (docs/operations.md).
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
# Where the processes of `manage.py serve` keep their metrics for a scrape to sum; `serve`
# sets it for its children (a fresh directory per run). Unset: one process, in memory.
PROMETHEUS_MULTIPROC_DIR = env.str("PROMETHEUS_MULTIPROC_DIR", default="")

# ------------------------------------------------------------------------ events
EVENTS_MAX_BATCH = env.int("EVENTS_MAX_BATCH", default=1000)
# Backtest bounds (POST /api/rules/{id}/backtest/): events read, and seconds of work.
BACKTEST_MAX_EVENTS = env.int("BACKTEST_MAX_EVENTS", default=1_000_000)
BACKTEST_MAX_SECONDS = env.int("BACKTEST_MAX_SECONDS", default=30)
# Largest accepted request body for POST /api/events/ (413 above).
EVENTS_MAX_BODY_BYTES = env.int("EVENTS_MAX_BODY_BYTES", default=16 * 1024 * 1024)
# Large batches written beside the group being written, each on its own connection
# (ingest.writer): pays with one Daphne process; `serve --workers N` sets 0 in its
# workers (docs/performance.md). SQLite admits one writer at a time: never there.
EVENTS_SPARE_WRITERS = env.int("EVENTS_SPARE_WRITERS", default=1) if IS_POSTGRES else 0
# Threshold hits are kept this long after they arrive: the longest rule window plus the
# lateness allowed to out-of-order events. Pruned every interval by the scheduler
# (`manage.py scheduler`, which `serve` starts; the job table is secalerts/jobs/table.py).
THRESHOLD_STATE_SECONDS = env.int("THRESHOLD_STATE_SECONDS", default=2 * 24 * 3600)
THRESHOLD_PRUNE_INTERVAL_SECONDS = env.int("THRESHOLD_PRUNE_INTERVAL_SECONDS", default=60)
# Retention (`manage.py prune`, run daily by the scheduler; docs/operations.md): events
# by event time, resolved and false-positive alerts by their last change. Open and
# acknowledged alerts are kept however old.
EVENTS_RETENTION_DAYS = env.int("EVENTS_RETENTION_DAYS", default=90)
CLOSED_ALERTS_RETENTION_DAYS = env.int("CLOSED_ALERTS_RETENTION_DAYS", default=365)
if min(EVENTS_RETENTION_DAYS, CLOSED_ALERTS_RETENTION_DAYS) < 1:
    raise ImproperlyConfigured(
        "EVENTS_RETENTION_DAYS and CLOSED_ALERTS_RETENTION_DAYS must be >= 1."
    )
# Django's own body limit must admit the largest event batch.
DATA_UPLOAD_MAX_MEMORY_SIZE = EVENTS_MAX_BODY_BYTES + 1024

# ------------------------------------------------------------------------ syslog
# `manage.py syslog` (started by `serve`): TCP and UDP on this host:port ([::1]:5514 for
# IPv6), from senders in these networks only.
SYSLOG_BIND = env.str("SYSLOG_BIND", default="127.0.0.1:5514")
SYSLOG_ALLOWED_CIDRS = env.list("SYSLOG_ALLOWED_CIDRS", default=["127.0.0.0/8", "::1/128"])
# How often the listener logs its counters (received, ingested, unparsed, dropped).
SYSLOG_STATS_SECONDS = env.float("SYSLOG_STATS_SECONDS", default=60)

# ------------------------------------------------------------------------ stream
# How often an open alert stream re-checks its token's user (active, roles); the
# contract is "disconnected within 60 s". Tests set it small.
STREAM_RECHECK_SECONDS = env.float("STREAM_RECHECK_SECONDS", default=30)
# A client whose send buffer stays full this long, or takes this many more pushes while
# full, is closed with 4408 and its buffer dropped (core.slow_clients).
STREAM_MAX_BEHIND_SECONDS = env.float("STREAM_MAX_BEHIND_SECONDS", default=30)
STREAM_MAX_BEHIND_MESSAGES = env.int("STREAM_MAX_BEHIND_MESSAGES", default=1000)
# The kernel send buffer of a stream socket (Linux doubles it). Left to itself it grows
# to 4 MiB, out of sight of the count above; this is ample for pushes at any rate.
STREAM_SEND_BUFFER_BYTES = env.int("STREAM_SEND_BUFFER_BYTES", default=128 * 1024)

# ------------------------------------------------------------------ notifications
# Deliveries are Django tasks in the database (django-tasks-db), sent by
# `manage.py notify_worker` (which `serve` starts): docs/notifications.md.
TASKS = {
    "default": {
        "BACKEND": "django_tasks_db.DatabaseBackend",
        "QUEUES": ["default", "notifications"],
    }
}
# Email channels' server, e.g. smtp+tls://user:password@smtp.example.com:587; the
# console backend (prints) in development, the local MTA in production. Django 6.1's
# MAILERS, from that URL.
_email = env.email_url("EMAIL_URL", default="consolemail://" if DEBUG else "smtp://localhost:25")
_SMTP_OPTIONS = {
    "host": "EMAIL_HOST",
    "port": "EMAIL_PORT",
    "username": "EMAIL_HOST_USER",
    "password": "EMAIL_HOST_PASSWORD",
    "use_tls": "EMAIL_USE_TLS",
    "use_ssl": "EMAIL_USE_SSL",
}
MAILERS = {"default": {"BACKEND": _email["EMAIL_BACKEND"], "OPTIONS": {}}}
if _email["EMAIL_BACKEND"].endswith("smtp.EmailBackend"):
    MAILERS["default"]["OPTIONS"] = {"timeout": 10} | {
        option: _email[name] for option, name in _SMTP_OPTIONS.items() if _email.get(name)
    }
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="secalerts@localhost")
# Webhook and Slack receivers on private and loopback addresses (often internal). Off:
# only public addresses. Link-local and cloud-metadata addresses are always refused.
NOTIFY_ALLOW_PRIVATE = env.bool("NOTIFY_ALLOW_PRIVATE", default=True)
# Retries: the first after this many seconds, then doubling (at most an hour apart),
# until this long after the alert change; then the delivery is marked failed.
NOTIFY_RETRY_FIRST_SECONDS = env.float("NOTIFY_RETRY_FIRST_SECONDS", default=10)
NOTIFY_RETRY_FOR_SECONDS = env.float("NOTIFY_RETRY_FOR_SECONDS", default=24 * 3600)
