"""`.env.example` says what the code does: its values are `dashboard/config.py`'s defaults,
and its comments state the code's limits."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from dashboard.config import SECRET_KEY_MIN_DISTINCT, SECRET_KEY_MIN_LENGTH, AppConfig

ROOT = Path(__file__).resolve().parents[2]
#: Example values that are not defaults on purpose: the development default is derived
#: (DEBUG, ALLOWED_HOSTS) or the value is a placeholder to replace (SECRET_KEY).
NOT_DEFAULTS = {"DEBUG", "ALLOWED_HOSTS", "SECRET_KEY"}


def _example() -> dict[str, tuple[str, str]]:
    """NAME -> (value, the comment lines just above it)."""
    found: dict[str, tuple[str, str]] = {}
    comments: list[str] = []
    for line in (ROOT / ".env.example").read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            comments.append(line.lstrip("# "))
        elif match := re.match(r"^([A-Z_]+)=(.*)$", line):
            found[match.group(1)] = (match.group(2), " ".join(comments))
            comments = []
        else:
            comments = []
    return found


@pytest.mark.parametrize("name", sorted(set(_example()) - NOT_DEFAULTS))
def test_an_example_value_is_the_default(name: str) -> None:
    value, _comment = _example()[name]
    default = AppConfig.model_fields[name].default
    if not value or default is None:
        assert not value or default is None, f"{name}: example {value!r}, default {default!r}"
    elif isinstance(default, bool):
        assert value.lower() == str(default).lower()
    elif isinstance(default, int):
        assert int(value) == default
    elif isinstance(default, Path):
        assert Path(value).name == default.name  # ./var is BASE_DIR/var from the project
    else:
        assert value == default


def test_the_secret_key_rule_is_the_codes() -> None:
    value, comment = _example()["SECRET_KEY"]
    assert f"at least {SECRET_KEY_MIN_LENGTH} characters" in comment
    assert f"{SECRET_KEY_MIN_DISTINCT} of them different" in comment
    assert len(value) >= SECRET_KEY_MIN_LENGTH  # the placeholder itself would pass


def test_the_webhook_limit_comment_states_the_default() -> None:
    _value, comment = _example()["WEBHOOK_RATE_LIMIT"]
    per_window = AppConfig.model_fields["WEBHOOK_RATE_LIMIT"].default
    window = AppConfig.model_fields["WEBHOOK_RATE_WINDOW_S"].default
    assert window == 60
    stated = {int(n.replace(",", "")) for n in re.findall(r"([\d,]+) a minute", comment)}
    assert stated == {per_window}


def test_the_deploy_guides_environment_file_names_only_real_settings() -> None:
    text = (ROOT / "docs" / "deploy.md").read_text(encoding="utf-8")
    section = text.split("## 4. The environment file", 1)[1].split("## 5.", 1)[0]
    named = set(re.findall(r"^([A-Z_]+)=", section, re.MULTILINE))
    assert {"ENVIRONMENT", "SECRET_KEY", "ALLOWED_HOSTS", "STATIC_ROOT"} <= named
    assert named <= set(AppConfig.model_fields)
