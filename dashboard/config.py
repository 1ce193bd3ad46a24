"""Typed, validated configuration read from the environment and `.env`.

Django's `settings.py` is a thin translation of `AppConfig`; every variable is documented in
`.env.example`. A malformed value stops start-up with one line naming the variable.
"""

from __future__ import annotations

import re
import secrets
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from dashboard.domain.identity import MappingError, parse_mapping
from scanners.advisories import OSV_PYPI_EXPORT

BASE_DIR = Path(__file__).resolve().parent.parent
DATABASE_SCHEMES = frozenset({"sqlite", "postgres", "postgresql", "pgsql"})
BROKER_SCHEMES = frozenset({"filesystem", "redis", "rediss", "amqp", "pyamqp", "memory"})
CACHE_SCHEMES = frozenset({"redis", "rediss", "file", "locmem"})

HEADER_NAME = re.compile(r"[A-Za-z][A-Za-z0-9-]{0,63}")

CommaList = Annotated[list[str], NoDecode]
#: Outside development; Django's deployment check (security.W009) asks for the same.
SECRET_KEY_MIN_LENGTH = 50
SECRET_KEY_MIN_DISTINCT = 5


class ConfigError(Exception):
    """Configuration is invalid; `str()` is one line naming the variable."""


def _split(value: object) -> object:
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return value


