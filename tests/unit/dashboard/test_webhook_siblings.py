"""Sibling rows of one monorepo (one per project folder) share a clone URL: a delivery matched
by URL goes to the row whose own secret signed it, and to no other."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.test import Client

from dashboard.domain.clone_urls import url_key
from dashboard.models import Repository, Scan, WebhookDelivery
from dashboard.services.access import secrets
from tests.factories import RepositoryFactory
from tests.webhooks import ENDPOINTS, SAMPLE_CLONE_URLS, body_of, payload, signed_headers

pytestmark = pytest.mark.django_db

PROVIDERS = ("github", "gitlab", "gitea")
SAMPLES = {"github": "github-push", "gitlab": "gitlab-push", "gitea": "gitea-push"}


@pytest.fixture
def client() -> Client:
    """Its own source address: rate-limit windows never leak across tests."""
    return Client(REMOTE_ADDR=f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.9")


def _siblings(provider: str) -> tuple[Repository, Repository]:
    """Two services of one repository, each with its own hook secret."""
    url = SAMPLE_CLONE_URLS[provider]
    rows = tuple(
        RepositoryFactory(
            name=f"mono ({folder})",
            clone_url=url,
            url_key=url_key(url),
            project_dir=folder,
            webhook_secret_encrypted=secrets.encrypt(f"secret-of-{folder}"),
        )
        for folder in ("services/a", "services/b")
    )
    return rows[0], rows[1]


def _post(client: Client, provider: str, secret: str, delivery: str) -> Any:
    body = body_of(payload(SAMPLES[provider]))
    headers = signed_headers(provider, body, secret, delivery=delivery)
    return client.post(
        ENDPOINTS[provider], data=body, content_type="application/json", headers=headers
    )


def _scanned(repository: Repository) -> int:
    return Scan.objects.filter(repository=repository).count()


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_delivery_goes_to_the_sibling_whose_secret_signed_it(
    client: Client, provider: str
) -> None:
    a, b = _siblings(provider)
    to_b = _post(client, provider, "secret-of-services/b", "d-b")
    assert to_b.status_code == 202, to_b.json()
    assert (_scanned(a), _scanned(b)) == (0, 1)
    to_a = _post(client, provider, "secret-of-services/a", "d-a")
    assert to_a.json()["outcome"] == "scan_requested"
    assert (_scanned(a), _scanned(b)) == (1, 1)
    deliveries = WebhookDelivery.objects.order_by("pk").values_list("repository", "delivery_id")
    assert list(deliveries) == [(b.pk, "d-b"), (a.pk, "d-a")]


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_delivery_signed_by_neither_sibling_is_refused(client: Client, provider: str) -> None:
    a, b = _siblings(provider)
    response = _post(client, provider, "secret-of-someone-else", "d-x")
    assert response.status_code == 401
    assert "does not match" in response.json()["detail"]
    assert not Scan.objects.exists()
    # Which sibling's hook is wrong is unknown: each page shows the refusal (no claimed id).
    refused = WebhookDelivery.objects.values_list("repository", "accepted", "status_code")
    assert sorted(refused) == [(a.pk, False, 401), (b.pk, False, 401)]


def test_siblings_without_a_usable_secret_are_403_and_skipped(client: Client) -> None:
    a, b = _siblings("github")
    Repository.objects.filter(pk=a.pk).update(webhook_secret_encrypted="")
    assert _post(client, "github", "secret-of-services/b", "d-1").status_code == 202
    assert (_scanned(a), _scanned(b)) == (0, 1)
    Repository.objects.filter(pk=b.pk).update(webhook_secret_encrypted="not a token")
    response = _post(client, "github", "secret-of-services/b", "d-2")
    assert response.status_code == 403
    assert "no usable webhook secret" in response.json()["detail"]


def test_one_siblings_secret_never_opens_another(client: Client) -> None:
    """A GitLab token is sent in clear: the token of row a must not reach row b, even when b
    is the older row (matched first by the old single-row lookup)."""
    b, a = _siblings("gitlab")  # b has the lower pk
    response = _post(client, "gitlab", "secret-of-services/b", "d-1")  # a's secret
    assert response.status_code == 202
    assert (_scanned(a), _scanned(b)) == (1, 0)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_replay_is_a_duplicate_for_its_own_sibling_only(client: Client, provider: str) -> None:
    a, b = _siblings(provider)
    assert _post(client, provider, "secret-of-services/a", "same").status_code == 202
    Scan.objects.update(status=Scan.Status.SUCCEEDED)
    replay = _post(client, provider, "secret-of-services/a", "same")
    assert replay.json()["outcome"] == "duplicate"
    # b's own hook happens to use the same id: a delivery of its own, not a replay of a's.
    other = _post(client, provider, "secret-of-services/b", "same")
    assert other.json()["outcome"] == "scan_requested"
    assert (_scanned(a), _scanned(b)) == (1, 1)


def test_the_generic_endpoint_still_names_its_row(client: Client) -> None:
    a, b = _siblings("github")
    body = body_of(payload("generic-push"))
    headers = signed_headers("generic", body, "secret-of-services/b", delivery="g-1")
    response = client.post(
        f"/webhooks/generic/{a.pk}/", data=body, content_type="application/json", headers=headers
    )
    assert response.status_code == 401  # b's token does not open a, even for the same URL
    headers = signed_headers("generic", body, "secret-of-services/b", delivery="g-2")
    response = client.post(
        f"/webhooks/generic/{b.pk}/", data=body, content_type="application/json", headers=headers
    )
    assert response.status_code == 202
    assert (_scanned(a), _scanned(b)) == (0, 1)
