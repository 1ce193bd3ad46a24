"""Notifications: record each event once, then deliver it once per channel, after commit.

Events: a repository's level drops, a scan fails, an initiative's target date is a week away
(and, for other tools, every finished scan as a signed JSON webhook). Each is a `Notification`
with a unique `dedupe_key`, so recording twice (a redelivered task) changes nothing. Its
`Delivery` rows (one per channel: the team's email recipients, its Slack-compatible incoming
webhook, each outgoing webhook endpoint) are sent by `deliver` in Celery tasks queued on commit.
Teams with the digest option get one message a day instead (`send_digests`).
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable
from datetime import date, timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from dashboard.domain.scores import rank_of
from dashboard.models import (
    AuditAction,
    Delivery,
    Initiative,
    Notification,
    OutgoingWebhook,
    Repository,
    Scan,
    Team,
    TeamNotificationSettings,
)
from dashboard.services.access import audit
from dashboard.services.infra import dispatch, outbox
from dashboard.services.reporting.csv_stream import iso_utc

DIGESTIBLE = frozenset(
    {Notification.Kind.LEVEL_DROP, Notification.Kind.SCAN_FAILED, Notification.Kind.DEADLINE}
)
DEADLINE_NOTICE = timedelta(days=7)


def link(path: str) -> str:
    """An absolute link to a page, when SITE_URL is configured."""
    base = str(getattr(settings, "SITE_URL", "") or "").rstrip("/")
    return f"{base}{path}"


def mail_subject(subject: str) -> str:
    """The subject line of a notification's e-mail."""
    return f"[Yardstick] {subject}"


def _enqueue(deliveries: Iterable[Delivery]) -> None:
    deliver_notification = dispatch.task(dispatch.DELIVER_NOTIFICATION)
    for delivery in deliveries:
        transaction.on_commit(partial(deliver_notification.delay, delivery.pk), robust=True)


def _plan(
    notification: Notification,
    prefs: TeamNotificationSettings | None,
    channels: Collection[str] | None = None,
) -> list[Delivery]:
    """The deliveries of a notification: email and Slack for people, endpoints for tools;
    only those on `channels` when given."""
    planned: list[Delivery] = []
    if notification.kind == Notification.Kind.SCAN_COMPLETED:
        endpoints = OutgoingWebhook.objects.filter(active=True).filter(
            Q(team__isnull=True) | Q(team_id=notification.team_id)
        )
        planned = [
            Delivery(
                notification=notification,
                channel=Delivery.Channel.WEBHOOK,
                target=f"webhook:{endpoint.pk}",
                webhook=endpoint,
            )
            for endpoint in endpoints
        ]
    else:
        if notification.payload.get("emails") or (prefs and prefs.recipients):
            planned.append(
                Delivery(notification=notification, channel=Delivery.Channel.EMAIL, target="email")
            )
        if prefs and prefs.slack_webhook_encrypted and not notification.payload.get("emails"):
            planned.append(
                Delivery(notification=notification, channel=Delivery.Channel.SLACK, target="slack")
            )
    if channels is not None:
        planned = [delivery for delivery in planned if delivery.channel in channels]
    return Delivery.objects.bulk_create(planned)


@transaction.atomic
def record(
    kind: str,
    key: str,
    *,
    team: Team | None,
    subject: str,
    body: str,
    payload: dict[str, Any] | None = None,
    channels: Collection[str] | None = None,
    **links: Any,
) -> Notification | None:
    """Record an event once (None when `key` was seen before) and queue its deliveries (on
    `channels` only, when given)."""
    notification, created = Notification.objects.get_or_create(
        dedupe_key=key[:200],
        defaults={
            "kind": kind,
            "team": team,
            "subject": subject[:200],
            "body": body,
            "payload": payload or {},
            **links,
        },
    )
    if not created:
        return None
    prefs = TeamNotificationSettings.objects.filter(team=team).first() if team else None
    if prefs is not None and prefs.digest and kind in DIGESTIBLE:
        notification.deferred = True
        notification.save(update_fields=["deferred"])
        return notification
    _enqueue(_plan(notification, prefs, channels))
    return notification


