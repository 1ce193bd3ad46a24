"""One verifier and one parser per webhook provider, all producing one normalised event.

Verifiers compare in constant time. Parsers read only what Yardstick needs from the
providers' documented payloads (GitHub, GitLab and Gitea push hooks, GitHub's ping, their
pull/merge request hooks) and a small generic format for any other git host or CI job.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

ZERO_SHA = frozenset({"0" * 40, "0" * 64})
Payload = Mapping[str, Any]
Headers = Mapping[str, str]


class PayloadError(ValueError):
    """The payload lacks what its provider's documentation promises."""


@dataclass(frozen=True, slots=True)
class PushEvent:
    """What a delivery asks of Yardstick, whoever sent it.

    `event` is canonical (`push`, `ping`, `pull_request` for GitLab's merge requests too) for
    the events Yardstick handles and the provider's own name otherwise. `default_branch` is
    what the provider reports ("" when it does not). For a pull request `after_sha` is its
    head commit, `ref` its head branch, `action` canonical (`opened`, `synchronize`,
    `reopened`, or the provider's own word) and `number` GitHub's/Gitea's number or GitLab's
    project-level `iid`.
    """

    provider: str
    delivery_id: str
    event: str
    clone_urls: tuple[str, ...] = ()
    ref: str = ""
    after_sha: str = ""
    default_branch: str = ""
    action: str = ""
    number: int = 0
    base_ref: str = ""
    host_repo: str = ""  # the API's name of the repository: "owner/name", GitLab's project id

    @property
    def deleted(self) -> bool:
        """A branch deletion: the ref now points at no commit."""
        return self.after_sha in ZERO_SHA

    @property
    def branch(self) -> str | None:
        """The pushed branch's name, or None for tags and other refs."""
        prefix = "refs/heads/"
        return self.ref.removeprefix(prefix) if self.ref.startswith(prefix) else None


