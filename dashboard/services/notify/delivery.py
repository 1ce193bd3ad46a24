"""Sending one delivery: claimed by one worker at a time, sent once, every attempt recorded."""

from __future__ import annotations

import json
import logging
import smtplib
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMessage
from django.db.models import F, Q
from django.utils import timezone

from dashboard.models import Delivery, Notification, TeamNotificationSettings
from dashboard.services.access import secrets
from dashboard.services.infra import dispatch
from dashboard.services.notify.events import mail_subject, scan_payload_bytes
from dashboard.services.notify.http_post import SendError, post_json, sign

logger = logging.getLogger(__name__)

# A claim older than this belongs to a worker that died mid-send: another may take over.
CLAIM_TTL = timedelta(minutes=5)


class DeliveryRetry(Exception):
    """A transient failure: the task tries again later (see the task's retry policy)."""


def _email(notification: Notification) -> int | None:
    recipients = notification.payload.get("emails")
    if not recipients and notification.team_id is not None:
        prefs = TeamNotificationSettings.objects.filter(team_id=notification.team_id).first()
        recipients = prefs.recipients if prefs else []
    if not recipients:
        raise SendError("no email recipients", transient=False)
    message = EmailMessage(
        subject=mail_subject(notification.subject),
        body=notification.body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=list(recipients),
    )
    # A file rendered with the message (the weekly digest's CSV), sent as it was rendered.
    attachment = notification.payload.get("attachment")
    if attachment:
        message.attach(attachment["name"], attachment["content"], attachment["mimetype"])
    try:
        message.send()
    except (smtplib.SMTPException, OSError) as exc:
        raise SendError(f"mail server: {exc}", transient=True) from None
    return None


def _slack(notification: Notification) -> int:
    prefs = None
    if notification.team_id is not None:
        prefs = TeamNotificationSettings.objects.filter(team_id=notification.team_id).first()
    url = secrets.decrypt(prefs.slack_webhook_encrypted) if prefs else None
    if not url:
        raise SendError("the team has no Slack webhook", transient=False)
    text = f"*{notification.subject}*\n{notification.body}".strip()
    return post_json(url, json.dumps({"text": text}).encode())


def _webhook(delivery: Delivery, notification: Notification) -> int:
    endpoint = delivery.webhook
    if endpoint is None or not endpoint.active:
        raise SendError("the endpoint was removed or disabled", transient=False)
    secret = secrets.decrypt(endpoint.secret_encrypted)
    if not secret:
        raise SendError("the endpoint's secret cannot be read", transient=False)
    body = scan_payload_bytes(notification)
    headers = {
        "X-Yardstick-Event": str(notification.payload.get("event", "scan.completed")),
        "X-Yardstick-Delivery": str(delivery.pk),
        "X-Yardstick-Signature-256": sign(secret, body),
    }
    return post_json(endpoint.url, body, headers)


def _send(delivery: Delivery) -> int | None:
    notification = delivery.notification
    if delivery.channel == Delivery.Channel.EMAIL:
        return _email(notification)
    if delivery.channel == Delivery.Channel.SLACK:
        return _slack(notification)
    return _webhook(delivery, notification)


def deliver(delivery_id: int, *, final: bool = False) -> str:
    """Send a pending delivery once; raise `DeliveryRetry` on a transient failure unless
    `final` (the last attempt), which records it as failed. Returns the delivery's status."""
    now = timezone.now()
    claimed = (
        Delivery.objects.filter(pk=delivery_id, status=Delivery.Status.PENDING)
        .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - CLAIM_TTL))
        .update(claimed_at=now, attempts=F("attempts") + 1)
    )
    if claimed != 1:
        # Sent or failed already, being sent by another worker, or gone: nothing to do.
        return (
            Delivery.objects.filter(pk=delivery_id).values_list("status", flat=True).first()
            or "gone"
        )
    delivery = Delivery.objects.select_related("notification", "webhook").get(pk=delivery_id)
    try:
        code = _send(delivery)
    except SendError as exc:
        done = final or not exc.transient
        Delivery.objects.filter(pk=delivery_id).update(
            status=Delivery.Status.FAILED if done else Delivery.Status.PENDING,
            claimed_at=None,
            response_code=exc.status,
            last_error=str(exc)[:300],
        )
        logger.warning("delivery %s (%s) failed: %s", delivery_id, delivery.channel, exc)
        if not done:
            raise DeliveryRetry(str(exc)) from None
        return Delivery.Status.FAILED
    Delivery.objects.filter(pk=delivery_id).update(
        status=Delivery.Status.SENT,
        claimed_at=None,
        response_code=code,
        last_error="",
        sent_at=timezone.now(),
    )
    return Delivery.Status.SENT


def resend_untried(older_than: timedelta = timedelta(minutes=5)) -> dict[str, int]:
    """Send again the deliveries never tried `older_than` after they were recorded: their
    task was lost (the broker was down after the commit). Claiming makes a duplicate
    harmless. Deliveries already tried wait for their own retries.
    """
    from kombu.exceptions import OperationalError as KombuOperationalError

    deliver_notification = dispatch.task(dispatch.DELIVER_NOTIFICATION)
    untried = Delivery.objects.filter(
        status=Delivery.Status.PENDING,
        attempts=0,
        claimed_at__isnull=True,
        created_at__lt=timezone.now() - older_than,
    ).order_by("created_at")
    resent = 0
    for pk in untried.values_list("pk", flat=True)[:500]:
        try:
            deliver_notification.delay(pk)
        except KombuOperationalError as exc:
            logger.warning("deliveries stay unsent: the broker is unreachable (%s)", exc)
            break
        resent += 1
    return {"deliveries_resent": resent}