class AppConfig(BaseSettings):
    """Every setting Yardstick reads, with its type, default and validation."""

    model_config = SettingsConfigDict(
        env_file=BASE_DIR / ".env", env_file_encoding="utf-8", extra="ignore"
    )

    ENVIRONMENT: Literal["development", "staging", "production"] = "development"
    DEBUG: bool | None = None
    SECRET_KEY: str | None = Field(default=None, repr=False)
    ALLOWED_HOSTS: CommaList = Field(default_factory=list)
    CSRF_TRUSTED_ORIGINS: CommaList = Field(default_factory=list)
    VAR_DIR: Path = BASE_DIR / "var"
    # Where `collectstatic` writes and whitenoise serves from in production. Not under
    # VAR_DIR: the image collects at build time, and the VAR_DIR volume would hide it.
    STATIC_ROOT: Path = BASE_DIR / "staticfiles"
    DATABASE_URL: str | None = None
    CELERY_BROKER_URL: str | None = None
    LOG_LEVEL: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    LOG_DIR: Path = BASE_DIR / "logs"
    LOG_FORMAT: Literal["text", "json"] | None = None
    BUILD_COMMIT: str = "unknown"
    BUILD_TIME: str = "unknown"
    ALLOW_LOCAL_REPOSITORIES: bool | None = None
    ALLOW_INTERNAL_HOSTS: bool | None = None
    # Registration asks the clone URL's host (`git ls-remote`, the workspace's hardened
    # settings and address policy) and refuses a URL that does not answer within the timeout.
    REGISTRATION_CHECK_REMOTE: bool = True
    REGISTRATION_CHECK_TIMEOUT_S: float = Field(default=5, ge=1, le=60)
    # Celery's soft time limits (the hard limit is 60 s later): static scans, and deep scans
    # (install + tests + mypy in the sandbox). The Redis visibility timeout follows them.
    SCAN_TIME_LIMIT_S: int = Field(default=600, ge=10, le=86_400)
    DEEP_SCAN_TIME_LIMIT_S: int = Field(default=1800, ge=10, le=86_400)
    # What one commit's checkout may hold, checked before it is written (scanners.tree_limits).
    CHECKOUT_MAX_FILES: int = Field(default=50_000, ge=1)
    CHECKOUT_MAX_MB: int = Field(default=512, ge=1)
    CHECKOUT_MAX_DEPTH: int = Field(default=40, ge=1, le=10_000)
    # Web server (gunicorn.conf.py): processes x threads; one process per core.
    WEB_BIND: str = "0.0.0.0:8000"  # in the container; publish the port to expose it
    WEB_WORKERS: int = Field(default=2, ge=1, le=64)
    WEB_THREADS: int = Field(default=4, ge=1, le=64)
    # Where gunicorn's workers keep their metrics so /metrics sums them (prometheus-client's
    # multiprocess mode); emptied when gunicorn starts. Default: VAR_DIR/metrics.
    METRICS_DIR: Path | None = None
    # Webhook deliveries accepted per source address per window (a git host sends from a few
    # addresses, so this bounds a whole host); past it, 429 with Retry-After.
    WEBHOOK_RATE_LIMIT: int = Field(default=6_000, ge=1)
    WEBHOOK_RATE_WINDOW_S: int = Field(default=60, ge=1, le=3600)
    # Page panels and rate limits: redis://… shares them between processes (production);
    # file:// between the processes of one machine (VAR_DIR/cache); locmem:// in each
    # process. Empty: the broker when it is Redis, else file://.
    CACHE_URL: str | None = None
    # The client's address behind a reverse proxy (one definition: dashboard/services/clientip):
    # empty trusts no proxy and uses the TCP peer (REMOTE_ADDR); else the header the proxy sets,
    # e.g. X-Forwarded-For (then the entry TRUSTED_PROXY_COUNT places from the right, the one
    # the outermost trusted proxy appended) or X-Real-IP.
    TRUSTED_PROXY_HEADER: str = ""
    TRUSTED_PROXY_COUNT: int = Field(default=1, ge=1, le=10)
    # Sign-in: failed attempts allowed per (username, address) pair before a cool-off (minutes).
    LOGIN_FAILURE_LIMIT: int = Field(default=10, ge=1, le=1000)
    LOGIN_COOLOFF_MINUTES: int = Field(default=5, ge=1, le=1440)
    # Notifications: SMTP when EMAIL_HOST is set, else messages go to the console (logs).
    EMAIL_HOST: str = ""
    EMAIL_PORT: int = Field(default=587, ge=1, le=65_535)
    EMAIL_USER: str = ""
    EMAIL_PASSWORD: str = Field(default="", repr=False)
    EMAIL_USE_TLS: bool = True
    DEFAULT_FROM_EMAIL: str = "yardstick@localhost"
    SITE_URL: str = ""  # e.g. https://yardstick.example.com: links in notifications
    # Who decides a maintainer's waiver request: "managers" (managers and admins) or
    # "maintainers" (also another maintainer of the repository's team). Never the requester.
    WAIVER_APPROVERS: Literal["managers", "maintainers"] = "managers"
    # DSEC-003's offline advisory database, refreshed every night by Celery beat (before the
    # nightly rescans) from this source: the OSV PyPI export, an in-house mirror of it (https),
    # or a file path; empty: never refreshed. The database lives under VAR_DIR/advisories,
    # shared by the web, worker and beat processes, unless YARDSTICK_ADVISORY_DB names another.
    ADVISORY_SOURCE: str = OSV_PYPI_EXPORT
    # Single sign-on (README "Single sign-on"): a provider is offered when its client id is set.
    SSO_OIDC_ISSUER: str = ""  # e.g. https://keycloak.example.com/realms/acme
    SSO_OIDC_CLIENT_ID: str = ""
    SSO_OIDC_CLIENT_SECRET: str = Field(default="", repr=False)
    SSO_OIDC_NAME: str = "single sign-on"  # the button says "Sign in with <name>"
    # Plain http:// issuers only on loopback and only when this says so (a test provider).
    SSO_OIDC_ALLOW_HTTP: bool = False
    SSO_GITHUB_CLIENT_ID: str = ""
    SSO_GITHUB_CLIENT_SECRET: str = Field(default="", repr=False)
    SSO_GITLAB_URL: str = "https://gitlab.com"
    SSO_GITLAB_CLIENT_ID: str = ""
    SSO_GITLAB_CLIENT_SECRET: str = Field(default="", repr=False)
    SSO_ALLOWED_DOMAINS: CommaList = Field(default_factory=list)
    SSO_GROUPS_CLAIM: str = "groups"
    SSO_GROUP_MAPPING: str = ""  # JSON: dashboard/domain/identity.py

    @field_validator("SSO_ALLOWED_DOMAINS", mode="before")
    @classmethod
    def _domains(cls, value: object) -> object:
        if isinstance(value, str):
            return [d.strip().lower().lstrip("@") for d in value.split(",") if d.strip()]
        return value

    @field_validator("SSO_GROUP_MAPPING")
    @classmethod
    def _group_mapping(cls, value: str) -> str:
        try:
            parse_mapping(value)
        except MappingError as exc:
            raise ValueError(str(exc)) from None
        return value

    @field_validator("ALLOWED_HOSTS", "CSRF_TRUSTED_ORIGINS", mode="before")
    @classmethod
    def _comma_list(cls, value: object) -> object:
        return _split(value)

    @field_validator("DATABASE_URL")
    @classmethod
    def _database_scheme(cls, value: str | None) -> str | None:
        if value is not None:
            scheme = urlsplit(value).scheme.split("+")[0]
            if scheme not in DATABASE_SCHEMES:
                raise ValueError(
                    f"unsupported scheme {scheme or '(none)'!r}: use postgres:// or sqlite://"
                )
        return value

    @field_validator("CELERY_BROKER_URL")
    @classmethod
    def _broker_scheme(cls, value: str | None) -> str | None:
        if value is not None:
            scheme = urlsplit(value).scheme
            if scheme not in BROKER_SCHEMES:
                raise ValueError(
                    f"unsupported scheme {scheme or '(none)'!r}: use redis:// or filesystem://"
                )
        return value

    @field_validator("CACHE_URL")
    @classmethod
    def _cache_scheme(cls, value: str | None) -> str | None:
        if value:
            scheme = urlsplit(value).scheme
            if scheme not in CACHE_SCHEMES:
                raise ValueError(
                    f"unsupported scheme {scheme or '(none)'!r}: use redis://, file:// or locmem://"
                )
        return value or None

    @field_validator("TRUSTED_PROXY_HEADER")
    @classmethod
    def _proxy_header(cls, value: str) -> str:
        value = value.strip()
        if value and not HEADER_NAME.fullmatch(value):
            raise ValueError(f"not an HTTP header name: {value!r} (e.g. X-Forwarded-For)")
        return value

    @model_validator(mode="after")
    def _environment_defaults(self) -> AppConfig:
        dev = self.ENVIRONMENT == "development"
        if self.DEBUG is None:
            self.DEBUG = dev
        if self.ALLOW_LOCAL_REPOSITORIES is None:
            self.ALLOW_LOCAL_REPOSITORIES = dev
        if self.ALLOW_INTERNAL_HOSTS is None:
            self.ALLOW_INTERNAL_HOSTS = self.ALLOW_LOCAL_REPOSITORIES
        if self.LOG_FORMAT is None:
            self.LOG_FORMAT = "text" if dev else "json"
        if not self.ALLOWED_HOSTS:
            if not dev:
                raise ValueError("ALLOWED_HOSTS is required outside development")
            self.ALLOWED_HOSTS = ["localhost", "127.0.0.1", "[::1]", "testserver"]
        if not self.SECRET_KEY:
            if not dev:
                raise ValueError("SECRET_KEY is required outside development")
            self.SECRET_KEY = _development_secret(self.VAR_DIR)
        elif not dev and (
            len(self.SECRET_KEY) < SECRET_KEY_MIN_LENGTH
            or len(set(self.SECRET_KEY)) < SECRET_KEY_MIN_DISTINCT
        ):
            raise ValueError(
                f"SECRET_KEY must be at least {SECRET_KEY_MIN_LENGTH} characters, "
                f"{SECRET_KEY_MIN_DISTINCT} of them different, outside development"
            )
        self._refuse_insecure_combinations()
        self._check_sso()
        return self

    def _check_sso(self) -> None:
        """A provider needs its client id and secret together; an issuer speaks https."""
        pairs = {
            "SSO_OIDC": (self.SSO_OIDC_CLIENT_ID, self.SSO_OIDC_CLIENT_SECRET),
            "SSO_GITHUB": (self.SSO_GITHUB_CLIENT_ID, self.SSO_GITHUB_CLIENT_SECRET),
            "SSO_GITLAB": (self.SSO_GITLAB_CLIENT_ID, self.SSO_GITLAB_CLIENT_SECRET),
        }
        for prefix, (client_id, secret) in pairs.items():
            if bool(client_id) != bool(secret):
                raise ValueError(f"{prefix}_CLIENT_ID and {prefix}_CLIENT_SECRET go together")
        if self.SSO_OIDC_CLIENT_ID and not self.SSO_OIDC_ISSUER:
            raise ValueError("SSO_OIDC_ISSUER is required with SSO_OIDC_CLIENT_ID")
        for name, url in (
            ("SSO_OIDC_ISSUER", self.SSO_OIDC_ISSUER),
            ("SSO_GITLAB_URL", self.SSO_GITLAB_URL),
        ):
            if url and not _secure_provider_url(url, allow_http=self.SSO_OIDC_ALLOW_HTTP):
                raise ValueError(
                    f"{name} must be an https:// URL (http:// only on loopback with "
                    "SSO_OIDC_ALLOW_HTTP=true)"
                )

    def _refuse_insecure_combinations(self) -> None:
        """Settings that would undo the secure defaults where they matter."""
        if self.ENVIRONMENT == "production":
            if self.DEBUG:
                raise ValueError("DEBUG must be off in production (debug pages show settings)")
            if "*" in self.ALLOWED_HOSTS:
                raise ValueError("ALLOWED_HOSTS must name the hosts in production, not '*'")
        if self.ENVIRONMENT != "development":
            # Cookies are Secure outside development: an http origin could never sign in.
            plain = [o for o in self.CSRF_TRUSTED_ORIGINS if not o.startswith("https://")]
            if plain:
                raise ValueError(
                    f"CSRF_TRUSTED_ORIGINS must be https:// outside development: {plain[0]}"
                )

    @property
    def database_url(self) -> str:
        """The database URL, defaulting to a SQLite file under VAR_DIR."""
        return self.DATABASE_URL or f"sqlite:///{self.VAR_DIR / 'yardstick.sqlite3'}"

    @property
    def cache_url(self) -> str:
        """Where the cache lives: CACHE_URL, else a Redis broker's URL, else `file://` (a
        folder under VAR_DIR that quickstart's web, worker and beat processes share)."""
        if self.CACHE_URL:
            return self.CACHE_URL
        broker = self.broker_url
        return broker if urlsplit(broker).scheme in {"redis", "rediss"} else "file://"

    @property
    def trusted_proxy_meta_key(self) -> str | None:
        """`request.META` key of TRUSTED_PROXY_HEADER (None: no proxy is trusted)."""
        if not self.TRUSTED_PROXY_HEADER:
            return None
        return "HTTP_" + self.TRUSTED_PROXY_HEADER.upper().replace("-", "_")

    @property
    def metrics_dir(self) -> Path:
        """The folder of the web workers' metric files (gunicorn.conf.py)."""
        return self.METRICS_DIR or self.VAR_DIR / "metrics"

    @property
    def broker_url(self) -> str:
        """The Celery broker URL, defaulting to kombu's filesystem transport under VAR_DIR."""
        return self.CELERY_BROKER_URL or "filesystem://"


