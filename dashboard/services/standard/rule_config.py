"""The organisation's rule configuration: severity, weight and enabled, set in the admin.

Overrides live in their own fields (`Rule.severity_override`, `weight_override`, `enabled`),
so the standard's sync, which refreshes the bundled values, never touches them. Each change
is a version of the standard of its own (`1.4.0+org.3`), recorded like a bundled release so
trend charts mark the day the rules changed, and every stored score follows at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from dashboard.models import AuditAction, Repository, Rule, Standard, StandardRelease
from dashboard.services.access import audit
from dashboard.services.access.permissions import require_admin_permission
from dashboard.services.scoring.rollups import record_scan_day
from dashboard.services.scoring.scores import refresh_repository_score

CONFIGURABLE = ("severity_override", "weight_override", "enabled")


@transaction.atomic
def configure_rule(user: User, rule: Rule, values: Mapping[str, Any]) -> Standard | None:
    """Store an administrator's severity/weight/enabled choice for `rule`.

    `values` holds some of CONFIGURABLE (blank severity or None weight: the bundled value).
    A change bumps the standard's organisation revision, records it as a release, audits
    each changed field as [before, after] and rescores every repository; returns the
    standard then, or None when nothing changed.
    """
    require_admin_permission(user, "dashboard.change_rule")
    unknown = set(values) - set(CONFIGURABLE)
    if unknown:
        raise ValueError(f"not configurable: {', '.join(sorted(unknown))}")
    stored = Rule.objects.select_for_update().get(pk=rule.pk)
    changes = {
        name: [getattr(stored, name), value]
        for name, value in values.items()
        if getattr(stored, name) != value
    }
    if not changes:
        return None
    Rule.objects.filter(pk=rule.pk).update(**{name: new for name, (_, new) in changes.items()})
    for name, (_, new) in changes.items():
        setattr(rule, name, new)
    standard = _new_revision(stored.standard_id)
    audit.record(
        AuditAction.RULE_CONFIGURED,
        actor=user,
        target=rule,
        target_label=f"{rule.rule_id} · {standard.effective_version}",
        details={"rule": rule.rule_id, "changed": changes},
    )
    rescore_all()
    return standard


def _new_revision(standard_id: int) -> Standard:
    """Bump the organisation revision and record `version+org.N` as a release (trends)."""
    standard = Standard.objects.select_for_update().get(pk=standard_id)
    previous = standard.effective_version
    Standard.objects.filter(pk=standard_id).update(org_revision=F("org_revision") + 1)
    standard.refresh_from_db()
    StandardRelease.objects.get_or_create(
        standard=standard,
        version=standard.effective_version,
        defaults={"previous_version": previous, "synced_at": timezone.now()},
    )
    return standard


def rescore_all() -> int:
    """Refresh every scanned repository's stored score and today's roll-ups; returns how many.

    No scan is needed: results are the engine's verdicts, and the configuration only changes
    how they are scored.
    """
    today = timezone.now().date()
    count = 0
    for repository in Repository.objects.filter(latest_scan__isnull=False).iterator():
        refresh_repository_score(repository)
        record_scan_day(repository, today)
        count += 1
    return count