# ----- events ---------------------------------------------------------------------------
def level_dropped(repository: Repository, before: str, after: str, key: str) -> Notification | None:
    """A repository's level fell (`before` was a real level): tell its team."""
    if not before or rank_of(after) >= rank_of(before):
        return None
    page = link(reverse("repository", args=[repository.pk]))
    was, now = before.capitalize(), (after or "none").capitalize()
    return record(
        Notification.Kind.LEVEL_DROP,
        key,
        team=repository.team,
        repository=repository,
        subject=f"{repository.label} dropped from {was} to {now}",
        body=(
            f"{repository.label} ({repository.team.name}) is now at level {now}, down from {was}.\n"
            f"Score {repository.score if repository.score is not None else '—'}. {page}"
        ),
    )


def _scan_payload(scan: Scan, previous_level: str) -> dict[str, Any]:
    repository = scan.repository
    return {
        "event": "scan.completed",
        "scan": {
            "id": scan.pk,
            "status": scan.status,
            "trigger": scan.trigger,
            "ref": scan.ref,
            "commit": scan.commit_sha,
            "score": scan.score,
            "level": scan.level,
            "previous_level": previous_level,
            "standard_version": scan.standard_version,
            "engine_version": scan.engine_version,
            "finished_at": iso_utc(scan.finished_at) if scan.finished_at else None,
            "error": scan.error,
            "url": link(reverse("scan", args=[scan.pk])),
        },
        "repository": {
            "id": repository.pk,
            "name": repository.name,
            "project_dir": repository.project_dir,
            "clone_url": repository.clone_url,
            "team": repository.team.slug,
            "url": link(reverse("repository", args=[repository.pk])),
        },
    }


def _webhooks(scan: Scan, previous_level: str) -> None:
    record(
        Notification.Kind.SCAN_COMPLETED,
        f"scan-completed:{scan.pk}:{scan.status}",
        team=scan.repository.team,
        repository=scan.repository,
        scan=scan,
        subject=f"scan {scan.pk} of {scan.repository.label} {scan.status}",
        body="",
        payload=_scan_payload(scan, previous_level),
    )


def on_scan_finished(scan_id: int, before: str, after: str) -> str:
    """After a scan's results are committed: level drop, then the scan-completed webhooks."""
    scan = Scan.objects.select_related("repository__team").filter(pk=scan_id).first()
    if scan is None or scan.status != Scan.Status.SUCCEEDED:
        return "gone"
    level_dropped(scan.repository, before, after, f"level-drop:scan:{scan.pk}")
    _webhooks(scan, before)
    return "recorded"


def on_scan_failed(scan_id: int) -> str:
    """After a scan failed: tell its team, and the webhook endpoints."""
    scan = Scan.objects.select_related("repository__team").filter(pk=scan_id).first()
    if scan is None or scan.status != Scan.Status.FAILED:
        return "gone"
    repository = scan.repository
    record(
        Notification.Kind.SCAN_FAILED,
        f"scan-failed:{scan.pk}",
        team=repository.team,
        repository=repository,
        scan=scan,
        subject=f"Scan of {repository.label} failed",
        body=f"Scan {scan.pk} of {repository.label} failed: {scan.error}\n"
        f"{link(reverse('scan', args=[scan.pk]))}",
    )
    _webhooks(scan, repository.level)
    return "recorded"


def on_level_changed(repository_id: int, before: str, after: str, day: str) -> str:
    """A level change outside a scan (a waiver lapsed, a rule became effective)."""
    repository = Repository.objects.select_related("team").filter(pk=repository_id).first()
    if repository is None:
        return "gone"
    level_dropped(repository, before, after, f"level-drop:{repository_id}:{day}:{before}>{after}")
    return "recorded"


