"""Latest results with governance: ONE queryset builder for the results API and the CSV export.

Scope: the latest succeeded scan of every active repository; `repository` narrows it to that
repository's latest scan (even an inactive one: it is named), `scan` to one scan's results.
Filters: `team` (slug), `rule`, `section`, `status` — the engine's verdict: a waived failure
is still a failing result, shown with its effective status `waived` — and `effective_status`,
the status people see (governance applied; `upcoming` during a grace period).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from django.db.models import QuerySet
from django.utils import timezone

from dashboard.domain.governance import UPCOMING, Governance
from dashboard.models import Attestation, CheckResult, Ratchet, Repository, Waiver
from dashboard.selectors.governance import upcoming_rule_ids

STATUSES = frozenset(s.value for s in CheckResult.Status)
SHOWN_STATUSES = STATUSES | {UPCOMING}  # rules in their grace period are shown as upcoming
ORDER = ("scan__repository__team__name", "scan__repository__name", "scan_id", "rule__position")


@dataclass(frozen=True, slots=True)
class ResultQuery:
    """Which results (values already checked by the caller's input layer)."""

    scan: int | None = None
    repository: int | None = None
    team: str = ""
    rule: str = ""
    section: str = ""
    status: str = ""
    effective_status: str = ""


def governance_by_repository(
    scope: list[int] | None, at: datetime | None = None
) -> dict[int, Governance]:
    """The governance in force at `at` (now) for every repository in scope (4 queries)."""
    at = at or timezone.now()
    waived: dict[int, set[int]] = defaultdict(set)
    attested: dict[int, set[int]] = defaultdict(set)
    baselines: dict[int, dict[int, int]] = defaultdict(dict)
    waivers, attestations = Waiver.objects.in_force(at), Attestation.objects.in_force(at)
    ratchets = Ratchet.objects.in_force(at)
    if scope is not None:
        waivers = waivers.filter(repository_id__in=scope)
        attestations = attestations.filter(repository_id__in=scope)
        ratchets = ratchets.filter(repository_id__in=scope)
    for repository_id, rule_pk in waivers.values_list("repository_id", "rule_id"):
        waived[repository_id].add(rule_pk)
    for repository_id, rule_pk in attestations.values_list("repository_id", "rule_id"):
        attested[repository_id].add(rule_pk)
    for repository_id, rule_pk, baseline in ratchets.values_list(
        "repository_id", "rule_id", "baseline"
    ):
        baselines[repository_id][rule_pk] = baseline
    upcoming = upcoming_rule_ids(at)
    table: dict[int, Governance] = defaultdict(lambda: Governance(set(), set(), {}, upcoming))
    for pk in set(waived) | set(attested) | set(baselines):
        table[pk] = Governance(waived[pk], attested[pk], baselines[pk], upcoming)
    return table


def latest_results(query: ResultQuery) -> QuerySet[CheckResult]:
    """The results `query` selects, ordered by team, repository, scan and rule."""
    if query.scan is not None:
        queryset = CheckResult.objects.filter(scan_id=query.scan)
    else:
        latest = Repository.objects.filter(latest_scan__isnull=False)
        if query.repository is None:
            latest = latest.filter(active=True)
        queryset = CheckResult.objects.filter(scan_id__in=latest.values("latest_scan_id"))
    if query.repository is not None:
        queryset = queryset.filter(scan__repository_id=query.repository)
    if query.team:
        queryset = queryset.filter(scan__repository__team__slug=query.team)
    if query.rule:
        queryset = queryset.filter(rule__rule_id=query.rule.upper())
    if query.section:
        queryset = queryset.filter(rule__section=query.section.upper())
    if query.status:
        queryset = queryset.filter(status=query.status)
    if query.effective_status:
        queryset = queryset.filter(pk__in=_shown_as(queryset, query.effective_status))
    return queryset.order_by(*ORDER)


def _shown_as(queryset: QuerySet[CheckResult], status: str) -> list[int]:
    """Pks of the results shown as `status` under the governance in force now."""
    rows = list(queryset.values_list("pk", "scan__repository_id", "rule_id", "status", "findings"))
    governance = governance_by_repository(sorted({row[1] for row in rows}))
    return [
        pk
        for pk, repository_id, rule_pk, engine, findings in rows
        if governance[repository_id].shown(engine, rule_pk, findings) == status
    ]
