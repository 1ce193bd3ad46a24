"""Webhook endpoints: signatures, repository matching, replays, branches and every refusal."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from dashboard.domain.clone_urls import url_key
from dashboard.models import Repository, Scan, WebhookDelivery
from dashboard.services.access import secrets
from dashboard.services.infra import ratelimit
from dashboard.services.webhooks.providers import verify_gitea, verify_github, verify_token
from dashboard.services.webhooks.receive import MAX_BODY_BYTES
from tests.factories import RepositoryFactory
from tests.oncommit import queued_work
from tests.webhooks import ENDPOINTS, SAMPLE_CLONE_URLS, body_of, payload, signed_headers

pytestmark = pytest.mark.django_db

SECRET = "s3cret-webhook"  # what RepositoryFactory stores
PROVIDERS = ("github", "gitlab", "gitea")
SAMPLES = {"github": "github-push", "gitlab": "gitlab-push", "gitea": "gitea-push"}

Post = Callable[..., Any]


@pytest.fixture
def client() -> Client:
    """A client with its own source address, so rate-limit windows never leak across tests."""
    return Client(REMOTE_ADDR=f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.7")


def _repository(provider: str, **fields: Any) -> Repository:
    url = SAMPLE_CLONE_URLS[provider]
    return RepositoryFactory(clone_url=url, url_key=url_key(url), **fields)


def _post(
    client: Client,
    provider: str,
    data: dict[str, Any] | bytes,
    *,
    secret: str = SECRET,
    event: str = "push",
    delivery: str | None = None,
    content_type: str = "application/json",
    drop: tuple[str, ...] = (),
) -> Any:
    body = data if isinstance(data, bytes) else body_of(data)
    headers = signed_headers(provider, body, secret, event=event, delivery=delivery)
    for name in drop:
        headers.pop(name)
    return client.post(ENDPOINTS[provider], data=body, content_type=content_type, headers=headers)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_signed_push_to_default_branch_queues_a_scan_of_the_pushed_commit(
    client: Client, provider: str, django_capture_on_commit_callbacks: Any
) -> None:
    repository = _repository(provider)
    data = payload(SAMPLES[provider])
    with django_capture_on_commit_callbacks() as callbacks:
        response = _post(client, provider, data, delivery="d-1")
    assert response.status_code == 202, response.json()
    assert response.json()["outcome"] == "scan_requested"
    scan = Scan.objects.get(repository=repository)
    assert (scan.trigger, scan.ref, scan.status) == ("webhook", data["after"], "queued")
    assert response.json()["scan_id"] == scan.pk
    assert len(queued_work(callbacks)) == 1  # the task is sent once the transaction commits
    delivery = WebhookDelivery.objects.get()
    assert (delivery.provider, delivery.delivery_id, delivery.event) == (provider, "d-1", "push")
    assert (delivery.repository, delivery.scan, delivery.accepted) == (repository, scan, True)
    assert (delivery.outcome, delivery.status_code) == ("scan_requested", 202)
    assert delivery.commit_sha == data["after"]
    assert delivery.remote_addr == client.defaults["REMOTE_ADDR"]


@pytest.mark.parametrize("provider", PROVIDERS)
def test_tampered_body_is_refused(client: Client, provider: str) -> None:
    repository = _repository(provider)
    body = body_of(payload(SAMPLES[provider]))
    headers = signed_headers(provider, body, SECRET)
    tampered = body.replace(b'"refs/heads/main"', b'"refs/heads/mainx"')
    response = client.post(
        ENDPOINTS[provider], data=tampered, content_type="application/json", headers=headers
    )
    expected = 202 if provider == "gitlab" else 401  # a GitLab token does not sign the body
    assert response.status_code == expected
    assert not Scan.objects.filter(repository=repository).exists()


@pytest.mark.parametrize("provider", PROVIDERS)
def test_signature_with_another_repositorys_secret_is_refused(
    client: Client, provider: str
) -> None:
    other = RepositoryFactory(webhook_secret_encrypted=secrets.encrypt("someone-elses"))
    repository = _repository(provider)
    response = _post(client, provider, payload(SAMPLES[provider]), secret="someone-elses")
    assert response.status_code == 401
    assert not Scan.objects.exists()
    delivery = WebhookDelivery.objects.get()
    assert (delivery.repository, delivery.outcome, delivery.accepted) == (
        repository,
        "rejected",
        False,
    )
    assert other.deliveries.count() == 0


@pytest.mark.parametrize(
    ("provider", "header"),
    [
        ("github", "X-Hub-Signature-256"),
        ("gitlab", "X-Gitlab-Token"),
        ("gitea", "X-Gitea-Signature"),
    ],
)
def test_missing_signature_is_refused(client: Client, provider: str, header: str) -> None:
    _repository(provider)
    response = _post(client, provider, payload(SAMPLES[provider]), drop=(header,))
    assert response.status_code == 401
    assert header in response.json()["detail"]
    assert not WebhookDelivery.objects.exists()  # unsigned: counted and logged only


@pytest.mark.parametrize("provider", PROVIDERS)
def test_unknown_repository_is_404_and_not_stored(client: Client, provider: str) -> None:
    """Finding 15: a request no repository matches is anonymous: counted and logged only."""
    response = _post(client, provider, payload(SAMPLES[provider]))
    assert response.status_code == 404
    assert not WebhookDelivery.objects.exists()


def test_repository_without_secret_is_403(client: Client) -> None:
    _repository("github", webhook_secret_encrypted="")
    response = _post(client, "github", payload("github-push"))
    assert response.status_code == 403
    assert not Scan.objects.exists()


def test_secret_encrypted_under_a_retired_key_is_403(client: Client) -> None:
    _repository("github", webhook_secret_encrypted="gAAAAAB-not-a-valid-token")
    assert _post(client, "github", payload("github-push")).status_code == 403


@pytest.mark.parametrize("provider", PROVIDERS)
def test_replayed_delivery_is_ignored(client: Client, provider: str) -> None:
    repository = _repository(provider)
    data = payload(SAMPLES[provider])
    first = _post(client, provider, data, delivery="same-id")
    Scan.objects.filter(repository=repository).update(status=Scan.Status.SUCCEEDED)
    replay = _post(client, provider, data, delivery="same-id")
    assert first.json()["outcome"] == "scan_requested"
    assert (replay.status_code, replay.json()["outcome"]) == (202, "duplicate")
    assert Scan.objects.filter(repository=repository).count() == 1
    outcomes = list(
        WebhookDelivery.objects.order_by("id").values_list("outcome", "accepted", "delivery_id")
    )
    assert outcomes == [("scan_requested", True, "same-id"), ("duplicate", False, "same-id")]


def test_same_delivery_id_from_another_provider_is_not_a_replay(client: Client) -> None:
    _repository("github")
    _repository("gitea")
    assert _post(client, "github", payload("github-push"), delivery="x").status_code == 202
    response = _post(client, "gitea", payload("gitea-push"), delivery="x")
    assert response.json()["outcome"] == "scan_requested"


def test_refused_delivery_does_not_claim_its_id(client: Client) -> None:
    _repository("github")
    data = payload("github-push")
    assert _post(client, "github", data, delivery="d", secret="forged").status_code == 401
    assert _post(client, "github", data, delivery="d").json()["outcome"] == "scan_requested"


@pytest.mark.parametrize("provider", PROVIDERS)
def test_push_to_another_branch_is_ignored(client: Client, provider: str) -> None:
    _repository(provider)
    data = payload(SAMPLES[provider]) | {"ref": "refs/heads/feature/login"}
    response = _post(client, provider, data)
    assert (response.status_code, response.json()["outcome"]) == (202, "ignored")
    assert "refs/heads/feature/login" in response.json()["detail"]
    assert not Scan.objects.exists()


def test_default_branch_is_the_registered_one(client: Client) -> None:
    _repository("github", default_branch="develop")
    data = payload("github-push")
    assert _post(client, "github", data).json()["outcome"] == "ignored"
    response = _post(client, "github", data | {"ref": "refs/heads/develop"})
    assert response.json()["outcome"] == "scan_requested"


def test_tag_push_is_ignored(client: Client) -> None:
    _repository("gitlab")
    data = payload("gitlab-push") | {"ref": "refs/tags/v1.0.0"}
    response = _post(client, "gitlab", data, event="Tag Push Hook")
    assert response.json()["outcome"] == "ignored"
    assert WebhookDelivery.objects.get().event == "tag_push"


@pytest.mark.parametrize("provider", PROVIDERS)
def test_branch_deletion_is_ignored(client: Client, provider: str) -> None:
    _repository(provider)
    data = payload(SAMPLES[provider]) | {"after": "0" * 40, "deleted": True}
    response = _post(client, provider, data)
    assert response.json()["outcome"] == "ignored"
    assert "deleted" in response.json()["detail"]
    assert not Scan.objects.exists()


def test_push_to_inactive_repository_is_ignored(client: Client) -> None:
    _repository("github", active=False)
    assert _post(client, "github", payload("github-push")).json()["outcome"] == "ignored"
    assert not Scan.objects.exists()


def test_push_without_a_commit_sha_is_400(client: Client) -> None:
    _repository("github")
    response = _post(client, "github", payload("github-push") | {"after": "HEAD"})
    assert response.status_code == 400
    assert not WebhookDelivery.objects.filter(accepted=True).exists()


def test_ping_is_answered_after_verification(client: Client) -> None:
    _repository("github")
    response = _post(client, "github", payload("github-ping"), event="ping")
    assert (response.status_code, response.json()["outcome"]) == (200, "pong")
    assert not Scan.objects.exists()
    forged = _post(client, "github", payload("github-ping"), event="ping", secret="nope")
    assert forged.status_code == 401


def test_unsupported_event_is_accepted_and_ignored(client: Client) -> None:
    _repository("github")
    response = _post(client, "github", payload("github-push"), event="issues")
    assert (response.status_code, response.json()["outcome"]) == (202, "ignored")
    assert "issues" in response.json()["detail"]
    assert not Scan.objects.exists()


@pytest.mark.parametrize(
    "registered",
    [
        "https://github.com/octo-org/payments-api.git",
        "ssh://git@github.com/Octo-Org/Payments-API",
        "https://github.com/octo-org/payments-api",
    ],
)
def test_repository_matches_any_spelling_of_its_url(client: Client, registered: str) -> None:
    repository = RepositoryFactory(clone_url=registered, url_key=url_key(registered))
    assert _post(client, "github", payload("github-push")).status_code == 202
    assert Scan.objects.filter(repository=repository).count() == 1


def test_gitea_ssh_url_with_port_matches(client: Client) -> None:
    registered = "ssh://git@gitea.example.com:2222/inventory/stock-api.git"
    repository = RepositoryFactory(clone_url=registered, url_key=url_key(registered))
    data = payload("gitea-push")
    data["repository"]["clone_url"] = "https://mirror.example.com/elsewhere.git"
    assert _post(client, "gitea", data).json()["scan_id"] is not None
    assert repository.scans.count() == 1


def test_oversized_body_is_413(client: Client) -> None:
    _repository("github")
    data = payload("github-push") | {"padding": "x" * MAX_BODY_BYTES}
    response = _post(client, "github", data)
    assert response.status_code == 413
    assert not WebhookDelivery.objects.exists()  # unverifiable: counted and logged only


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b'{"ref": "refs/heads/main", ', "application/json"),
        (b"\xff\xfe not utf-8", "application/json"),
        (b"[1, 2, 3]", "application/json"),
        (b'{"ref": "refs/heads/main"}', "application/json"),
        (b"payload=%7B%7D", "application/x-www-form-urlencoded"),
    ],
    ids=["truncated", "binary", "not-an-object", "no-repository", "form-encoded"],
)
def test_malformed_payload_or_wrong_content_type_is_400(
    client: Client, body: bytes, content_type: str
) -> None:
    _repository("github")
    response = _post(client, "github", body, content_type=content_type)
    assert response.status_code == 400
    assert not WebhookDelivery.objects.exists()  # unverifiable: counted and logged only


def test_get_is_not_allowed(client: Client) -> None:
    assert client.get("/webhooks/github/").status_code == 405


def test_endpoints_need_no_csrf_token() -> None:
    strict = Client(enforce_csrf_checks=True, REMOTE_ADDR="10.250.0.1")
    _repository("github")
    assert _post(strict, "github", payload("github-push")).status_code == 202


def test_rate_limit_per_source_address(client: Client, settings: Any) -> None:
    settings.WEBHOOK_RATE_LIMIT = (3, 60)
    _repository("github")
    statuses = [_post(client, "github", payload("github-push")).status_code for _ in range(4)]
    assert statuses[:3] == [202, 202, 202]
    assert statuses[3] == 429
    other = Client(REMOTE_ADDR="10.251.0.1")
    assert _post(other, "github", payload("github-push")).status_code == 202
    assert WebhookDelivery.objects.count() == 4  # refused floods are not stored


def test_rate_limit_window_resets() -> None:
    client_id = f"test-{uuid.uuid4()}"
    assert ratelimit.hit("t", client_id, 1, 60, now=120.0).allowed
    blocked = ratelimit.hit("t", client_id, 1, 60, now=150.0)
    assert (blocked.allowed, blocked.retry_after) == (False, 30)
    assert ratelimit.hit("t", client_id, 1, 60, now=180.0).allowed


# ----- the generic endpoint ----------------------------------------------------------------
def _generic(
    client: Client, repository_id: int, token: str, data: dict[str, Any], delivery: str = ""
) -> Any:
    """A generic delivery; `delivery="-"` sends no X-Yardstick-Delivery (the body is the id)."""
    body = body_of(data)
    headers = signed_headers("generic", body, token, delivery=delivery or None)
    if delivery == "-":
        headers.pop("X-Yardstick-Delivery")
    return client.post(
        f"/webhooks/generic/{repository_id}/",
        data=body,
        content_type="application/json",
        headers=headers,
    )


def _push_of(sha: str) -> dict[str, Any]:
    return {"ref": "refs/heads/main", "after": sha}


def _outcome(response: Any) -> str:
    Scan.objects.update(status=Scan.Status.SUCCEEDED)  # each push a scan of its own
    return str(response.json()["outcome"])


def test_another_repositorys_delivery_id_is_not_a_replay(client: Client) -> None:
    """Finding 5: repository B's `build-7` made repository A's signed `build-7` a duplicate."""
    first, second = RepositoryFactory(), RepositoryFactory()
    for repository in (second, first):
        answer = _generic(client, repository.pk, SECRET, _push_of("a" * 40), delivery="build-7")
        assert _outcome(answer) == "scan_requested"
    assert first.scans.count() == second.scans.count() == 1
    again = _generic(client, first.pk, SECRET, _push_of("a" * 40), delivery="build-7")
    assert _outcome(again) == "duplicate"


def test_a_delivery_id_naming_another_head_is_a_new_push(client: Client) -> None:
    repository = RepositoryFactory()
    for sha in ("a" * 40, "b" * 40):
        answer = _generic(client, repository.pk, SECRET, _push_of(sha), delivery="build-7")
        assert _outcome(answer) == "scan_requested"
    assert list(repository.scans.order_by("pk").values_list("ref", flat=True)) == [
        "a" * 40,
        "b" * 40,
    ]


def test_a_rollback_push_without_delivery_ids_is_scanned(client: Client) -> None:
    """Finding 5: with the body as the id, A then B then A again dropped the last push and
    the dashboard kept showing B. A retry right after its original is still a duplicate."""
    repository = RepositoryFactory()
    outcomes = [
        _outcome(_generic(client, repository.pk, SECRET, _push_of(sha), delivery="-"))
        for sha in ("a" * 40, "a" * 40, "b" * 40, "a" * 40)
    ]
    assert outcomes == ["scan_requested", "duplicate", "scan_requested", "scan_requested"]
    refs = list(repository.scans.order_by("pk").values_list("ref", flat=True))
    assert refs == ["a" * 40, "b" * 40, "a" * 40]


def test_unsigned_floods_store_at_most_one_row_per_repository_a_minute(
    client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    """Finding 15: every unsigned request inserted a row (2,000 in 6 s) and flooded the
    repository's recent deliveries. Now: one row a minute per repository, none unmatched."""
    from dashboard.observability.metrics import WEBHOOK_REFUSALS

    repository = RepositoryFactory()
    counter = WEBHOOK_REFUSALS.labels("generic", "401")
    before = counter._value.get()
    for _ in range(30):
        assert _generic(client, repository.pk, "forged", payload("generic-push")).status_code == 401
        assert (
            _generic(client, repository.pk + 99, "forged", payload("generic-push")).status_code
            == 401
        )
    assert list(WebhookDelivery.objects.values_list("repository", "status_code")) == [
        (repository.pk, 401)
    ]
    assert counter._value.get() - before == 60
    assert not [r for r in caplog.records if r.exc_info]
    WebhookDelivery.objects.update(received_at=timezone.now() - timedelta(minutes=2))
    _generic(client, repository.pk, "forged", payload("generic-push"))
    assert WebhookDelivery.objects.count() == 2


