"""Sample webhook deliveries, signed the way each provider signs them."""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).parent / "fixtures" / "webhooks"
ENDPOINTS = {
    "github": "/webhooks/github/",
    "gitlab": "/webhooks/gitlab/",
    "gitea": "/webhooks/gitea/",
}
# Each sample's repository, as its team registered it.
SAMPLE_CLONE_URLS = {
    "github": "git@github.com:octo-org/payments-api.git",
    "gitlab": "https://gitlab.example.com/platform/billing-service.git",
    "gitea": "https://gitea.example.com/inventory/stock-api.git",
}


def payload(name: str) -> dict[str, Any]:
    """A sample payload from tests/fixtures/webhooks/ as a dict to adjust."""
    data: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
    return data


def body_of(data: dict[str, Any]) -> bytes:
    """Serialise a payload the way the providers do (compact JSON)."""
    return json.dumps(data, separators=(",", ":")).encode()


def signed_headers(
    provider: str, body: bytes, secret: str, *, event: str = "push", delivery: str | None = None
) -> dict[str, str]:
    """Headers of one delivery, signed or tokened with `secret` as the provider would."""
    delivery = delivery or str(uuid.uuid4())
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    if provider == "github":
        return {
            "X-GitHub-Event": event,
            "X-GitHub-Delivery": delivery,
            "X-GitHub-Hook-ID": "511239542",
            "X-Hub-Signature-256": f"sha256={digest}",
            "User-Agent": "GitHub-Hookshot/2a1b3c4",
        }
    if provider == "gitlab":
        return {
            "X-Gitlab-Event": {"push": "Push Hook"}.get(event, event),
            "X-Gitlab-Token": secret,
            "X-Gitlab-Event-UUID": str(uuid.uuid4()),
            "Idempotency-Key": delivery,
            "User-Agent": "GitLab/18.0.0",
        }
    if provider == "gitea":
        return {
            "X-Gitea-Event": event,
            "X-Gitea-Delivery": delivery,
            "X-Gitea-Signature": digest,
            "User-Agent": "Go-http-client/1.1",
        }
    return {
        "X-Yardstick-Token": secret,
        "X-Yardstick-Delivery": delivery,
        "X-Yardstick-Event": event,
    }
