"""Repository page: latest results by section with governance, history, scans."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from itertools import pairwise

from django.db.models import Min
from django.utils import timezone

from dashboard.charts import Point
from dashboard.domain.codehost import file_url
from dashboard.domain.governance import (
    HIDDEN_BY_DEFAULT,
    TO_FIX,
    Governance,
    attention_order,
    count_of,
)
from dashboard.domain.levels import Blocker, LevelGap, explain_results
from dashboard.domain.scores import score_change_cause
from dashboard.models import (
    Attestation,
    CheckResult,
    Ratchet,
    Repository,
    RepositoryDailyScore,
    Rule,
    Scan,
    StandardRelease,
    Waiver,
    WebhookDelivery,
)
from dashboard.selectors.common import TrendRange, day_range, points, trend_range
from dashboard.selectors.trends import initiative_marks
from dashboard.selectors.webhooks import recent_deliveries
from scanners.results import Status
from scanners.standard import default_standard

# The results filter listing every result, the not-applicable and manual ones too.
EVERY = "all"
# Scan columns no list on the page shows (JSON, decoded for nothing).
REPOSITORY_RANGE = "365"  # the page showed a year before ranges existed
SCAN_JSON = ("tool_versions", "section_scores", "counts", "reported_results")


@dataclass(slots=True)
class ResultView:
    """One rule's result as the page shows it."""

    result: CheckResult
    status: str
    evidence: list[dict[str, object]]
    order: tuple[int, ...] = ()  # attention_order: what to fix first


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
        return sum(1 for r in self.results if r.status in TO_FIX)


@dataclass(slots=True)
class ResultsSummary:
    """What the page takes from the latest results besides their rows (small: cacheable)."""

    counts: dict[str, int] = field(default_factory=dict)  # shown status -> results listed
    totals: dict[str, int] = field(default_factory=dict)  # shown status -> every result
    current: dict[int, int | None] = field(default_factory=dict)  # rule pk -> findings now
    waivable: list[int] = field(default_factory=list)  # rule pks a maintainer may waive
    attestable: list[int] = field(default_factory=list)  # attest rules awaiting one
    countable: list[int] = field(default_factory=list)  # count-based rules countable now
    level_gap: LevelGap | None = None  # what keeps the next level out (whatever the filter)

    @property
    def listed(self) -> int:
        """Results the filter lists."""
        return sum(self.counts.values())

    @property
    def total(self) -> int:
        """Results of the latest scan, whatever the filter."""
        return sum(self.totals.values())


@dataclass(slots=True)
class RepositoryPage:
    """Everything the repository page renders.

    `sections`, `history` and `marks` stay empty when the caller takes the results and the
    chart from the page cache (`repository_page(..., lazy=True)`); it then sets `summary`.
    """

    sections: list[SectionView]
    waivers: list[Waiver]
    attestations: list[Attestation]
    history: list[Point]
    scans: list[Scan]
    active_scan: Scan | None
    summary: ResultsSummary = field(default_factory=ResultsSummary)
    deliveries: list[WebhookDelivery] = field(default_factory=list)
    ratchet_rows: list[Ratchet] = field(default_factory=list)
    marks: list[tuple[date, str]] = field(default_factory=list)
    governance: Governance | None = None

    @property
    def counts(self) -> dict[str, int]:
        """Results per shown status."""
        return self.summary.counts

    @property
    def ratchets(self) -> list[RatchetView]:
        """The repository's ratchets with the latest count of their rule."""
        return [RatchetView(r, self.summary.current.get(r.rule_id)) for r in self.ratchet_rows]

    @property
    def score_changes(self) -> list[ScoreChange]:
        """Why the score moved between consecutive finished scans (newest first)."""
        done = [s for s in self.scans if s.status == Scan.Status.SUCCEEDED and not s.history_only]
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


