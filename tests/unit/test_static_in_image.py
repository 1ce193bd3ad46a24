"""The image serves its CSS and htmx: collectstatic as the Dockerfile runs it, then the
production settings (whitenoise without finders) behind gunicorn on a loopback port."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
#: What `COPY . .` brings that the web process needs (the rest is tests, docs, benchmarks).
_APP_PARTS = ("dashboard", "scanners", "static", "templates", "manage.py", "gunicorn.conf.py")
_KEY = "k3y-" + "0123456789abcdefghijklmnopqrstuvwxyz" * 2


def _dockerfile_collectstatic() -> tuple[dict[str, str], list[str]]:
    """The environment and argv of the Dockerfile's collectstatic command."""
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8").replace("\\\n", " ")
    for command in re.split(r"&&|\n", text):
        words = shlex.split(command.strip().removeprefix("RUN "))
        if "collectstatic" in words:
            env = {}
            while words and re.match(r"^[A-Z_]+=", words[0]):
                name, _, value = words.pop(0).partition("=")
                env[name] = value
            return env, words
    pytest.fail("the Dockerfile runs no collectstatic")


def _runtime_var_dir() -> str:
    """VAR_DIR of the compose services, which must be where their volume is mounted."""
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    web = compose["services"]["web"]
    var_dir = str(web["environment"]["VAR_DIR"])
    assert any(str(v).endswith(f":{var_dir}") for v in web["volumes"])
    return var_dir


def _rebase(value: str, app: Path, tmp: Path) -> str:
    """An image path in the test's copy: /app/... in the app copy, others under tmp."""
    if value == "/app" or value.startswith("/app/"):
        return str(app / value.removeprefix("/app").lstrip("/"))
    return str(tmp / value.lstrip("/")) if value.startswith("/") else value


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _get(url: str) -> tuple[int, str, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - loopback
            return response.status, response.headers.get("Content-Type", ""), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("Content-Type", ""), b""


def _clean_env() -> dict[str, str]:
    drop = {"ENVIRONMENT", "DEBUG", "STATIC_ROOT", "VAR_DIR", "DATABASE_URL", "CELERY_BROKER_URL"}
    return {k: v for k, v in os.environ.items() if k not in drop}


@pytest.mark.slow
def test_the_image_layout_serves_css_and_htmx_with_production_settings(tmp_path: Path) -> None:
    app = tmp_path / "app"  # WORKDIR /app, filled by COPY . .
    app.mkdir()
    for part in _APP_PARTS:
        source = ROOT / part
        if source.is_dir():
            shutil.copytree(source, app / part, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, app / part)
    build_env, argv = _dockerfile_collectstatic()
    assert argv[:3] == ["python", "manage.py", "collectstatic"]
    env = _clean_env() | {k: _rebase(v, app, tmp_path) for k, v in build_env.items()}
    subprocess.run(
        [sys.executable, *argv[1:]], cwd=app, env=env, check=True, capture_output=True, timeout=120
    )

    port = _free_port()
    runtime = _clean_env() | {
        "ENVIRONMENT": "production",
        "SECRET_KEY": _KEY,
        "ALLOWED_HOSTS": "127.0.0.1",
        "VAR_DIR": _rebase(_runtime_var_dir(), app, tmp_path),  # the (empty) volume
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "CACHE_URL": "locmem://",
        "LOG_DIR": str(tmp_path / "logs"),
        "WEB_BIND": f"127.0.0.1:{port}",
        "WEB_WORKERS": "1",
        "WEB_THREADS": "2",
    }
    log = (tmp_path / "gunicorn.log").open("wb")
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py"],
        cwd=app,
        env=runtime,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail((tmp_path / "gunicorn.log").read_text(errors="replace")[-3000:])
                time.sleep(0.2)
        base = f"http://127.0.0.1:{port}/static/"
        for path, kind in (("css/yardstick.css", "text/css"), ("vendor/htmx.min.js", "script")):
            status, content_type, body = _get(base + path)
            assert (status, kind in content_type) == (200, True), (path, status, content_type)
            assert body == (ROOT / "static" / path).read_bytes()
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()