def test_generic_push_with_the_repository_token_queues_a_scan(client: Client) -> None:
    repository = RepositoryFactory()
    response = _generic(client, repository.pk, SECRET, payload("generic-push"))
    assert response.json()["outcome"] == "scan_requested"
    assert repository.scans.get().ref == payload("generic-push")["after"]


def test_generic_refuses_wrong_token_and_unknown_repository_alike(client: Client) -> None:
    """Finding 15: the same status and body, so anonymous callers cannot enumerate ids."""
    repository = RepositoryFactory()
    no_secret = RepositoryFactory(webhook_secret_encrypted="")
    answers = [
        _generic(client, repository.pk, "wrong", payload("generic-push")),
        _generic(client, repository.pk + 99, SECRET, payload("generic-push")),
        _generic(client, 9 * 10**20, SECRET, payload("generic-push")),
        _generic(client, no_secret.pk, SECRET, payload("generic-push")),
    ]
    assert {(a.status_code, a.content) for a in answers} == {
        (401, answers[0].content),
    }
    assert (
        answers[0].json()["detail"] == "X-Yardstick-Token does not match this repository's secret"
    )
    assert not Scan.objects.exists()


# ----- verifiers ---------------------------------------------------------------------------
def test_verifiers_accept_only_the_exact_signature() -> None:
    body, good = b'{"a":1}', "sha256=" + "0" * 64
    assert not verify_github(body, good, "k")
    header = signed_headers("github", body, "k")["X-Hub-Signature-256"]
    assert verify_github(body, header, "k")
    assert not verify_github(body, header.removeprefix("sha256="), "k")
    gitea = signed_headers("gitea", body, "k")["X-Gitea-Signature"]
    assert verify_gitea(body, gitea.upper(), "k")
    assert not verify_gitea(body + b" ", gitea, "k")
    assert verify_token(body, "k", "k")
    assert not verify_token(body, "k ", "k")


def test_recent_deliveries_lists_a_repositorys_deliveries_newest_first(client: Client) -> None:
    from dashboard.selectors.webhooks import recent_deliveries

    repository = _repository("github")
    _post(client, "github", payload("github-push"), delivery="first")
    _post(client, "github", payload("github-push"), delivery="second", secret="forged")
    _post(client, "github", payload("github-ping"), event="ping", delivery="third")
    shown = recent_deliveries(repository, limit=2)
    assert [(d.delivery_id, d.outcome) for d in shown] == [
        ("third", "pong"),
        ("second", "rejected"),
    ]
    assert len(recent_deliveries(repository)) == 3
