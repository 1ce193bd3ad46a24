"""Django settings: a thin translation of the validated `AppConfig` (see dashboard/config.py)."""

from __future__ import annotations

import os
import sys
from contextlib import suppress
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
import django_stubs_ext
from django.utils.csp import CSP

from dashboard.config import BASE_DIR, ConfigError, load_config, sso_providers
from dashboard.domain.identity import parse_mapping
from dashboard.observability.logging_setup import build_logging
from scanners.advisories import ENV_VAR as ADVISORY_DB_VARIABLE

# Lets `ModelAdmin[Model]` and friends be subscripted at run time, as the type stubs allow.
django_stubs_ext.monkeypatch()

try:
    CONFIG = load_config()
except ConfigError as exc:
    # One clear line instead of a traceback; the process cannot start without valid settings.
    sys.stderr.write(f"yardstick: {exc}\n")
    raise SystemExit(2) from None

ENVIRONMENT = CONFIG.ENVIRONMENT
DEBUG = bool(CONFIG.DEBUG)
SECRET_KEY = CONFIG.SECRET_KEY or ""
ALLOWED_HOSTS = CONFIG.ALLOWED_HOSTS
CSRF_TRUSTED_ORIGINS = CONFIG.CSRF_TRUSTED_ORIGINS
VAR_DIR = CONFIG.VAR_DIR
BUILD_COMMIT = CONFIG.BUILD_COMMIT
BUILD_TIME = CONFIG.BUILD_TIME
ALLOW_LOCAL_REPOSITORIES = bool(CONFIG.ALLOW_LOCAL_REPOSITORIES)
ALLOW_INTERNAL_HOSTS = bool(CONFIG.ALLOW_INTERNAL_HOSTS)
SCAN_TIME_LIMIT_S = CONFIG.SCAN_TIME_LIMIT_S
REGISTRATION_CHECK_REMOTE = CONFIG.REGISTRATION_CHECK_REMOTE
REGISTRATION_CHECK_TIMEOUT_S = CONFIG.REGISTRATION_CHECK_TIMEOUT_S
DEEP_SCAN_TIME_LIMIT_S = CONFIG.DEEP_SCAN_TIME_LIMIT_S
CHECKOUT_MAX_FILES = CONFIG.CHECKOUT_MAX_FILES
CHECKOUT_MAX_BYTES = CONFIG.CHECKOUT_MAX_MB * 1024**2
CHECKOUT_MAX_DEPTH = CONFIG.CHECKOUT_MAX_DEPTH

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "ninja",  # the API docs' static files (development only)
    "axes",  # sign-in lockout per (username, address): dashboard/views/signin.py
    # Single sign-on (dashboard/views/sso.py): OpenID Connect, GitHub and GitLab.
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.openid_connect",
    "allauth.socialaccount.providers.github",
    "allauth.socialaccount.providers.gitlab",
    "dashboard",
]

MIDDLEWARE = [
    "dashboard.observability.middleware.RequestIdMiddleware",
    "dashboard.observability.middleware.MetricsMiddleware",
    "dashboard.http.badinput.BadInputMiddleware",  # NUL, lone surrogates: 400 before any view
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as axes asks: turns a locked-out sign-in (any form: ours, the admin's) into a 429.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "dashboard.urls"
WSGI_APPLICATION = "dashboard.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "builtins": ["dashboard.templatetags.yardstick"],
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.csp",
                "dashboard.context_processors.demo_mode",
                "dashboard.context_processors.engine_version",
            ],
        },
    }
]

DATABASES = {"default": dj_database_url.parse(CONFIG.database_url, conn_max_age=60)}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # A file (not memory) for the test database too, so a real worker process can share it;
    # one per test run, so concurrent runs never lock each other out.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-{os.getpid()}.sqlite3")}
    DATABASES["default"]["OPTIONS"] = {"timeout": 20, "transaction_mode": "IMMEDIATE"}
    DATABASES["default"]["CONN_MAX_AGE"] = 0
