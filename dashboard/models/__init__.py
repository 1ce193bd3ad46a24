"""Data: one module per area, re-exported here."""

from dashboard.models.audit import AuditAction, AuditEvent
from dashboard.models.coverage import CoverageReport
from dashboard.models.governance import Attestation, ExpiryReminder, Waiver, WaiverRequest
from dashboard.models.initiatives import Initiative
from dashboard.models.notifications import (
    Delivery,
    DigestSubscription,
    Notification,
    OutgoingWebhook,
    TeamNotificationSettings,
)
from dashboard.models.ops import OutboxMessage, WorkerHeartbeat
from dashboard.models.org import Membership, Team
from dashboard.models.ratchets import Ratchet
from dashboard.models.repos import Repository
from dashboard.models.reviews import CodeHostConnection, ReviewScan
from dashboard.models.rollups import RepositoryDailyScore, RuleDailyStats, TeamDailyScore
from dashboard.models.scans import CheckResult, Scan
from dashboard.models.standards import Rule, Standard, StandardRelease
from dashboard.models.tokens import ApiToken
from dashboard.models.transfers import RepositoryTransfer
from dashboard.models.webhooks import WebhookDelivery

__all__ = [
    "ApiToken",
    "Attestation",
    "AuditAction",
    "AuditEvent",
    "CheckResult",
    "CodeHostConnection",
    "CoverageReport",
    "Delivery",
    "DigestSubscription",
    "ExpiryReminder",
    "Initiative",
    "Membership",
    "Notification",
    "OutboxMessage",
    "OutgoingWebhook",
    "Ratchet",
    "Repository",
    "RepositoryDailyScore",
    "RepositoryTransfer",
    "ReviewScan",
    "Rule",
    "RuleDailyStats",
    "Scan",
    "Standard",
    "StandardRelease",
    "Team",
    "TeamDailyScore",
    "TeamNotificationSettings",
    "Waiver",
    "WaiverRequest",
    "WebhookDelivery",
    "WorkerHeartbeat",
]
