"""Ratchets: freeze a count-based rule's finding count as a repository's baseline.

The count of a result is `CheckResult.findings`: how many evidence items the engine reported
for the rule (one per finding for count-based rules; rules cap their evidence at 50, so counts
above the cap read as the cap). A passing result counts 0. The rule then passes while the count
is at or below the baseline and fails as soon as it grows; each scan with a lower count lowers
the baseline, which never rises.
"""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from dashboard.domain.governance import count_of
from dashboard.models import AuditAction, CheckResult, Ratchet, Repository, Rule, Scan
from dashboard.services.access import audit
from dashboard.services.access.permissions import require_team_maintainer
from dashboard.services.scoring.rollups import record_scan_day
from dashboard.services.scoring.scores import refresh_repository_score


class RatchetError(ValueError):
    """A ratchet that cannot be set; `message` says why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _refresh(repository: Repository) -> None:
    refresh_repository_score(repository)
    record_scan_day(repository, timezone.now().date())


@transaction.atomic
def freeze(user: User, repository: Repository, rule: Rule) -> Ratchet:
    """Freeze the latest count of `rule` as the repository's baseline (maintainers)."""
    require_team_maintainer(user, repository.team)
    if not rule.countable:
        raise RatchetError(f"{rule.rule_id} is not count-based: it cannot be ratcheted")
    result = None
    if repository.latest_scan_id is not None:
        result = CheckResult.objects.filter(scan_id=repository.latest_scan_id, rule=rule).first()
    count = count_of(result.status, result.findings) if result is not None else None
    if count is None:
        raise RatchetError(f"{rule.rule_id} has no countable result in the latest scan")
    ratchet, created = Ratchet.objects.get_or_create(
        repository=repository, rule=rule, defaults={"baseline": count, "created_by": user}
    )
    if not created and count < ratchet.baseline:
        ratchet.baseline = count  # a baseline only goes down
        ratchet.save(update_fields=["baseline", "updated_at"])
    _refresh(repository)
    audit.record(
        AuditAction.RATCHET_SET,
        actor=user,
        target=ratchet,
        target_label=f"{repository.name} · {rule.rule_id}",
        team=repository.team,
        details={"rule": rule.rule_id, "baseline": ratchet.baseline},
    )
    return ratchet


@transaction.atomic
def release(user: User, ratchet: Ratchet) -> None:
    """Remove a ratchet: the rule is judged by the engine alone again (maintainers)."""
    repository = ratchet.repository
    require_team_maintainer(user, repository.team)
    audit.record(
        AuditAction.RATCHET_RELEASED,
        actor=user,
        target=ratchet,
        target_label=f"{repository.name} · {ratchet.rule.rule_id}",
        team=repository.team,
        details={"rule": ratchet.rule.rule_id, "baseline": ratchet.baseline},
    )
    ratchet.delete()
    _refresh(repository)


def follow_improvements(scan: Scan) -> int:
    """Lower the baselines of the scan's repository to the counts it found; returns how many.

    Runs inside the transaction that stores the scan, before it is scored.
    """
    ratchets = {r.rule_id: r for r in Ratchet.objects.filter(repository_id=scan.repository_id)}
    if not ratchets:
        return 0
    lowered = []
    for rule_pk, status, findings in CheckResult.objects.filter(
        scan=scan, rule_id__in=ratchets
    ).values_list("rule_id", "status", "findings"):
        count = count_of(status, findings)
        ratchet = ratchets[rule_pk]
        if count is not None and count < ratchet.baseline:
            ratchet.baseline, ratchet.updated_at = count, timezone.now()
            lowered.append(ratchet)
    Ratchet.objects.bulk_update(lowered, ["baseline", "updated_at"])
    return len(lowered)
