"""Receiving webhook deliveries: verify, record, deduplicate, then hand the event to a handler.

Every delivery from a verified sender is recorded (`WebhookDelivery`) with its outcome.
Refusals before verification are logged and counted, and stored at most once a minute per
matched repository (anonymous callers cannot fill the table); rate-limited requests are not
stored. Deduplication is per repository. No git work happens here: a push only enqueues a scan,
a pull/merge request a review scan.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from dashboard.domain.clone_urls import url_key
from dashboard.models import Repository, Scan, WebhookDelivery
from dashboard.observability.metrics import WEBHOOK_REFUSALS
from dashboard.services.access import secrets
from dashboard.services.reviews.review import request_review
from dashboard.services.scans.pipeline import request_scan
from dashboard.services.webhooks.providers import (
    BODY_ID_PREFIX,
    PROVIDERS,
    PayloadError,
    Provider,
    PushEvent,
)
from scanners import strict_json

logger = logging.getLogger(__name__)
MAX_BODY_BYTES = 1024 * 1024
_SHA = re.compile(r"^[0-9a-f]{40}([0-9a-f]{24})?$")
Outcome = WebhookDelivery.Outcome


@dataclass(frozen=True, slots=True)
class Incoming:
    """The HTTP facts of one delivery; `body` is None when it was over the size limit."""

    provider: str
    headers: Mapping[str, str]
    body: bytes | None
    content_type: str
    remote_addr: str | None = None
    repository_id: int | None = None


@dataclass(frozen=True, slots=True)
class Answer:
    """What the endpoint answers, and what the delivery record says."""

    status: int
    outcome: str
    detail: str
    scan_id: int | None = None

    def as_json(self) -> dict[str, object]:
        """The response body."""
        return {"outcome": self.outcome, "detail": self.detail, "scan_id": self.scan_id}


class Refusal(Exception):
    """Stop processing a delivery with a 4xx answer."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


# ----- handlers: one per supported event ----------------------------------------------------
# A handler decides without writing: an Answer, or a Write to run with the delivery's claim
# (in its transaction) when the event asks for work.
Write = Callable[[], "Answer"]


def on_ping(event: PushEvent, repository: Repository) -> Answer | Write:
    """A provider checking the hook works (GitHub sends one when the hook is created)."""
    return Answer(200, Outcome.PONG, f"pong: hook verified for {repository.name}")


def on_push(event: PushEvent, repository: Repository) -> Answer | Write:
    """Enqueue a scan of the pushed commit when it lands on the repository's default branch."""
    if event.deleted:
        return Answer(202, Outcome.IGNORED, f"{event.ref or 'ref'} was deleted")
    if event.branch != repository.default_branch:
        return Answer(
            202,
            Outcome.IGNORED,
            f"push to {event.ref or '(no ref)'}, not the default branch "
            f"{repository.default_branch!r}",
        )
    if not _SHA.match(event.after_sha):
        raise Refusal(400, "the push names no commit (`after` is not a SHA)")
    if not repository.active:
        return Answer(202, Outcome.IGNORED, "repository is inactive")

    def scan() -> Answer:
        queued = request_scan(repository, Scan.Trigger.WEBHOOK, ref=event.after_sha)
        return Answer(
            202, Outcome.SCAN_REQUESTED, f"scan of {event.after_sha[:12]} queued", queued.pk
        )

    return scan


#: Pull/merge request actions that bring a new head to review (GitLab's are canonicalised).
REVIEWED_ACTIONS = frozenset({"opened", "synchronize", "reopened"})