def _secure_provider_url(url: str, *, allow_http: bool) -> bool:
    """https://, or http:// to a loopback address when explicitly allowed (test providers)."""
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return True
    loopback = parts.hostname in {"127.0.0.1", "localhost", "::1"}
    return allow_http and parts.scheme == "http" and loopback


def _development_secret(var_dir: Path) -> str:
    """A development secret generated once and kept under VAR_DIR (never committed)."""
    path = var_dir / "secret_key"
    try:
        return path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        var_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(50)
        path.write_text(key, encoding="utf-8")
        path.chmod(0o600)
        return key


def load_config(**overrides: object) -> AppConfig:
    """Read and validate the configuration; raise `ConfigError` with one clear line."""
    try:
        return AppConfig(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "configuration"
        message = first["msg"].removeprefix("Value error, ")
        raise ConfigError(f"invalid configuration: {where}: {message}") from None


#: The OpenID Connect provider's id in allauth (its URLs: /accounts/sso/oidc/<id>/…).
OIDC_PROVIDER_ID = "oidc"


def sso_providers(config: AppConfig) -> dict[str, dict[str, object]]:
    """allauth's `SOCIALACCOUNT_PROVIDERS`: only the providers whose client id is set."""
    providers: dict[str, dict[str, object]] = {}
    if config.SSO_OIDC_CLIENT_ID:
        providers["openid_connect"] = {
            "OAUTH_PKCE_ENABLED": True,
            "APPS": [
                {
                    "provider_id": OIDC_PROVIDER_ID,
                    "name": config.SSO_OIDC_NAME,
                    "client_id": config.SSO_OIDC_CLIENT_ID,
                    "secret": config.SSO_OIDC_CLIENT_SECRET,
                    "settings": {"server_url": config.SSO_OIDC_ISSUER},
                }
            ],
        }
    if config.SSO_GITHUB_CLIENT_ID:
        providers["github"] = {
            # read:org: the user's teams, which the group mapping reads as `org/team-slug`.
            "SCOPE": ["read:user", "user:email", "read:org"],
            "APPS": [
                {
                    "client_id": config.SSO_GITHUB_CLIENT_ID,
                    "secret": config.SSO_GITHUB_CLIENT_SECRET,
                }
            ],
        }
    if config.SSO_GITLAB_CLIENT_ID:
        providers["gitlab"] = {
            # read_api: the user's groups, which the group mapping reads by full path.
            "SCOPE": ["read_user", "read_api"],
            "APPS": [
                {
                    "client_id": config.SSO_GITLAB_CLIENT_ID,
                    "secret": config.SSO_GITLAB_CLIENT_SECRET,
                    "settings": {"gitlab_url": config.SSO_GITLAB_URL.rstrip("/")},
                }
            ],
        }
    return providers
