"""Time limits: one setting drives Celery's limits and the Redis redelivery timeout."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Loads settings with an `.env`-style file (not os.environ) and prints what Celery sees.
_PROBE = """
import json, sys
import dashboard.config as config
config.AppConfig.model_config["env_file"] = sys.argv[1]
from dashboard.celery import app
app.loader.import_default_modules()
tasks = {
    name: [task.soft_time_limit, task.time_limit, getattr(task, "retry_backoff_max", None)]
    for name, task in app.tasks.items() if name.startswith("dashboard.")
}
print(json.dumps({
    "soft": app.conf.task_soft_time_limit,
    "hard": app.conf.task_time_limit,
    "visibility": app.conf.broker_transport_options.get("visibility_timeout"),
    "tasks": tasks,
}))
"""


def _celery_view(tmp_path: Path, lines: list[str]) -> dict[str, object]:
    env_file = tmp_path / "dot.env"
    env_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"SCAN_TIME_LIMIT_S", "DEEP_SCAN_TIME_LIMIT_S", "CELERY_BROKER_URL"}
    }
    env.update(VAR_DIR=str(tmp_path / "var"), LOG_DIR=str(tmp_path / "logs"))
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, str(env_file)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_a_time_limit_in_the_env_file_reaches_celery(tmp_path: Path) -> None:
    seen = _celery_view(
        tmp_path,
        [
            "SCAN_TIME_LIMIT_S=123",
            "DEEP_SCAN_TIME_LIMIT_S=4567",
            "CELERY_BROKER_URL=redis://127.0.0.1:6379/15",  # parsed only: nothing connects
        ],
    )
    assert seen["soft"] == 123
    assert seen["hard"] == 183
    tasks = seen["tasks"]
    assert isinstance(tasks, dict)
    assert tasks["dashboard.deep_scan"][:2] == [4567, 4627]


def test_redis_redelivers_only_after_every_task_could_have_finished(tmp_path: Path) -> None:
    seen = _celery_view(
        tmp_path, ["SCAN_TIME_LIMIT_S=900", "CELERY_BROKER_URL=redis://127.0.0.1:6379/15"]
    )
    visibility = seen["visibility"]
    assert isinstance(visibility, int)
    hard = seen["hard"]
    assert isinstance(hard, int)
    tasks = seen["tasks"]
    assert isinstance(tasks, dict)
    assert "dashboard.deep_scan" in tasks
    for name, (_soft, time_limit, backoff_max) in tasks.items():
        assert visibility > (time_limit or hard), name
        assert visibility > (backoff_max or 0), name  # a counted-down retry waits unacked