def on_pull_request(event: PushEvent, repository: Repository) -> Answer | Write:
    """Queue a review scan of the request's head (services/reviews/review.py)."""
    if event.action not in REVIEWED_ACTIONS:
        return Answer(202, Outcome.IGNORED, f"pull request action {event.action!r} not reviewed")
    if not _SHA.match(event.after_sha):
        raise Refusal(400, "the pull request names no head commit")
    if not repository.active or repository.code_host_id is None:
        why = "inactive" if not repository.active else "not connected to its code host"
        return Answer(202, Outcome.IGNORED, f"repository is {why}: no review")
    fields = ("provider", "number", "host_repo", "base_ref")
    facts = {
        name: getattr(event, name)[:255] if name != "number" else event.number for name in fields
    }

    def review() -> Answer:
        queued = request_review(
            repository, head_sha=event.after_sha, head_ref=event.ref[:255], **facts
        )
        detail = f"review {queued.pk} of #{event.number} at {event.after_sha[:12]} queued"
        return Answer(202, Outcome.REVIEW_REQUESTED, detail)

    return review


HANDLERS: dict[str, Callable[[PushEvent, Repository], Answer | Write]] = {
    "push": on_push,
    "ping": on_ping,
    "pull_request": on_pull_request,
}


# ----- the pipeline of one delivery -------------------------------------------------------
# A refusal before the sender is verified is stored at most once a minute per repository (so
# the repository's page shows a misconfigured hook) and never when no repository matches:
# anonymous callers cannot fill the table. Every refusal is logged (one line) and counted.
UNVERIFIED_ROW_EVERY = timedelta(minutes=1)
_UNVERIFIED_STATUSES = (401, 403)
# The generic endpoint names its repository in the URL: an unknown id, a repository without a
# secret and a wrong token get this same answer, so ids cannot be enumerated.
_GENERIC_REFUSAL = "X-Yardstick-Token does not match this repository's secret"


def receive(incoming: Incoming) -> Answer:
    """Process one delivery and record it; never raises for a client's mistake."""
    provider = PROVIDERS[incoming.provider]
    facts: dict[str, Any] = {}
    try:
        return _receive(provider, incoming, facts)
    except Refusal as refusal:
        answer = Answer(refusal.status, Outcome.REJECTED, refusal.detail)
        if facts.get("verified"):
            _record(incoming, facts, answer, accepted=False)
        else:
            _refused_unverified(incoming, facts, answer)
        return answer


def _refused_unverified(incoming: Incoming, facts: Mapping[str, Any], answer: Answer) -> None:
    WEBHOOK_REFUSALS.labels(incoming.provider, str(answer.status)).inc()
    logger.info(
        "webhook %s refused (%s): %s", incoming.provider, answer.status, _safe(answer.detail)
    )
    if answer.status not in _UNVERIFIED_STATUSES:
        return
    # Which sibling's hook is misconfigured is unknown: each matched row's page shows it.
    for repository in facts.get("refused_for", ()):
        recent = WebhookDelivery.objects.filter(
            repository=repository,
            accepted=False,
            status_code__in=_UNVERIFIED_STATUSES,
            received_at__gte=timezone.now() - UNVERIFIED_ROW_EVERY,
        )
        if not recent.exists():
            _record(incoming, {**facts, "repository": repository}, answer, accepted=False)


def _receive(provider: Provider, incoming: Incoming, facts: dict[str, Any]) -> Answer:
    if incoming.body is None:
        raise Refusal(413, f"body over {MAX_BODY_BYTES} bytes")
    signature = incoming.headers.get(provider.signature_header, "")
    if not signature:
        raise Refusal(401, f"missing {provider.signature_header} header")
    event, unusable = _parse(provider, incoming)
    facts.update(delivery_id=event.delivery_id[:100], event=event.event[:64])
    facts.update(ref=event.ref[:255], commit_sha=event.after_sha[:64])
    candidates = _candidates(provider, incoming, event)
    facts["refused_for"] = candidates  # until one of them verifies
    keyed = [(r, key) for r in candidates if (key := secrets.decrypt(r.webhook_secret_encrypted))]
    if not keyed:
        raise _secret_refusal(provider, 403, "this repository has no usable webhook secret")
    repository = _verified(provider, incoming.body, signature, keyed)
    if repository is None:
        detail = f"{provider.signature_header} does not match this repository's secret"
        raise _secret_refusal(provider, 401, detail)
    facts["repository"] = repository
    facts["verified"] = True
    if unusable is not None:
        pointer, reason = unusable
        raise Refusal(400, f"the payload's {pointer} holds {reason}")
    return _accept(incoming, facts, event, repository)


