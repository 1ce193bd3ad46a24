"""Secrets never reach the logs: run the secret-handling tests, then grep their LOG_DIR.

A child pytest run (its own LOG_DIR, DEBUG level) exercises registration, the API, the
webhooks and bad input; `tests.secret_recorder` writes down every webhook secret and API
token it issued. None of them, nor the fixed secrets the tests use, may appear in any log.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MODULES = [
    "tests/unit/dashboard/test_webhooks.py",
    "tests/unit/dashboard/test_api.py",
    "tests/unit/dashboard/test_registration.py",
    "tests/unit/dashboard/test_bad_input.py",
    "tests/unit/views/test_actions.py",
    "tests/unit/dashboard/test_review_feedback.py",
]
FIXED_SECRETS = [
    "s3cret-webhook",  # what tests/factories.py stores for every repository
    "fake-host-token-3f9a",  # the code-host token of the review tests (tests/fakehost.py)
    "revoked-token",  # the refused one
]


def leaked(secrets: list[str], log_dir: Path) -> dict[str, list[str]]:
    """log file -> the secrets found in it."""
    found: dict[str, list[str]] = {}
    for path in sorted(log_dir.rglob("*")):
        if path.is_file():
            text = path.read_text(encoding="utf-8", errors="replace")
            hits = [s for s in secrets if s in text]
            if hits:
                found[path.name] = hits
    return found


def test_grep_finds_a_planted_secret(tmp_path: Path) -> None:
    (tmp_path / "app.log").write_text("INFO token=ys_abc123 issued\n")
    assert leaked(["ys_abc123", "other"], tmp_path) == {"app.log": ["ys_abc123"]}


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_logs_of_a_test_run_hold_none_of_its_secrets(tmp_path: Path) -> None:
    log_dir, record = tmp_path / "logs", tmp_path / "secrets.txt"
    env = {
        # Not an xdist worker itself: the child is one serial run (`-n0`) in this worker's slot.
        **{k: v for k, v in os.environ.items() if not k.startswith("PYTEST_XDIST_")},
        "LOG_DIR": str(log_dir),
        "LOG_LEVEL": "DEBUG",
        "VAR_DIR": str(tmp_path / "var"),
        "YARDSTICK_SECRETS_OUT": str(record),
    }
    # The child run needs its own test database: this run's is in use (PostgreSQL in CI).
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        env["DATABASE_URL"] = f"{url.rstrip('/')}_secrets"
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            *MODULES,
            "-q",
            "-p",
            "tests.secret_recorder",
            "-p",
            "no:randomly",
            "-p",
            "no:cacheprovider",
            "-x",
            "-n0",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=540,
    )
    assert run.returncode == 0, run.stdout[-3000:]
    issued = record.read_text(encoding="utf-8").split()
    assert len(issued) >= 20  # the run really handed secrets out
    logs = list(log_dir.glob("*.log"))
    assert sum(p.stat().st_size for p in logs) > 1000  # and really logged
    assert leaked([*issued, *FIXED_SECRETS], log_dir) == {}
