"""Session, CSRF and transport settings per environment, read from `dashboard/settings.py`
as each environment would build them; production refuses insecure combinations."""

from __future__ import annotations

import os
import re
import runpy
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from tests.factories import UserFactory

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = ROOT / "dashboard" / "settings.py"
KEY = secrets.token_urlsafe(50)  # what an operator generates: long and random
VARIABLES = (
    "ENVIRONMENT",
    "DEBUG",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "CSRF_TRUSTED_ORIGINS",
    "DATABASE_URL",
    "CELERY_BROKER_URL",
    "LOG_FORMAT",
    "ALLOW_LOCAL_REPOSITORIES",
    "ALLOW_INTERNAL_HOSTS",
    "EMAIL_HOST",
)
HOUR = 3600
TEST_ONLY = ("DJANGO_ALLOW_ASYNC_UNSAFE",)


def _environment(environment: str, tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {"ENVIRONMENT": environment, "VAR_DIR": str(tmp_path / "var")}
    env["LOG_DIR"] = str(tmp_path / "logs")
    if environment != "development":
        env |= {"SECRET_KEY": KEY, "ALLOWED_HOSTS": "yardstick.example.com"}
    return env | extra


@pytest.fixture
def build(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Any:
    """`build(environment, **variables)`: the settings module's names, as that process sees them."""

    def settings_for(environment: str, **extra: str) -> dict[str, Any]:
        for name in VARIABLES:
            monkeypatch.delenv(name, raising=False)
        for name, value in _environment(environment, tmp_path, **extra).items():
            monkeypatch.setenv(name, value)
        return runpy.run_path(str(SETTINGS))

    return settings_for


EXPECTED = {
    "development": {
        "DEBUG": True,
        "SESSION_COOKIE_SECURE": False,
        "CSRF_COOKIE_SECURE": False,
        "SECURE_HSTS_SECONDS": 0,
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": False,
        "SECURE_PROXY_SSL_HEADER": None,
        "SESSION_COOKIE_AGE": 14 * 24 * HOUR,
    },
    "staging": {
        "DEBUG": False,
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
        "SECURE_HSTS_SECONDS": 0,  # a staging host name may not keep TLS: no HSTS pinning
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": False,
        "SECURE_PROXY_SSL_HEADER": ("HTTP_X_FORWARDED_PROTO", "https"),
        "SESSION_COOKIE_AGE": 12 * HOUR,
    },
    "production": {
        "DEBUG": False,
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
        "SECURE_HSTS_SECONDS": 365 * 24 * HOUR,
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
        "SECURE_PROXY_SSL_HEADER": ("HTTP_X_FORWARDED_PROTO", "https"),
        "SESSION_COOKIE_AGE": 12 * HOUR,
    },
}
EVERYWHERE = {
    "SESSION_COOKIE_HTTPONLY": True,
    "CSRF_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "CSRF_COOKIE_SAMESITE": "Lax",
    "SECURE_CONTENT_TYPE_NOSNIFF": True,
    "SECURE_REFERRER_POLICY": "same-origin",
    "SECURE_CROSS_ORIGIN_OPENER_POLICY": "same-origin",
    "X_FRAME_OPTIONS": "DENY",
}
PROTECTIONS = (
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
)


@pytest.mark.parametrize("environment", sorted(EXPECTED))
def test_session_csrf_and_transport_settings_per_environment(build: Any, environment: str) -> None:
    settings = build(environment)
    assert settings["ENVIRONMENT"] == environment
    for name, value in {**EXPECTED[environment], **EVERYWHERE}.items():
        assert settings[name] == value, name
    middleware = settings["MIDDLEWARE"]
    assert all(m in middleware for m in PROTECTIONS)
    # CSRF runs after the session (it reads it) and before the views, in every environment.
    assert middleware.index(PROTECTIONS[1]) < middleware.index(PROTECTIONS[2])
    csp = settings["SECURE_CSP"]
    assert all("unsafe" not in str(value) for value in csp.values())
    # Sessions live in the database: never signed cookies a client keeps (and replays).
    assert settings.get("SESSION_ENGINE", "django.contrib.sessions.backends.db").endswith(".db")


def test_staging_may_debug_but_production_may_not(build: Any) -> None:
    assert build("staging", DEBUG="true")["DEBUG"] is True
    assert build("production", DEBUG="false")["DEBUG"] is False


@pytest.mark.parametrize(
    ("environment", "variables", "message"),
    [
        ("production", {"DEBUG": "true"}, "DEBUG must be off in production"),
        ("production", {"ALLOWED_HOSTS": "*"}, "ALLOWED_HOSTS must name the hosts"),
        ("production", {"ALLOWED_HOSTS": "a.example,*"}, "ALLOWED_HOSTS must name the hosts"),
        (
            "production",
            {"CSRF_TRUSTED_ORIGINS": "https://a.example,http://b.example"},
            "CSRF_TRUSTED_ORIGINS must be https:// outside development: http://b.example",
        ),
        (
            "staging",
            {"CSRF_TRUSTED_ORIGINS": "http://staging.example"},
            "CSRF_TRUSTED_ORIGINS must be https://",
        ),
        ("production", {"SECRET_KEY": "short"}, "SECRET_KEY must be at least 50 characters"),
        ("production", {"SECRET_KEY": ""}, "SECRET_KEY is required outside development"),
    ],
)
def test_insecure_combinations_stop_start_up(
    build: Any,
    capsys: pytest.CaptureFixture[str],
    environment: str,
    variables: dict[str, str],
    message: str,
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        build(environment, **variables)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert message in err
    assert err.count("\n") == 1  # one line, no traceback


def test_development_accepts_what_production_refuses(build: Any) -> None:
    settings = build(
        "development", DEBUG="true", ALLOWED_HOSTS="*", CSRF_TRUSTED_ORIGINS="http://localhost:8000"
    )
    assert settings["ALLOWED_HOSTS"] == ["*"]
    assert settings["CSRF_TRUSTED_ORIGINS"] == ["http://localhost:8000"]


# Accepted on purpose: TLS ends at the proxy, which redirects http to https (an app-level
# redirect would also bounce the container's own health checks on plain http); HSTS preload
# is a commitment each organisation makes for its own domain.
ACCEPTED_DEPLOY_WARNINGS = {"security.W008", "security.W021"}


@pytest.mark.slow
def test_production_passes_djangos_deployment_checks(tmp_path: Path) -> None:
    env = {
        name: value
        for name, value in os.environ.items()
        # Not the test run's own switches: the browser tests set DJANGO_ALLOW_ASYNC_UNSAFE.
        if name not in VARIABLES and name not in ("DJANGO_SETTINGS_MODULE", *TEST_ONLY)
    }
    env |= _environment("production", tmp_path, EMAIL_HOST="smtp.example.com")
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "ERROR"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert set(re.findall(r"\(([a-z_]+\.[EW]\d+)\)", output)) == ACCEPTED_DEPLOY_WARNINGS, output


@pytest.mark.django_db
def test_cookies_carry_the_flags_the_environment_asks_for(
    build: Any, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Sign in under the cookie settings production builds: Secure, HttpOnly, SameSite=Lax,
    a 12-hour session; the CSRF cookie too."""
    production = build("production")
    monkeypatch.undo()  # back to the test run's environment; keep only the values read
    for name in (
        "SESSION_COOKIE_SECURE",
        "CSRF_COOKIE_SECURE",
        "SESSION_COOKIE_HTTPONLY",
        "CSRF_COOKIE_HTTPONLY",
        "SESSION_COOKIE_SAMESITE",
        "CSRF_COOKIE_SAMESITE",
        "SESSION_COOKIE_AGE",
    ):
        setattr(settings, name, production[name])
    user = UserFactory(username="carla")
    client = Client(enforce_csrf_checks=True)
    form = client.get("/accounts/login/", secure=True)
    csrf = form.cookies["csrftoken"]
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', form.content)
    assert token
    response = client.post(
        "/accounts/login/",
        {
            "username": user.username,
            "password": "correct horse battery staple",
            "csrfmiddlewaretoken": token.group(1).decode(),
        },
        secure=True,
        headers={"Referer": "https://testserver/accounts/login/"},
    )
    assert response.status_code == 302, response.content[:500]
    session = response.cookies["sessionid"]
    for cookie in (session, csrf):
        assert cookie["secure"] is True
        assert cookie["httponly"] is True
        assert cookie["samesite"] == "Lax"
    assert session["max-age"] == 12 * HOUR
