"""Rules no checkout can show: practices a team maintainer attests with a link as evidence.

The engine reports them as `manual`; the dashboard turns a live attestation into a result.
Titles, severities and rationale come from the standard file, as for every other rule.
"""

from __future__ import annotations

from scanners.rules import register
from scanners.rules.base import AttestRule


@register
class DependencyReviewPractice(AttestRule):
    """Dependencies are reviewed monthly and updates are tested in development first."""

    id = "VER-005"


@register
class ProductionSecurityPractice(AttestRule):
    """HTTPS only in production, rotated secrets, encryption at rest, reviewed audit logs."""

    id = "SEC-011"


@register
class AlertingPractice(AttestRule):
    """Alerts on error rate, latency, availability and security events, with runbooks."""

    id = "MON-006"


@register
class ReviewAndApprovalPractice(AttestRule):
    """Code is reviewed before merge and production deploys need manual approval."""

    id = "WF-006"


@register
class EnvironmentSeparationPractice(AttestRule):
    """Separate databases and credentials per environment, with staged rollouts."""

    id = "ENV-002"
