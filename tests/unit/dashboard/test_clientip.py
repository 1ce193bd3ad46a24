"""The client's address: the TCP peer unless a proxy is trusted, then only the right hop.

Finding 9: behind the required TLS proxy every request has the proxy's REMOTE_ADDR, so
per-address limits (webhooks, sign-in) and the audit log's source address lumped everyone
together. The addresses below are only written into request headers; nothing connects to them.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.db import transaction
from django.http import HttpResponse
from django.test import Client, RequestFactory

from dashboard.domain.clone_urls import url_key
from dashboard.http.clientip import client_ip
from dashboard.models import AuditAction, AuditEvent, WebhookDelivery
from dashboard.observability.middleware import RequestIdMiddleware
from dashboard.services.access import audit
from tests.factories import RepositoryFactory
from tests.webhooks import ENDPOINTS, SAMPLE_CLONE_URLS, body_of, payload, signed_headers

PROXY = "127.0.0.9"  # the TLS proxy every request comes through (REMOTE_ADDR)


def _request(remote: str = PROXY, **headers: str) -> Any:
    return RequestFactory().get("/", REMOTE_ADDR=remote, headers=headers)


@pytest.fixture
def behind_proxy(settings: Any) -> Any:
    settings.TRUSTED_PROXY_META_KEY = "HTTP_X_FORWARDED_FOR"
    settings.TRUSTED_PROXY_COUNT = 1
    return settings


def test_without_a_trusted_proxy_the_peer_is_the_client_and_headers_are_ignored() -> None:
    forged = _request("198.51.100.7", **{"X-Forwarded-For": "203.0.113.1", "X-Real-IP": "1.2.3.4"})
    assert client_ip(forged) == "198.51.100.7"


def test_behind_one_proxy_the_entry_it_appended_is_the_client(behind_proxy: Any) -> None:
    # The client forged the first entry; our proxy appended the address it saw.
    request = _request(**{"X-Forwarded-For": "203.0.113.1, 198.51.100.7"})
    assert client_ip(request) == "198.51.100.7"


def test_behind_two_proxies_the_second_entry_from_the_right_is_the_client(
    behind_proxy: Any,
) -> None:
    behind_proxy.TRUSTED_PROXY_COUNT = 2
    request = _request(**{"X-Forwarded-For": "203.0.113.1, 198.51.100.7, 192.0.2.50"})
    assert client_ip(request) == "198.51.100.7"


def test_too_few_hops_or_garbage_give_no_address(behind_proxy: Any) -> None:
    behind_proxy.TRUSTED_PROXY_COUNT = 2
    assert client_ip(_request(**{"X-Forwarded-For": "198.51.100.7"})) is None
    behind_proxy.TRUSTED_PROXY_COUNT = 1
    assert client_ip(_request(**{"X-Forwarded-For": "1.2.3.4, not-an-ip"})) is None


def test_a_request_that_bypassed_the_proxy_counts_as_its_peer(behind_proxy: Any) -> None:
    assert client_ip(_request("198.51.100.8")) == "198.51.100.8"


def test_a_single_value_header_such_as_x_real_ip(settings: Any) -> None:
    settings.TRUSTED_PROXY_META_KEY = "HTTP_X_REAL_IP"
    settings.TRUSTED_PROXY_COUNT = 1
    request = _request(**{"X-Real-IP": "2001:db8::1", "X-Forwarded-For": "203.0.113.1"})
    assert client_ip(request) == "2001:db8::1"


# ----- every reader of the address uses it ---------------------------------------------------
def _repository() -> None:
    url = SAMPLE_CLONE_URLS["github"]
    RepositoryFactory(clone_url=url, url_key=url_key(url))


def _push(client: Client, forwarded: str) -> Any:
    body = body_of(payload("github-push"))
    headers = signed_headers("github", body, "s3cret-webhook")
    headers["X-Forwarded-For"] = forwarded
    return client.post(
        ENDPOINTS["github"], data=body, content_type="application/json", headers=headers
    )


@pytest.mark.django_db
def test_webhook_limit_behind_the_proxy_counts_each_client_apart(behind_proxy: Any) -> None:
    behind_proxy.WEBHOOK_RATE_LIMIT = (2, 60)
    _repository()
    proxy = Client(REMOTE_ADDR=f"127.0.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}")
    flooder = f"198.51.100.{uuid.uuid4().int % 250}"
    assert [_push(proxy, flooder).status_code for _ in range(3)] == [202, 202, 429]
    # Another client behind the same proxy is not refused because of the flooder.
    assert _push(proxy, f"203.0.113.{uuid.uuid4().int % 250}").status_code == 202
    assert WebhookDelivery.objects.filter(remote_addr=flooder).count() == 2


@pytest.mark.django_db
def test_forged_forwarded_for_does_not_change_the_counted_address_without_a_proxy(
    settings: Any,
) -> None:
    settings.WEBHOOK_RATE_LIMIT = (2, 60)
    _repository()
    peer = f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.3"
    client = Client(REMOTE_ADDR=peer)
    statuses = [_push(client, f"203.0.113.{n}").status_code for n in range(3)]
    assert statuses == [202, 202, 429]  # a fresh forged address each time changed nothing
    assert set(WebhookDelivery.objects.values_list("remote_addr", flat=True)) == {peer}


@pytest.mark.django_db
def test_audit_records_the_client_behind_the_proxy(behind_proxy: Any) -> None:
    def view(request: Any) -> HttpResponse:
        with transaction.atomic():
            audit.record(AuditAction.WAIVER_GRANTED, actor="test")
        return HttpResponse()

    RequestIdMiddleware(view)(_request(**{"X-Forwarded-For": "203.0.113.1, 198.51.100.7"}))
    assert AuditEvent.objects.get().source_ip == "198.51.100.7"
