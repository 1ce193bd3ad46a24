"""Configuration: typed, validated, one clear line per bad variable."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from dashboard.config import ConfigError, load_config

KEY = "0123456789abcdef" * 4  # 64 characters, 16 different: long enough outside development

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in (
        "ENVIRONMENT",
        "DEBUG",
        "SECRET_KEY",
        "ALLOWED_HOSTS",
        "DATABASE_URL",
        "CELERY_BROKER_URL",
        "LOG_LEVEL",
        "LOG_FORMAT",
        "ALLOW_LOCAL_REPOSITORIES",
        "ALLOW_INTERNAL_HOSTS",
        "TRUSTED_PROXY_HEADER",
        "TRUSTED_PROXY_COUNT",
        "LOGIN_FAILURE_LIMIT",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("VAR_DIR", str(tmp_path / "var"))


def test_development_defaults_need_no_services(tmp_path: Path) -> None:
    config = load_config()
    assert config.ENVIRONMENT == "development"
    assert config.DEBUG is True
    assert config.database_url == f"sqlite:///{tmp_path / 'var' / 'yardstick.sqlite3'}"
    assert config.broker_url == "filesystem://"
    assert config.LOG_FORMAT == "text"
    assert config.ALLOW_LOCAL_REPOSITORIES is True


def test_development_secret_is_generated_once_and_kept(tmp_path: Path) -> None:
    first = load_config().SECRET_KEY
    second = load_config().SECRET_KEY
    assert first
    assert first == second
    key_file = tmp_path / "var" / "secret_key"
    assert key_file.read_text() == first
    assert key_file.stat().st_mode & 0o077 == 0


def test_production_defaults_are_strict(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENVIRONMENT", "production")
    monkeypatch.setenv("SECRET_KEY", KEY)
    monkeypatch.setenv("ALLOWED_HOSTS", "yardstick.example.com, other.example.com")
    config = load_config()
    assert config.DEBUG is False
    assert config.LOG_FORMAT == "json"
    assert config.ALLOW_LOCAL_REPOSITORIES is False
    assert config.ALLOWED_HOSTS == ["yardstick.example.com", "other.example.com"]


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DATABASE_URL": "mysql://db/x"}, "DATABASE_URL: unsupported scheme 'mysql'"),
        ({"DATABASE_URL": "not a url"}, "DATABASE_URL: unsupported scheme '(none)'"),
        ({"CELERY_BROKER_URL": "sqs://queue"}, "CELERY_BROKER_URL: unsupported scheme 'sqs'"),
        ({"ENVIRONMENT": "prod"}, "ENVIRONMENT: Input should be 'development'"),
        ({"DEBUG": "maybe"}, "DEBUG: Input should be a valid boolean"),
        ({"LOG_LEVEL": "LOUD"}, "LOG_LEVEL: Input should be"),
        ({"SCAN_TIME_LIMIT_S": "1"}, "SCAN_TIME_LIMIT_S: Input should be greater than"),
        ({"WAIVER_APPROVERS": "everyone"}, "WAIVER_APPROVERS: Input should be 'managers' or"),
        (
            {"ENVIRONMENT": "production", "ALLOWED_HOSTS": "x.example"},
            "SECRET_KEY is required outside development",
        ),
        (
            {"ENVIRONMENT": "staging", "SECRET_KEY": KEY},
            "ALLOWED_HOSTS is required outside development",
        ),
        (
            {"ENVIRONMENT": "production", "SECRET_KEY": "short", "ALLOWED_HOSTS": "x.example"},
            "SECRET_KEY must be at least 50 characters",
        ),
        (
            {"ENVIRONMENT": "production", "SECRET_KEY": "ab" * 40, "ALLOWED_HOSTS": "x.example"},
            "SECRET_KEY must be at least 50 characters, 5 of them different",
        ),
        (
            {"ENVIRONMENT": "staging", "SECRET_KEY": KEY[:49], "ALLOWED_HOSTS": "x.example"},
            "SECRET_KEY must be at least 50 characters",
        ),
    ],
)
def test_invalid_values_name_the_variable(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], message: str
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as info:
        load_config()
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_startup_with_bad_value_prints_one_line_and_exits_2(tmp_path: Path) -> None:
    env = {**os.environ, "DATABASE_URL": "mysql://db/x", "VAR_DIR": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert lines == [
        "yardstick: invalid configuration: DATABASE_URL: unsupported scheme "
        "'mysql': use postgres:// or sqlite://"
    ]


def test_internal_hosts_follow_local_repositories_unless_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert load_config().ALLOW_INTERNAL_HOSTS is True  # development
    monkeypatch.setenv("ALLOW_LOCAL_REPOSITORIES", "false")
    assert load_config().ALLOW_INTERNAL_HOSTS is False
    monkeypatch.setenv("ALLOW_INTERNAL_HOSTS", "true")
    assert load_config().ALLOW_INTERNAL_HOSTS is True


def test_trusted_proxy_defaults_to_none_and_names_a_header(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert load_config().trusted_proxy_meta_key is None  # REMOTE_ADDR: no header is believed
    monkeypatch.setenv("TRUSTED_PROXY_HEADER", "X-Forwarded-For")
    monkeypatch.setenv("TRUSTED_PROXY_COUNT", "2")
    config = load_config()
    assert (config.trusted_proxy_meta_key, config.TRUSTED_PROXY_COUNT) == (
        "HTTP_X_FORWARDED_FOR",
        2,
    )


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"TRUSTED_PROXY_HEADER": "X Forwarded: For"}, "TRUSTED_PROXY_HEADER: not an HTTP header"),
        ({"TRUSTED_PROXY_COUNT": "0"}, "TRUSTED_PROXY_COUNT"),
        ({"LOGIN_FAILURE_LIMIT": "0"}, "LOGIN_FAILURE_LIMIT"),
    ],
)
def test_invalid_proxy_and_sign_in_settings_name_the_variable(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], message: str
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as info:
        load_config()
    assert message in str(info.value)