@dataclass(slots=True)
class GovernanceInForce:
    """A repository's live waivers, attestations and ratchets, and what they make of results.

    `valid_until`: the next instant the governance changes with no write (a waiver or an
    attestation expiring or reaching its revocation time, a ratchet starting, a rule's grace
    period ending), or None. Writes retire cached panels themselves (dashboard/services/
    pagecache.py); this bounds how long a panel rendered under this governance stays true.
    """

    waivers: list[Waiver]
    attestations: list[Attestation]
    ratchets: list[Ratchet]
    governance: Governance
    valid_until: datetime | None


def governance_in_force(repository: Repository, now: datetime | None = None) -> GovernanceInForce:
    """The governance of `repository` at `now` (4 queries)."""
    now = now or timezone.now()
    waivers = list(
        Waiver.objects.in_force(now)
        .filter(repository=repository)
        .select_related("rule", "approved_by")
    )
    attestations = list(
        Attestation.objects.in_force(now)
        .filter(repository=repository)
        .select_related("rule", "attested_by")
    )
    ratchets = list(Ratchet.objects.filter(repository=repository).select_related("rule"))
    upcoming = dict(
        Rule.objects.filter(effective_from__gt=now.date()).values_list("pk", "effective_from")
    )
    ends = [(w.expires_at, w.revoked_at) for w in waivers]
    ends += [(a.expires_at, a.revoked_at) for a in attestations]
    changes = [moment for pair in ends for moment in pair if moment is not None]
    changes += [r.created_at for r in ratchets if r.created_at > now]
    changes += [datetime.combine(day, time.min, tzinfo=UTC) for day in upcoming.values() if day]
    governance = Governance(
        {w.rule_id for w in waivers},
        {a.rule_id for a in attestations},
        {r.rule_id: r.baseline for r in ratchets if r.created_at <= now},  # ratchet_in_force
        frozenset(upcoming),
    )
    return GovernanceInForce(
        waivers, attestations, ratchets, governance, min(changes) if changes else None
    )


def listed(status: str, status_filter: str) -> bool:
    """Whether a result shown as `status` is listed under `status_filter`: "" (the default)
    lists all but the not-applicable and manual ones, EVERY lists every result, a status
    lists that status alone."""
    if status_filter == EVERY:
        return True
    if status_filter:
        return status == status_filter
    return status not in HIDDEN_BY_DEFAULT


def latest_results(
    repository: Repository, governance: Governance, status_filter: str = ""
) -> tuple[list[SectionView], ResultsSummary]:
    """The latest scan's results by section as shown under `governance` (1 query).

    Results to fix come first, by severity then points (`attention_order`), and so do the
    sections holding them; passing sections follow in the standard's order.
    """
    scan = repository.latest_scan
    if scan is None:
        return [], ResultsSummary()
    summary = ResultsSummary()
    sections: list[SectionView] = []
    by_code: dict[str, SectionView] = {}
    titles = {code: s.title for code, s in default_standard().sections.items()}
    shown: list[Blocker] = []
    for result in (
        CheckResult.objects.filter(scan=scan).select_related("rule").order_by("rule__position")
    ):
        rule = result.rule
        count = count_of(result.status, result.findings)
        summary.current[result.rule_id] = count
        status = governance.shown(result.status, result.rule_id, result.findings)
        shown.append(Blocker(rule.rule_id, rule.severity, status, _first_path(result.evidence)))
        summary.totals[status] = summary.totals.get(status, 0) + 1
        # Governance forms offer every rule, whichever results the filter lists.
        if status in {Status.FAIL, Status.WARN, Status.ERROR} and rule.evaluation != "attest":
            summary.waivable.append(result.rule_id)
        elif status == Status.MANUAL:
            summary.attestable.append(result.rule_id)
        if rule.countable and count is not None:
            summary.countable.append(result.rule_id)
        if not listed(status, status_filter):
            continue
        summary.counts[status] = summary.counts.get(status, 0) + 1
        view = by_code.get(rule.section)
        if view is None:
            score = (scan.section_scores or {}).get(rule.section)
            view = by_code[rule.section] = SectionView(
                rule.section, titles.get(rule.section, rule.section), score
            )
            sections.append(view)
        view.results.append(
            ResultView(
                result,
                status,
                _evidence(repository, scan, result.evidence),
                attention_order(status, rule.weighting, rule.position),
            )
        )
    for view in sections:
        view.results.sort(key=lambda item: item.order)
    sections.sort(key=lambda view: view.results[0].order)  # a section's first result leads it
    summary.level_gap = explain_results(repository.level, repository.score, shown)
    return sections, summary