def _secret_refusal(provider: Provider, status: int, detail: str) -> Refusal:
    if provider.name == "generic":
        return Refusal(401, _GENERIC_REFUSAL)
    return Refusal(status, f"{detail}: generate one" if status == 403 else detail)


def _parse(provider: Provider, incoming: Incoming) -> tuple[PushEvent, tuple[str, str] | None]:
    """The event, and where the payload holds text that cannot be stored (refused once the
    sender is verified, so the refusal can be recorded for its repository)."""
    if incoming.content_type != "application/json":
        raise Refusal(400, "send the payload as application/json")
    try:
        payload = strict_json.parse(incoming.body or b"")
    except strict_json.JSONInputError as exc:
        raise Refusal(
            400, exc.message if exc.malformed else f"refused JSON: {exc.message}"
        ) from None
    if not isinstance(payload, dict):
        raise Refusal(400, "the payload must be a JSON object")
    try:
        event = provider.parse(incoming.headers, payload, incoming.body or b"")
    except PayloadError as exc:
        raise Refusal(400, str(exc)) from None
    return event, strict_json.find_bad_text(payload)


# What receiving a delivery reads of its repository (a scan request reads the rest if needed).
_READ = ("team_id", "name", "default_branch", "active", "webhook_secret_encrypted", "code_host")
# Sibling rows of one repository (one per project folder) a delivery is checked against: a
# bound on the HMACs one anonymous request can cost.
MAX_SIBLINGS = 50


def _candidates(provider: Provider, incoming: Incoming, event: PushEvent) -> list[Repository]:
    """The rows the delivery may be for: the one the generic endpoint names by id, or every
    row of the pushed repository (a monorepo's services are sibling rows of one `url_key`)."""
    repositories = Repository.objects.only(*_READ).order_by("pk")
    if incoming.repository_id is not None:
        found = list(repositories.filter(pk=incoming.repository_id))
    else:
        # A URL with a NUL or a lone surrogate matches nothing (and cannot be queried).
        urls = [url for url in event.clone_urls if strict_json.bad_text(url) is None]
        if not urls:
            raise Refusal(400, "the payload names no repository URL")
        keys = {url_key(url) for url in urls}
        found = list(repositories.filter(url_key__in=keys)[:MAX_SIBLINGS])
    if not found:
        if provider.name == "generic":
            raise Refusal(401, _GENERIC_REFUSAL)
        raise Refusal(404, "no registered repository matches this delivery")
    return found


def _verified(
    provider: Provider, body: bytes, signature: str, keyed: list[tuple[Repository, str]]
) -> Repository | None:
    """The row whose own secret signed the delivery, or None.

    Each sibling row has its own hook (and secret) at the code host, so the signature says
    which row a delivery is for; one row's secret never opens another. Each comparison is
    constant-time (the provider's verifier).
    """
    return next((row for row, secret in keyed if provider.verify(body, signature, secret)), None)


def _accept(
    incoming: Incoming, facts: dict[str, Any], event: PushEvent, repository: Repository
) -> Answer:
    """Claim the delivery id with the handler's answer: one INSERT when the handler only
    answers (pings, pushes to other branches); with the handler's writes in one transaction
    when it works (a scan to queue)."""
    handler = HANDLERS.get(event.event)
    decided = (
        handler(event, repository)
        if handler is not None
        else Answer(202, Outcome.IGNORED, f"event {event.event or '(none)'} not handled")
    )
    if isinstance(decided, Answer):
        if _claim(incoming, facts, decided) is None:
            return _duplicate(incoming, facts, event)
        return decided
    with transaction.atomic():
        claimed = _claim(incoming, facts, Answer(202, Outcome.IGNORED, ""))
        if claimed is None:
            return _duplicate(incoming, facts, event)
        answer = decided()
        WebhookDelivery.objects.filter(pk=claimed).update(
            outcome=answer.outcome,
            status_code=answer.status,
            detail=_safe(answer.detail)[:300],
            scan_id=answer.scan_id,
        )
    return answer