else:
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# django-axes refuses a sign-in before any password is checked when its (username, address)
# pair failed too often; then Django's own backend signs people in.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Failed attempts are rows in the database, not the cache: sign-in works with the cache down.
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
# Per pair only: a guesser can neither lock an account for everyone (its owner signs in from
# another address) nor everyone behind one address (another user there is unaffected).
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_FAILURE_LIMIT = CONFIG.LOGIN_FAILURE_LIMIT
AXES_COOLOFF_TIME = timedelta(minutes=CONFIG.LOGIN_COOLOFF_MINUTES)
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "dashboard.http.clientip.client_ip"
AXES_USERNAME_CALLABLE = "dashboard.views.signin.attempted_username"
AXES_LOCKOUT_CALLABLE = "dashboard.views.signin.locked_out"
AXES_DISABLE_ACCESS_LOG = True  # successful sign-ins are not stored (no table that only grows)
AXES_VERBOSE = False  # no start-up banner on every manage.py command
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/accounts/login/"

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Outside VAR_DIR (a volume in docker-compose.yml, which would hide what the image collected).
STATIC_ROOT = CONFIG.STATIC_ROOT
with suppress(OSError):  # read-only in the image: collectstatic made it at build time
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)
# Serve from the source folders in development; production runs collectstatic at build time.
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG

# ----- security ----------------------------------------------------------------------------
_secure = ENVIRONMENT != "development"
SESSION_COOKIE_SECURE = _secure
CSRF_COOKIE_SECURE = _secure
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True  # htmx sends the page's token (hx-headers); no script reads it
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
# A working day where it is served to people; Django's fortnight on a laptop.
SESSION_COOKIE_AGE = 12 * 3600 if _secure else 14 * 24 * 3600
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_HSTS_SECONDS = 31_536_000 if ENVIRONMENT == "production" else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = ENVIRONMENT == "production"
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if _secure else None
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],  # no inline script, ever: htmx and charts are static files
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
    "base-uri": [CSP.SELF],
    "object-src": [CSP.NONE],
}

# ----- Celery ------------------------------------------------------------------------------
CELERY_BROKER_URL = CONFIG.broker_url
# Time limits come from the configuration (environment or `.env`), never from os.environ
# alone: soft at the limit (the task records the failure), hard a minute later.
TIME_LIMIT_GRACE_S = 60
CELERY_TASK_SOFT_TIME_LIMIT = SCAN_TIME_LIMIT_S
CELERY_TASK_TIME_LIMIT = SCAN_TIME_LIMIT_S + TIME_LIMIT_GRACE_S
CELERY_TASK_ANNOTATIONS = {
    "dashboard.deep_scan": {
        "soft_time_limit": DEEP_SCAN_TIME_LIMIT_S,
        "time_limit": DEEP_SCAN_TIME_LIMIT_S + TIME_LIMIT_GRACE_S,
    }
}
#: The longest retry countdown of any task (deliver_notification's retry_backoff_max): a
#: worker holds a counted-down message unacknowledged until it runs it.
NOTIFICATION_RETRY_MAX_DELAY_S = 3600
CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {}
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = VAR_DIR / "broker"
    for _sub in ("queue", "processed", "control"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
elif CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    # Redis redelivers a message not acknowledged within the visibility timeout (acks_late),
    # even while its task still runs: so it must outlast the longest hard time limit (deep
    # scans included) and the longest retry countdown, with a margin.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": max(
            CELERY_TASK_TIME_LIMIT,
            DEEP_SCAN_TIME_LIMIT_S + TIME_LIMIT_GRACE_S,
            NOTIFICATION_RETRY_MAX_DELAY_S,
        )
        + 600
    }
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")

# ----- cache (page panels, rate limits): shared through Redis in production ----------------
# Workers retire the page panels a scan changes, so every process must share one cache:
# Redis, or without it a folder on this machine (quickstart); locmem:// only for one process.
_cache_url = urlsplit(CONFIG.cache_url)
CACHES: dict[str, dict[str, object]]
if _cache_url.scheme in {"redis", "rediss"}:
    CACHES = {
        "default": {
            # Values signed with SECRET_KEY: one this deployment did not write (whoever can
            # reach Redis) is a miss, never unpickled.
            "BACKEND": "dashboard.services.infra.signedcache.SignedRedisCache",
            "LOCATION": CONFIG.cache_url,
            "KEY_PREFIX": "yardstick",
            "OPTIONS": {
                "serializer": "dashboard.services.infra.signedcache.SignedPickleSerializer"
            },
        }
    }