def _first_path(evidence: list[dict[str, object]]) -> str:
    """The first evidence item's path, for "STY-004 in app/x.py"."""
    first = evidence[0] if evidence else {}
    path = first.get("path") if isinstance(first, dict) else None
    return str(path) if path else ""


def score_history(
    repository: Repository, span: TrendRange | None = None
) -> tuple[list[Point], list[tuple[date, str]]]:
    """Daily scores over `span` (a year by default), starting no earlier than the first day
    with data and showing 30 days at least, with the days a new standard arrived and the
    target dates of initiatives covering the repository (4 queries)."""
    span = span or trend_range({}, REPOSITORY_RANGE)
    daily = RepositoryDailyScore.objects.filter(repository=repository)
    first: date | None = daily.aggregate(first=Min("date"))["first"]
    window = span.window(first)
    if first is not None and first > window[0]:
        window = day_range(max((window[-1] - first).days + 1, 30), window[-1])
    history: dict[date, float | None] = dict(
        daily.filter(date__gte=window[0]).values_list("date", "score")
    )
    marks = standard_marks(window[0]) + initiative_marks(window[0], repository=repository)
    return points(history, window), sorted(marks)


def recent_scans(repository: Repository, limit: int = 10) -> list[Scan]:
    """The repository's latest scans, newest first, without their JSON columns (1 query)."""
    recent = Scan.objects.filter(repository=repository).defer(*SCAN_JSON)
    return list(recent.order_by("-queued_at", "-id")[:limit])


def repository_page(
    repository: Repository, status_filter: str = "", *, lazy: bool = False
) -> RepositoryPage:
    """The page's data in a fixed number of queries (12).

    `lazy`: only the webhook deliveries (1 query), which change with every delivery; the
    caller takes the rest from the page cache.
    """
    deliveries = recent_deliveries(repository, limit=10)
    if lazy:
        return RepositoryPage([], [], [], [], [], None, deliveries=deliveries)
    scans = recent_scans(repository)
    active = next((s for s in scans if s.status in {"queued", "running"}), None)
    page = RepositoryPage([], [], [], [], scans, active, deliveries=deliveries)
    in_force = governance_in_force(repository)
    page.waivers, page.attestations = in_force.waivers, in_force.attestations
    page.ratchet_rows, page.governance = in_force.ratchets, in_force.governance
    if repository.latest_scan is not None:
        page.sections, page.summary = latest_results(repository, in_force.governance, status_filter)
    page.history, page.marks = score_history(repository)
    return page


def standard_marks(since: date) -> list[tuple[date, str]]:
    """Days a new version of the standard arrived, for trend charts (1 query)."""
    return [
        (synced_at.date(), f"standard {version}")
        for synced_at, version in StandardRelease.objects.filter(synced_at__date__gte=since)
        .exclude(previous_version="")
        .values_list("synced_at", "version")
    ]


def waivable(page: RepositoryPage) -> list[int]:
    """Rule pks a maintainer may waive (failing, not attest rules)."""
    return page.summary.waivable


def attestable(page: RepositoryPage) -> list[int]:
    """Rule pks of attest rules still waiting for an attestation."""
    return page.summary.attestable


def ratchetable(page: RepositoryPage) -> list[int]:
    """Rule pks a maintainer may ratchet: count-based, countable now, not ratcheted yet."""
    taken = {r.rule_id for r in page.ratchet_rows}
    return [pk for pk in page.summary.countable if pk not in taken]


__all__ = [
    "EVERY",
    "REPOSITORY_RANGE",
    "GovernanceInForce",
    "RepositoryPage",
    "ResultsSummary",
    "attestable",
    "governance_in_force",
    "latest_results",
    "listed",
    "ratchetable",
    "recent_scans",
    "repository_page",
    "score_history",
    "waivable",
]