def _duplicate(incoming: Incoming, facts: Mapping[str, Any], event: PushEvent) -> Answer:
    answer = Answer(202, Outcome.DUPLICATE, f"delivery {event.delivery_id} already seen")
    _record(incoming, facts, answer, accepted=False)
    return answer


def _safe(text: object) -> str:
    """Payload text as stored and logged: NUL and lone surrogates (which PostgreSQL text and
    UTF-8 cannot hold) shown as escapes."""
    printable = str(text).encode("utf-8", "backslashreplace").decode("utf-8")
    return printable.replace("\0", "\\x00")


def _delivery(
    incoming: Incoming, facts: Mapping[str, Any], answer: Answer, *, accepted: bool
) -> WebhookDelivery:
    return WebhookDelivery(
        provider=incoming.provider,
        delivery_id=_safe(facts.get("delivery_id", ""))[:100],
        event=_safe(facts.get("event", ""))[:64],
        repository=facts.get("repository"),
        accepted=accepted,
        outcome=answer.outcome,
        status_code=answer.status,
        detail=_safe(answer.detail)[:300],
        ref=_safe(facts.get("ref", ""))[:255],
        commit_sha=_safe(facts.get("commit_sha", ""))[:64],
        scan_id=answer.scan_id,
        remote_addr=incoming.remote_addr or None,
        received_at=timezone.now(),
    )


def _record(
    incoming: Incoming, facts: Mapping[str, Any], answer: Answer, *, accepted: bool
) -> WebhookDelivery:
    record = _delivery(incoming, facts, answer, accepted=accepted)
    record.save(force_insert=True)
    return record


def _claim(incoming: Incoming, facts: Mapping[str, Any], answer: Answer) -> int | None:
    """Record a verified delivery as new; its row id, or None when it is a duplicate.

    A sender's delivery id is claimed once per repository, provider and pushed head
    (`delivery_unique_per_repository`: another repository's `build-7`, or the same id naming
    another head, is a new delivery). An id made from the body (the sender gave none) is a
    duplicate only of the repository's last delivery: a retry comes right after its original,
    while the same body after another push is a new push (a rollback A, B, A must scan A
    again). One statement, no savepoint, for a sender's id."""
    if str(facts["delivery_id"]).startswith(BODY_ID_PREFIX) and _seen(incoming, facts):
        return None
    record = _delivery(incoming, facts, answer, accepted=True)
    fields = [f for f in WebhookDelivery._meta.concrete_fields if not f.primary_key]
    quote = connection.ops.quote_name
    sql = (
        f"INSERT INTO {quote(WebhookDelivery._meta.db_table)} "  # noqa: S608 - model names only
        f"({', '.join(quote(str(f.column)) for f in fields)}) "
        f"VALUES ({', '.join(['%s'] * len(fields))}) "
        f"ON CONFLICT DO NOTHING RETURNING {quote(str(WebhookDelivery._meta.pk.column))}"
    )
    values = [f.get_db_prep_save(getattr(record, f.attname), connection) for f in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        row = cursor.fetchone()
    return None if row is None else int(row[0])


def _seen(incoming: Incoming, facts: Mapping[str, Any]) -> bool:
    """The repository's last delivery from this provider had this delivery id."""
    last = (
        WebhookDelivery.objects.filter(
            repository=facts["repository"], provider=incoming.provider, accepted=True
        )
        .order_by("-received_at", "-id")
        .values_list("delivery_id", flat=True)
        .first()
    )
    return bool(last == facts["delivery_id"])
