"""Project files that CI and deployment rely on stay valid."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import yaml

from dashboard.config import AppConfig

ROOT = Path(__file__).resolve().parents[2]


def test_scanners_never_import_django() -> None:
    offenders = []
    for path in (ROOT / "scanners").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [
                f"{path}:{node.lineno}"
                for n in names
                if n.split(".")[0] in {"django", "dashboard", "celery"}
            ]
    assert offenders == []


def test_env_example_documents_every_setting() -> None:
    text = (ROOT / ".env.example").read_text()
    documented = set(re.findall(r"^([A-Z_]+)=", text, re.MULTILINE))
    assert documented == set(AppConfig.model_fields)


def test_docker_compose_defines_the_production_stack() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert set(services) == {
        "web",
        "worker",
        "worker-deep",
        "worker-reviews",
        "beat",
        "postgres",
        "redis",
    }
    assert "--queues=deep" in services["worker-deep"]["command"]  # sandboxed deep scans
    assert "--queues=reviews" in services["worker-reviews"]["command"]  # before nightly rescans
    for name in ("web", "worker", "beat"):
        env = services[name]["environment"]
        assert env["DATABASE_URL"].startswith("postgresql://")
        for url in ("CELERY_BROKER_URL", "CACHE_URL"):  # Redis asks for its password
            assert env[url].startswith("redis://:${REDIS_PASSWORD:?"), url
            assert "}@redis:6379/" in env[url]
        assert set(services[name]["depends_on"]) <= set(services)
    assert "gunicorn --config gunicorn.conf.py" in services["web"]["command"]
    assert "celery -A dashboard worker" in services["worker"]["command"]
    assert "celery -A dashboard beat" in services["beat"]["command"]
    assert set(compose["volumes"]) >= {"postgres-data", "redis-data"}
    redis = services["redis"]
    assert redis["command"][-2:] == ["--requirepass", "${REDIS_PASSWORD:?set REDIS_PASSWORD}"]
    assert redis["environment"]["REDISCLI_AUTH"] == "${REDIS_PASSWORD:?set REDIS_PASSWORD}"
    assert "redis-cli ping | grep -q PONG" in redis["healthcheck"]["test"]
    assert "# REDIS_PASSWORD=" in (ROOT / ".env.example").read_text()


def test_readme_states_the_two_commands() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "uv run manage.py quickstart" in readme
    assert "uv run pytest" in readme


def test_python_version_is_pinned_to_313() -> None:
    assert (ROOT / ".python-version").read_text().strip() == "3.13"


def test_the_image_and_the_benchmarks_run_the_one_gunicorn_configuration() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert 'CMD ["gunicorn", "--config", "gunicorn.conf.py"]' in dockerfile
    server = (ROOT / "benchmarks" / "orgscale" / "server.py").read_text()
    assert '"--config", str(ROOT / "gunicorn.conf.py")' in server
    config = (ROOT / "gunicorn.conf.py").read_text()
    assert 'worker_class = "gthread"' in config