elif _cache_url.scheme == "locmem":
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "yardstick",
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": _cache_url.path or str(VAR_DIR / "cache"),
            "OPTIONS": {"MAX_ENTRIES": 20_000},
        }
    }

# ----- integrations ------------------------------------------------------------------------
# The client's address (dashboard/http/clientip.py): the TCP peer unless a proxy is trusted.
TRUSTED_PROXY_META_KEY = CONFIG.trusted_proxy_meta_key
TRUSTED_PROXY_COUNT = CONFIG.TRUSTED_PROXY_COUNT
WEBHOOK_RATE_LIMIT = (CONFIG.WEBHOOK_RATE_LIMIT, CONFIG.WEBHOOK_RATE_WINDOW_S)  # per source IP
API_UPLOAD_MAX_BYTES = 5 * 1024 * 1024  # CI report and coverage uploads

# ----- email and notifications -------------------------------------------------------------
MAILERS = {
    "default": (
        {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": CONFIG.EMAIL_HOST,
                "port": CONFIG.EMAIL_PORT,
                "username": CONFIG.EMAIL_USER,
                "password": CONFIG.EMAIL_PASSWORD,
                "use_tls": CONFIG.EMAIL_USE_TLS,
                "timeout": 20,
            },
        }
        if CONFIG.EMAIL_HOST
        else {"BACKEND": "django.core.mail.backends.console.EmailBackend"}
    )
}
DEFAULT_FROM_EMAIL = CONFIG.DEFAULT_FROM_EMAIL
SITE_URL = CONFIG.SITE_URL.rstrip("/")
# Who decides waiver requests (dashboard/services/access/permissions.py).
WAIVER_APPROVERS = CONFIG.WAIVER_APPROVERS

# ----- single sign-on (django-allauth, social accounts only) -------------------------------
# Local accounts sign in on Django's own form (axes above); allauth only runs the providers'
# flows. Which providers are offered, and how groups map to roles, come from the config.
SOCIALACCOUNT_ONLY = True
ACCOUNT_EMAIL_VERIFICATION = "none"  # the provider vouches for the address
SOCIALACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_PREVENT_ENUMERATION = False
SOCIALACCOUNT_AUTO_SIGNUP = True
SOCIALACCOUNT_LOGIN_ON_GET = False  # the sign-in buttons POST (CSRF); a GET asks first
SOCIALACCOUNT_QUERY_EMAIL = True  # GitHub: the verified addresses, not only the public one
SOCIALACCOUNT_ADAPTER = "dashboard.views.sso.SocialAccountAdapter"
ACCOUNT_ADAPTER = "dashboard.views.sso.AccountAdapter"
SOCIALACCOUNT_PROVIDERS = sso_providers(CONFIG)
SSO_ALLOWED_DOMAINS = CONFIG.SSO_ALLOWED_DOMAINS
SSO_GROUPS_CLAIM = CONFIG.SSO_GROUPS_CLAIM
SSO_GROUP_MAPPING = parse_mapping(CONFIG.SSO_GROUP_MAPPING)

# ----- DSEC-003's advisory database ----------------------------------------------------------
# The engine reads it from $YARDSTICK_ADVISORY_DB (scanners.advisories); the dashboard's
# processes share one under VAR_DIR unless the variable already names another.
ADVISORY_DB = Path(os.environ.setdefault(ADVISORY_DB_VARIABLE, str(VAR_DIR / "advisories")))
ADVISORY_SOURCE = CONFIG.ADVISORY_SOURCE.strip()

# ----- logging -----------------------------------------------------------------------------
LOG_DIR = CONFIG.LOG_DIR

LOGGING = build_logging(level=CONFIG.LOG_LEVEL, log_dir=LOG_DIR, fmt=CONFIG.LOG_FORMAT or "text")
