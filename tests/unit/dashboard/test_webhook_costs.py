"""What one webhook delivery costs: statements and cache round trips (the 300/s target)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from dashboard.config import ConfigError, load_config
from dashboard.domain.clone_urls import url_key
from dashboard.models import Scan, WebhookDelivery
from dashboard.services.infra import ratelimit
from tests.factories import RepositoryFactory
from tests.private_services import PrivateRedis
from tests.webhooks import ENDPOINTS, SAMPLE_CLONE_URLS, body_of, payload, signed_headers

pytestmark = pytest.mark.django_db

SECRET = "s3cret-webhook"  # what RepositoryFactory stores
URL = SAMPLE_CLONE_URLS["github"]


def _push(client: Client, branch: str, *, event: str = "push", delivery: str | None = None) -> Any:
    data = payload("github-push")
    data["ref"] = f"refs/heads/{branch}"
    body = body_of(data)
    headers = signed_headers("github", body, SECRET, event=event, delivery=delivery)
    return client.post(
        ENDPOINTS["github"], data=body, content_type="application/json", headers=headers
    )


@pytest.fixture
def client() -> Client:
    return Client(REMOTE_ADDR=f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.9")


def test_an_answer_only_delivery_is_one_lookup_and_one_insert(client: Client) -> None:
    RepositoryFactory(clone_url=URL, url_key=url_key(URL))
    for branch, event in (("feature/x", "push"), ("main", "ping"), ("main", "issues")):
        with CaptureQueriesContext(connection) as queries:
            response = _push(client, branch, event=event)
        assert response.status_code in (200, 202), response.content
        statements = [q["sql"].split()[0].upper() for q in queries.captured_queries]
        assert statements == ["SELECT", "INSERT"], (event, statements)
    outcomes = list(WebhookDelivery.objects.order_by("pk").values_list("outcome", "accepted"))
    assert outcomes == [("ignored", True), ("pong", True), ("ignored", True)]


def test_a_replay_of_an_answer_only_delivery_is_recorded_as_a_duplicate(client: Client) -> None:
    RepositoryFactory(clone_url=URL, url_key=url_key(URL))
    first = _push(client, "feature/x", delivery="d-1")
    again = _push(client, "feature/x", delivery="d-1")
    assert (first.json()["outcome"], again.json()["outcome"]) == ("ignored", "duplicate")
    rows = WebhookDelivery.objects.filter(delivery_id="d-1").values_list("accepted", "outcome")
    assert sorted(rows) == [(False, "duplicate"), (True, "ignored")]


def test_a_scan_request_is_claimed_queued_and_recorded_in_one_transaction(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    RepositoryFactory(clone_url=URL, url_key=url_key(URL))
    from dashboard.services.webhooks import receive as webhooks

    def broken(*args: Any, **kwargs: Any) -> Scan:
        raise RuntimeError("the database went away mid-request")

    monkeypatch.setattr(webhooks, "request_scan", broken)
    raising = Client(REMOTE_ADDR="10.9.9.9", raise_request_exception=False)
    assert _push(raising, "main", delivery="d-2").status_code == 500
    # Nothing claimed: the sender's retry of the same delivery is still served.
    assert not WebhookDelivery.objects.filter(delivery_id="d-2").exists()
    monkeypatch.undo()
    answer = _push(client, "main", delivery="d-2").json()
    assert answer["outcome"] == "scan_requested"
    record = WebhookDelivery.objects.get(delivery_id="d-2", accepted=True)
    assert (record.outcome, record.scan_id) == ("scan_requested", answer["scan_id"])


@pytest.fixture(scope="module")
def private_redis() -> Iterator[PrivateRedis]:
    server = PrivateRedis(appendonly=False)
    server.start()
    yield server
    server.destroy()


def test_the_rate_limit_is_one_redis_round_trip(private_redis: PrivateRedis, settings: Any) -> None:
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": private_redis.url(),
            "KEY_PREFIX": "t",
        }
    }
    raw = redis.Redis(port=private_redis.port)

    def calls() -> dict[str, int]:
        stats = raw.info("commandstats")
        return {name.removeprefix("cmdstat_"): int(v["calls"]) for name, v in stats.items()}

    ratelimit.hit("webhook", "10.0.0.2", 2, 60, now=600.0)  # connects (client setup commands)
    before = calls()
    decisions = [ratelimit.hit("webhook", "10.0.0.1", 2, 60, now=600.0) for _ in range(3)]
    after = calls()
    sent = {name: n - before.get(name, 0) for name, n in after.items() if n > before.get(name, 0)}
    # One EVAL per request; INCR and EXPIRE run inside it, on the server.
    assert sent == {"eval": 3, "incr": 3, "expire": 1, "info": 1}
    assert [d.allowed for d in decisions] == [True, True, False]
    (key,) = raw.keys("t:*ratelimit:webhook:10.0.0.1:10")
    assert 0 < raw.ttl(key) <= 61  # the window's key expires with its window


def test_retiring_page_panels_is_one_redis_round_trip(
    private_redis: PrivateRedis, settings: Any
) -> None:
    from dashboard.services.infra import page_versions

    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": private_redis.url(1),
        }
    }
    raw = redis.Redis(port=private_redis.port, db=1)
    page_versions.changed(team_id=1, repository_id=1)  # starts the counters at the clock
    started = page_versions.versions({"org", "team:1", "repository:1"})
    evals = int(raw.info("commandstats").get("cmdstat_eval", {}).get("calls", 0))
    page_versions.changed(team_id=1, repository_id=1)
    assert int(raw.info("commandstats")["cmdstat_eval"]["calls"]) == evals + 1
    bumped = page_versions.versions({"org", "team:1", "repository:1"})
    assert all(bumped[scope] == started[scope] + 1 for scope in started)
    assert started["org"] > 1_700_000_000 * 10**9  # nanoseconds of the clock, not 1


def test_the_webhook_rate_limit_is_a_setting() -> None:
    assert (load_config().WEBHOOK_RATE_LIMIT, load_config().WEBHOOK_RATE_WINDOW_S) == (6000, 60)
    assert load_config(WEBHOOK_RATE_LIMIT=20_000).WEBHOOK_RATE_LIMIT == 20_000
    with pytest.raises(ConfigError, match="WEBHOOK_RATE_LIMIT"):
        load_config(WEBHOOK_RATE_LIMIT=0)
