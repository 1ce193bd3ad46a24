"""The shared Redis cache never unpickles a value this deployment did not sign (HIGH #2: a
pickled value written into Redis ran a command in the web process on the next page view)."""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import redis
from django.test import override_settings

from dashboard.services.infra.signedcache import SignedPickleSerializer, UnsignedValue

REDIS_URL = "redis://127.0.0.1:6379/12"  # this worktree's database on the shared server


class Detonator:
    """Unpickling it creates a folder: the side effect a forged value must never have."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.mkdir, (str(self.marker),))


def redis_or_skip() -> redis.Redis:
    """The shared Redis (db 12); skipped when it is not running (it is in CI)."""
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.exceptions.ConnectionError:
        if os.environ.get("CI") == "true":
            raise
        pytest.skip("no Redis on 127.0.0.1:6379")
    return client


def test_values_are_signed_and_ints_stay_raw() -> None:
    serializer = SignedPickleSerializer()
    value = {"panel": "<p>ok</p>", "n": [1, 2]}
    data = serializer.dumps(value)
    assert isinstance(data, bytes)
    assert serializer.loads(data) == value
    assert serializer.dumps(41) == 41
    assert serializer.loads(b"41") == 41
    assert serializer.dumps(True) != 1  # bool is pickled (and signed), as Django does
    assert serializer.loads(serializer.dumps(True)) is True


def test_a_forged_or_foreign_value_is_never_unpickled(tmp_path: Path) -> None:
    serializer = SignedPickleSerializer()
    marker = tmp_path / "unpickled"
    forged = pickle.dumps(Detonator(marker))
    signed = serializer.dumps("x")
    assert isinstance(signed, bytes)
    tampered = signed[:-1] + bytes([signed[-1] ^ 1])
    for data in (forged, signed[:20] + forged, tampered, b"", b"ys:hmac1:"):
        with pytest.raises(UnsignedValue):
            serializer.loads(data)
    with (
        override_settings(SECRET_KEY="another deployment's key " * 3),
        pytest.raises(UnsignedValue),
    ):
        serializer.loads(signed)
    assert not marker.exists()


PROBE = """
import json, os, pickle, sys
import django
django.setup()
from django.core.cache import cache
from dashboard.services.infra import ratelimit
from dashboard.services.infra.cacheclient import redis_client

prefix, forged_payload = sys.argv[1], bytes.fromhex(sys.argv[2])
backend, client = redis_client()
forged_key = f"{prefix}:panel"
client.set(backend.make_and_validate_key(forged_key), forged_payload)
cache.set(f"{prefix}:good", {"ok": [1, 2]})
cache.set(f"{prefix}:n", 5)
out = {
    "backend": type(backend).__name__,
    "forged": cache.get(forged_key, "miss"),
    "forged_many": sorted(cache.get_many([forged_key, f"{prefix}:good"])),
    "good": cache.get(f"{prefix}:good"),
    "incr": cache.incr(f"{prefix}:n"),
    "limit": [ratelimit.hit(prefix, "c", 2, 60).count for _ in range(3)],
}
print(json.dumps(out))
"""


def test_the_configured_redis_cache_ignores_a_forged_pickle(tmp_path: Path) -> None:
    client = redis_or_skip()
    prefix = f"signed-cache-test-{uuid.uuid4().hex}"
    marker = tmp_path / "unpickled"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "dashboard.settings", "CACHE_URL": REDIS_URL}
    payload = pickle.dumps(Detonator(marker)).hex()
    try:
        done = subprocess.run(
            [sys.executable, "-c", PROBE, prefix, payload],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    finally:
        for key in client.scan_iter(f"*{prefix}*"):
            client.delete(key)
    assert not marker.exists(), done.stderr  # the forged pickle never ran
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["backend"] == "SignedRedisCache"
    assert out["forged"] == "miss"
    assert out["forged_many"] == [f"{prefix}:good"]
    assert out["good"] == {"ok": [1, 2]}
    assert out["incr"] == 6
    assert out["limit"] == [1, 2, 3]
    assert "not signed with this deployment's key" in done.stderr


def test_celery_accepts_json_only() -> None:
    """Nothing read from the broker is unpickled either."""
    from dashboard.celery import app

    assert app.conf.accept_content == ["json"]
    assert app.conf.task_serializer == app.conf.result_serializer == "json"