def hmac_sha256(secret: str, body: bytes) -> str:
    """Hex HMAC-SHA256 of the raw body: what GitHub and Gitea sign."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify_github(body: bytes, header: str, secret: str) -> bool:
    """`X-Hub-Signature-256: sha256=<hex>`."""
    expected = f"sha256={hmac_sha256(secret, body)}"
    return hmac.compare_digest(header.strip().encode(), expected.encode())


def verify_gitea(body: bytes, header: str, secret: str) -> bool:
    """`X-Gitea-Signature: <hex>` (no prefix)."""
    return hmac.compare_digest(header.strip().lower().encode(), hmac_sha256(secret, body).encode())


def verify_token(body: bytes, header: str, secret: str) -> bool:
    """A shared token sent as is (GitLab's `X-Gitlab-Token`, the generic `X-Yardstick-Token`)."""
    return hmac.compare_digest(header.encode(), secret.encode())


def _strings(values: Iterable[object]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(v.strip() for v in values if isinstance(v, str) and v.strip()))


def _section(payload: Payload, key: str) -> Payload:
    value = payload.get(key)
    return value if isinstance(value, Mapping) else {}


def _text(payload: Payload, key: str) -> str:
    value = payload.get(key)
    return value if isinstance(value, str) else ""


BODY_ID_PREFIX = "body-"


def body_delivery_id(body: bytes) -> str:
    """A delivery id for senders that give none: an identical body is a retry of the
    repository's last delivery (not of any earlier one: see `webhooks._seen`)."""
    return f"{BODY_ID_PREFIX}{hashlib.sha256(body).hexdigest()}"


def _number(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise PayloadError("the pull request has no number")
    return value


def _pull_request(event: PushEvent, payload: Payload, action: str) -> PushEvent:
    """GitHub's and Gitea's `pull_request` payloads share their shape."""
    pull = _section(payload, "pull_request")
    head, base = _section(pull, "head"), _section(pull, "base")
    return replace(
        event,
        action={"synchronized": "synchronize"}.get(action, action),
        number=_number(payload.get("number", pull.get("number"))),
        after_sha=_text(head, "sha"),
        ref=_text(head, "ref"),
        base_ref=_text(base, "ref"),
        host_repo=_text(_section(payload, "repository"), "full_name"),
    )


def parse_github(headers: Headers, payload: Payload, body: bytes) -> PushEvent:
    """GitHub `push`, `ping` and `pull_request` (repository hooks); the repository's URLs
    in four spellings."""
    repo = _section(payload, "repository")
    event = PushEvent(
        provider="github",
        delivery_id=headers.get("X-GitHub-Delivery", "").strip() or body_delivery_id(body),
        event=headers.get("X-GitHub-Event", "").strip(),
        clone_urls=_strings(repo.get(k) for k in ("clone_url", "ssh_url", "git_url", "html_url")),
        ref=_text(payload, "ref"),
        after_sha=_text(payload, "after"),
        default_branch=_text(repo, "default_branch"),
    )
    if event.event == "pull_request":
        return _pull_request(event, payload, _text(payload, "action"))
    return event


_GITLAB_EVENTS = {
    "Push Hook": "push",
    "Tag Push Hook": "tag_push",
    "Merge Request Hook": "pull_request",
}
# GitLab's merge request actions; "update" counts only when it brought commits (`oldrev`).
_GITLAB_ACTIONS = {"open": "opened", "reopen": "reopened"}


def _merge_request(event: PushEvent, payload: Payload) -> PushEvent:
    attributes = _section(payload, "object_attributes")
    action = _text(attributes, "action")
    if action == "update" and _text(attributes, "oldrev"):
        action = "synchronize"
    return replace(
        event,
        action=_GITLAB_ACTIONS.get(action, action),
        number=_number(attributes.get("iid")),
        after_sha=_text(_section(attributes, "last_commit"), "id"),
        ref=_text(attributes, "source_branch"),
        base_ref=_text(attributes, "target_branch"),
        host_repo=str(_section(payload, "project").get("id") or ""),
    )


def parse_gitlab(headers: Headers, payload: Payload, body: bytes) -> PushEvent:
    """GitLab `Push Hook` and `Merge Request Hook`; its retries share one `Idempotency-Key`."""
    project, repo = _section(payload, "project"), _section(payload, "repository")
    delivery = next(
        (
            headers[name].strip()
            for name in ("Idempotency-Key", "X-Gitlab-Event-UUID", "X-Gitlab-Webhook-UUID")
            if headers.get(name, "").strip()
        ),
        body_delivery_id(body),
    )
    event = headers.get("X-Gitlab-Event", "").strip()
    parsed = PushEvent(
        provider="gitlab",
        delivery_id=delivery,
        event=_GITLAB_EVENTS.get(event, event),
        clone_urls=_strings(
            [project.get(k) for k in ("git_http_url", "git_ssh_url", "web_url")]
            + [repo.get(k) for k in ("git_http_url", "git_ssh_url", "homepage")]
        ),
        ref=_text(payload, "ref"),
        after_sha=_text(payload, "after"),
        default_branch=_text(project, "default_branch"),
    )
    return _merge_request(parsed, payload) if parsed.event == "pull_request" else parsed


_GITEA_EVENTS = {"pull_request_sync": "pull_request"}


def parse_gitea(headers: Headers, payload: Payload, body: bytes) -> PushEvent:
    """Gitea (and Forgejo) `push` and `pull_request` (new commits may come as
    `pull_request_sync`)."""
    repo = _section(payload, "repository")
    gitea_event = headers.get("X-Gitea-Event", "").strip()
    event = PushEvent(
        provider="gitea",
        delivery_id=headers.get("X-Gitea-Delivery", "").strip() or body_delivery_id(body),
        event=_GITEA_EVENTS.get(gitea_event, gitea_event),
        clone_urls=_strings(repo.get(k) for k in ("clone_url", "ssh_url", "html_url")),
        ref=_text(payload, "ref"),
        after_sha=_text(payload, "after"),
        default_branch=_text(repo, "default_branch"),
    )
    if event.event == "pull_request":
        return _pull_request(event, payload, _text(payload, "action"))
    return event


def parse_generic(headers: Headers, payload: Payload, body: bytes) -> PushEvent:
    """`{"ref": "refs/heads/main", "after": "<sha>"}`; the repository is in the URL."""
    return PushEvent(
        provider="generic",
        delivery_id=headers.get("X-Yardstick-Delivery", "").strip()[:100] or body_delivery_id(body),
        event=headers.get("X-Yardstick-Event", "").strip() or "push",
        ref=_text(payload, "ref"),
        after_sha=_text(payload, "after"),
    )


@dataclass(frozen=True, slots=True)
class Provider:
    """How one provider signs and shapes its deliveries."""

    name: str
    signature_header: str
    verify: Callable[[bytes, str, str], bool]
    parse: Callable[[Headers, Payload, bytes], PushEvent]


PROVIDERS: dict[str, Provider] = {
    "github": Provider("github", "X-Hub-Signature-256", verify_github, parse_github),
    "gitlab": Provider("gitlab", "X-Gitlab-Token", verify_token, parse_gitlab),
    "gitea": Provider("gitea", "X-Gitea-Signature", verify_gitea, parse_gitea),
    "generic": Provider("generic", "X-Yardstick-Token", verify_token, parse_generic),
}
