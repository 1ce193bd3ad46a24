"""Repository page: latest results by section with governance, history, scans."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from itertools import pairwise

from django.db.models import Q
from django.utils import timezone

from dashboard.charts import Point
from dashboard.models import (
    Attestation,
    CheckResult,
    Ratchet,
    Repository,
    RepositoryDailyScore,
    Scan,
    StandardRelease,
    Waiver,
    WebhookDelivery,
)
from dashboard.selectors.common import day_range, points
from dashboard.services.codehost import file_url
from dashboard.services.ratchets import count_of
from dashboard.services.rollout import score_change_cause
from dashboard.services.scoring import Governance, upcoming_rule_ids
from dashboard.services.webhooks import recent_deliveries
from scanners.results import Status
from scanners.standard import default_standard


@dataclass(slots=True)
class ResultView:
    """One rule's result as the page shows it."""

    result: CheckResult
    status: str
    evidence: list[dict[str, object]]


@dataclass(slots=True)
class SectionView:
    """A section of the standard with its results."""

    code: str
    title: str
    score: float | None
    results: list[ResultView] = field(default_factory=list)

    @property
    def failing(self) -> int:
        """Results needing attention."""
        return sum(1 for r in self.results if r.status in {"fail", "warn", "error"})


@dataclass(slots=True)
class RepositoryPage:
    """Everything the repository page renders."""

    sections: list[SectionView]
    waivers: list[Waiver]
    attestations: list[Attestation]
    history: list[Point]
    scans: list[Scan]
    active_scan: Scan | None
    counts: dict[str, int] = field(default_factory=dict)
    deliveries: list[WebhookDelivery] = field(default_factory=list)
    ratchets: list[RatchetView] = field(default_factory=list)
    marks: list[tuple[date, str]] = field(default_factory=list)

    @property
    def score_changes(self) -> list[ScoreChange]:
        """Why the score moved between consecutive finished scans (newest first)."""
        done = [s for s in self.scans if s.status == Scan.Status.SUCCEEDED]
        return [
            ScoreChange(after, before, score_change_cause(before, after))
            for after, before in pairwise(done)
        ]


@dataclass(slots=True)
class RatchetView:
    """A ratchet with the latest count of its rule."""

    ratchet: Ratchet
    current: int | None

    @property
    def within(self) -> bool:
        """Whether the latest count is at or below the baseline."""
        return self.current is not None and self.current <= self.ratchet.baseline


@dataclass(slots=True)
class ScoreChange:
    """A score move between two scans and its cause (code, standard, both, rescan)."""

    scan: Scan
    previous: Scan
    cause: str

    @property
    def delta(self) -> float | None:
        """Score difference (None when either has no score)."""
        if self.scan.score is None or self.previous.score is None:
            return None
        return round(self.scan.score - self.previous.score, 1)


def _evidence(
    repository: Repository, scan: Scan, raw: list[dict[str, object]]
) -> list[dict[str, object]]:
    out = []
    for item in raw[:20]:
        path, line = item.get("path"), item.get("line")
        link = file_url(repository.clone_url, scan.commit_sha, str(path), line) if path else None
        out.append({**item, "url": link})
    return out


def repository_page(repository: Repository, status_filter: str = "") -> RepositoryPage:
    """The page's data in a fixed number of queries (9)."""
    now = timezone.now()
    live = Q(expires_at__gt=now) & (Q(revoked_at__isnull=True) | Q(revoked_at__gt=now))
    waivers = list(
        Waiver.objects.filter(live, repository=repository).select_related("rule", "approved_by")
    )
    attestations = list(
        Attestation.objects.filter(live, repository=repository).select_related(
            "rule", "attested_by"
        )
    )
    ratchets = list(Ratchet.objects.filter(repository=repository).select_related("rule"))
    sections: list[SectionView] = []
    current: dict[int, int | None] = {}
    scan = repository.latest_scan
    if scan is not None:
        governance = Governance(
            {w.rule_id for w in waivers},
            {a.rule_id for a in attestations},
            {r.rule_id: r.baseline for r in ratchets if r.created_at <= now},
            upcoming_rule_ids(now),
        )
        by_code: dict[str, SectionView] = {}
        titles = {code: s.title for code, s in default_standard().sections.items()}
        for result in (
            CheckResult.objects.filter(scan=scan).select_related("rule").order_by("rule__position")
        ):
            current[result.rule_id] = count_of(result.status, result.findings)
            status = governance.shown(result.status, result.rule_id, result.findings)
            if status_filter and status != status_filter:
                continue
            code = result.rule.section
            view = by_code.get(code)
            if view is None:
                view = by_code[code] = SectionView(
                    code, titles.get(code, code), (scan.section_scores or {}).get(code)
                )
                sections.append(view)
            view.results.append(
                ResultView(result, status, _evidence(repository, scan, result.evidence))
            )
    window = day_range(365)
    history: dict[date, float | None] = {
        day: value
        for day, value in RepositoryDailyScore.objects.filter(
            repository=repository, date__gte=window[0]
        ).values_list("date", "score")
    }
    scans = list(Scan.objects.filter(repository=repository).order_by("-queued_at", "-id")[:10])
    active = next((s for s in scans if s.status in {"queued", "running"}), None)
    if history:  # start the chart at the first day with data, showing at least 30 days
        first = min(history)
        window = (
            [day for day in window if day >= first]
            if len(window) - window.index(first) >= 30
            else window[-30:]
        )
    counts: dict[str, int] = {}
    for section in sections:
        for item in section.results:
            counts[item.status] = counts.get(item.status, 0) + 1
    return RepositoryPage(
        sections,
        waivers,
        attestations,
        points(history, window),
        scans,
        active,
        counts,
        recent_deliveries(repository, limit=10),
        [RatchetView(r, current.get(r.rule_id)) for r in ratchets],
        standard_marks(window[0]),
    )


def standard_marks(since: date) -> list[tuple[date, str]]:
    """Days a new version of the standard arrived, for trend charts (1 query)."""
    return [
        (synced_at.date(), f"standard {version}")
        for synced_at, version in StandardRelease.objects.filter(synced_at__date__gte=since)
        .exclude(previous_version="")
        .values_list("synced_at", "version")
    ]


def waivable(page: RepositoryPage) -> list[CheckResult]:
    """Results a maintainer may waive (failing, not attest rules)."""
    return [
        r.result
        for s in page.sections
        for r in s.results
        if r.status in {Status.FAIL, Status.WARN, Status.ERROR}
        and r.result.rule.evaluation != "attest"
    ]


def attestable(page: RepositoryPage) -> list[CheckResult]:
    """Attest rules still waiting for an attestation."""
    return [r.result for s in page.sections for r in s.results if r.status == Status.MANUAL]


def ratchetable(page: RepositoryPage) -> list[int]:
    """Rule pks a maintainer may ratchet: count-based, countable now, not ratcheted yet."""
    taken = {r.ratchet.rule_id for r in page.ratchets}
    return [
        r.result.rule_id
        for s in page.sections
        for r in s.results
        if r.result.rule.countable
        and count_of(r.result.status, r.result.findings) is not None
        and r.result.rule_id not in taken
    ]


__all__ = ["RepositoryPage", "attestable", "ratchetable", "repository_page", "waivable"]