def notify_deadlines(today: date | None = None) -> int:
    """Initiatives whose target date is at most a week away: each team still behind, and the
    owner, hear once per target date. Returns how many notifications were recorded."""
    from dashboard.selectors.initiatives import progress_many

    today = today or timezone.now().date()
    initiatives = list(
        Initiative.objects.filter(
            closed_at__isnull=True,
            target_date__gt=today,
            target_date__lte=today + DEADLINE_NOTICE,
        ).select_related("owner")
    )
    progress = progress_many(initiatives, today)
    slugs = {r.team_slug for p in progress.values() for r in p.behind}
    teams = {team.slug: team for team in Team.objects.filter(slug__in=slugs)}
    count = 0
    for initiative in initiatives:
        state = progress[initiative.pk]
        days = (initiative.target_date - today).days
        page = link(reverse("initiative", args=[initiative.pk]))
        for team_progress in state.teams:
            behind = [r for r in state.behind if r.team_slug == team_progress.slug]
            if not behind:
                continue
            names = ", ".join(r.name for r in behind[:20])
            count += bool(
                record(
                    Notification.Kind.DEADLINE,
                    f"deadline:{initiative.pk}:{initiative.target_date}:team:{team_progress.slug}",
                    team=teams[team_progress.slug],
                    initiative=initiative,
                    subject=f"{initiative.name}: {days} days left, {len(behind)} behind",
                    body=f"{initiative.name} ends on {initiative.target_date}. "
                    f"Still behind in {team_progress.name}: {names}.\n{page}",
                )
            )
        owner = initiative.owner
        if owner is not None and owner.email:
            count += bool(
                record(
                    Notification.Kind.DEADLINE,
                    f"deadline:{initiative.pk}:{initiative.target_date}:owner",
                    team=None,
                    initiative=initiative,
                    subject=f"{initiative.name}: {days} days left, {state.done}/{state.total} done",
                    body=f"{initiative.name} ends on {initiative.target_date}: "
                    f"{state.done} of {state.total} repositories are done.\n{page}",
                    payload={"emails": [owner.email]},
                )
            )
    return count


def send_digests(day: date | None = None) -> int:
    """One message per team with everything deferred for its digest; returns how many."""
    day = day or timezone.now().date()
    waiting = Notification.objects.filter(deferred=True, digest__isnull=True, team__isnull=False)
    sent = 0
    for team in Team.objects.filter(pk__in=waiting.values("team_id")):
        with transaction.atomic():
            items = list(waiting.filter(team=team).order_by("created_at", "id"))
            if not items:
                continue
            digest = record(
                Notification.Kind.DIGEST,
                f"digest:{team.pk}:{day}",
                team=team,
                subject=f"Yardstick: {len(items)} updates for {team.name}",
                body="\n".join(f"- {item.subject}" for item in items),
            )
            if digest is not None:
                Notification.objects.filter(pk__in=[i.pk for i in items]).update(digest=digest)
                sent += 1
    return sent


def scan_payload_bytes(notification: Notification) -> bytes:
    """The exact bytes an outgoing webhook receives (stable across retries)."""
    return json.dumps(notification.payload, separators=(",", ":"), sort_keys=True).encode()


# ----- hooks: the pipeline calls these; the work happens in tasks after commit ------------------
def after_scan_stored(scan_id: int, before: str, after: str) -> None:
    """Call inside the transaction that stores a scan's results (through the outbox)."""
    outbox.publish_on_commit(dispatch.task(dispatch.SCAN_FINISHED), scan_id, before, after)


def after_scan_failed(scan_id: int) -> None:
    """Call when a scan is marked failed (the task runs once that is committed)."""
    outbox.publish_on_commit(dispatch.task(dispatch.SCAN_FAILED), scan_id)


def after_level_refreshed(repository_id: int, before: str, after: str) -> None:
    """Call when a repository's level was recomputed outside a scan; only drops notify."""
    if not before or rank_of(after) >= rank_of(before):
        return
    day = timezone.now().date().isoformat()
    outbox.publish_on_commit(
        dispatch.task(dispatch.LEVEL_CHANGED), repository_id, before, after, day
    )


# ----- team settings ----------------------------------------------------------------------
@transaction.atomic
def save_team_settings(
    user: Any,
    team: Team,
    *,
    emails: str,
    slack_url: str = "",
    remove_slack: bool = False,
    digest: bool = False,
) -> TeamNotificationSettings:
    """A maintainer sets where the team's notifications go; the Slack URL is stored encrypted."""
    from dashboard.services.access import secrets
    from dashboard.services.access.permissions import require_team_maintainer

    require_team_maintainer(user, team)
    prefs, _ = TeamNotificationSettings.objects.get_or_create(team=team)
    had_slack = bool(prefs.slack_webhook_encrypted)
    prefs.email_recipients = emails
    prefs.digest = digest
    slack = "unchanged"
    if remove_slack:
        prefs.slack_webhook_encrypted = ""
        slack = "removed" if had_slack else slack
    elif slack_url:
        prefs.slack_webhook_encrypted = secrets.encrypt(slack_url)
        slack = "replaced" if had_slack else "set"
    prefs.save()
    # The Slack URL is a credential: the log says only whether it changed.
    audit.record(
        AuditAction.NOTIFICATIONS_CHANGED,
        actor=user,
        target=team,
        target_label=team.name,
        team=team,
        details={"email_recipients": prefs.email_recipients, "digest": digest, "slack": slack},
    )
    return prefs
