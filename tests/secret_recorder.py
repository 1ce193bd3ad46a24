"""pytest plugin (`-p tests.secret_recorder`): write every secret the run issues to a file.

Used by tests/unit/test_secrets_in_logs.py: the webhook secrets and API tokens a test run
hands out are appended, one a line, to `$YARDSTICK_SECRETS_OUT`, so the logs of that run
can be searched for them afterwards.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import pytest


def _append(value: str) -> None:
    with open(os.environ["YARDSTICK_SECRETS_OUT"], "a", encoding="utf-8") as out:
        out.write(value + "\n")


@pytest.fixture(autouse=True)
def _record_issued_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    from dashboard.services.access import api_tokens, secrets

    generate: Callable[[], str] = secrets.generate_secret
    issue: Callable[..., Any] = api_tokens.issue

    def recorded_secret() -> str:
        value = generate()
        _append(value)
        return value

    def recorded_issue(*args: Any, **kwargs: Any) -> Any:
        issued = issue(*args, **kwargs)
        _append(issued.plaintext)
        return issued

    monkeypatch.setattr(secrets, "generate_secret", recorded_secret)
    monkeypatch.setattr(api_tokens, "issue", recorded_issue)
