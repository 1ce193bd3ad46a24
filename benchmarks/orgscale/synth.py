"""Synthetic organisation: teams, repositories, scans with 124 results, a year of roll-ups.

Pure Python, no Django: `generate.py` turns these into COPY rows. Everything is coherent:
a scan's score, level and section scores come from its results through the catalog's own
formula (`scanners.report.score_outcomes`), a repository's daily row carries the scan in
force that day, and team rows and per-rule counts aggregate those daily rows exactly.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta

from scanners.report import score_outcomes
from scanners.results import Status
from scanners.standard import RuleSpec, Standard

# Status codes kept per result as one byte; the strings are what the database stores.
STATUSES = ("pass", "fail", "warn", "not_applicable", "manual", "error")
CODE = {name: code for code, name in enumerate(STATUSES)}
ENGINE = tuple(Status(name) for name in STATUSES)
SECTIONS_OF_NOTE = ("app", "services", "routers", "repositories", "schemas", "models")


@dataclass(slots=True)
class ScanPlan:
    """One synthetic scan: its day, its per-rule status codes and what they score."""

    id: int
    repository: int
    day: date
    statuses: bytes
    score: float | None = None
    level: str = ""
    sections: dict[str, float | None] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)


@dataclass(slots=True)
class RepoPlan:
    """One synthetic repository and its scans, oldest first."""

    id: int
    team: int
    name: str
    active: bool
    quality: float
    scans: list[ScanPlan] = field(default_factory=list)


class Organisation:
    """A reproducible organisation of `teams` x `per_team` repositories over `days` days."""

    def __init__(
        self,
        standard: Standard,
        *,
        teams: int,
        repositories: int,
        days: int,
        scans_per_repo: int,
        today: date,
        seed: int = 2026,
    ) -> None:
        self.standard = standard
        self.rules: list[RuleSpec] = list(standard.rules.values())
        self.teams = teams
        self.days = days
        self.today = today
        self.first_day = today - timedelta(days=days - 1)
        self.rng = random.Random(seed)
        self.difficulty = [self.rng.random() for _ in self.rules]
        self.repos: list[RepoPlan] = []
        scan_id = 0
        for n in range(repositories):
            team = n % teams + 1
            repo = RepoPlan(
                id=n + 1,
                team=team,
                name=f"svc-{SECTIONS_OF_NOTE[n % 6]}-{n + 1:05}",
                active=self.rng.random() > 0.02,
                quality=self.rng.uniform(0.45, 0.97),
            )
            never_scanned = self.rng.random() < 0.01
            if not never_scanned:
                # A fifth of the repositories were registered during the year.
                start = 0 if self.rng.random() < 0.8 else self.rng.randrange(max(1, days - 30))
                offsets = sorted(
                    {start, days - 1 - min(days - 1, self.rng.randrange(3))}
                    | {self.rng.randrange(start, days) for _ in range(scans_per_repo - 2)}
                )
                for offset in offsets[-scans_per_repo:]:
                    scan_id += 1
                    day = self.first_day + timedelta(days=offset)
                    repo.scans.append(self._scan(scan_id, repo, day, offset))
            self.repos.append(repo)

    def _scan(self, scan_id: int, repo: RepoPlan, day: date, offset: int) -> ScanPlan:
        # Repositories improve over the year: up to 0.15 better at the end.
        quality = repo.quality - 0.15 * (1 - offset / max(1, self.days - 1))
        rng = self.rng
        codes = bytearray()
        for rule, difficulty in zip(self.rules, self.difficulty, strict=True):
            if rule.evaluation == "attest":
                codes.append(CODE["manual"] if rng.random() < 0.7 else CODE["pass"])
                continue
            roll = rng.random()
            if roll < 0.04:
                codes.append(CODE["not_applicable"])
            elif roll < 0.045:
                codes.append(CODE["error"])
            elif rng.random() < quality + 0.3 * (0.5 - difficulty):
                codes.append(CODE["pass"])
            else:
                codes.append(CODE["fail"] if rng.random() < 0.7 else CODE["warn"])
        plan = ScanPlan(scan_id, repo.id, day, bytes(codes))
        self._score(plan)
        return plan

    def _score(self, plan: ScanPlan) -> None:
        pairs = [(rule, ENGINE[code]) for rule, code in zip(self.rules, plan.statuses, strict=True)]
        overall = score_outcomes(pairs)
        plan.score, plan.level = overall.value, overall.level.value
        by_section: dict[str, list[tuple[RuleSpec, Status]]] = {}
        for pair in pairs:
            by_section.setdefault(pair[0].section, []).append(pair)
        plan.sections = {code: score_outcomes(items).value for code, items in by_section.items()}
        plan.counts = dict(Counter(STATUSES[code] for code in plan.statuses))

    # ----- daily roll-ups ------------------------------------------------------------------
    def day_list(self) -> list[date]:
        """Every day of the history, oldest first."""
        return [self.first_day + timedelta(days=n) for n in range(self.days)]

    def repository_days(self, repo: RepoPlan) -> Iterator[tuple[date, ScanPlan]]:
        """(day, scan in force) for each day from the repository's first scan."""
        scans = repo.scans
        if not scans:
            return
        index = 0
        for day in self.day_list():
            while index + 1 < len(scans) and scans[index + 1].day <= day:
                index += 1
            if scans[index].day <= day:
                yield day, scans[index]

    def team_days(self, team: int, rule_days: int) -> Iterator[TeamDay]:  # noqa: C901
        """Per day: team score, repository count, section means, per-rule counts.

        Kept incrementally (a day only applies the scans that changed that day), so the cost
        is the scans plus the output. Per-rule counts ([passed, failed, warned, other] per
        rule) only for the last `rule_days` days (None before). Inactive repositories count
        for nothing, as in `services.rollups`.
        """
        members = [r for r in self.repos if r.team == team and r.active and r.scans]
        changes: dict[date, list[tuple[ScanPlan | None, ScanPlan]]] = {}
        for repo in members:
            previous: ScanPlan | None = None
            for plan in repo.scans:
                changes.setdefault(plan.day, []).append((previous, plan))
                previous = plan
        cutoff = self.today - timedelta(days=rule_days - 1)
        counts = [[0, 0, 0, 0] for _ in self.rules]
        score_sum, scored, members_now = 0.0, 0, 0
        section_sum: Counter[str] = Counter()
        section_n: Counter[str] = Counter()
        for day in self.day_list():
            for old, new in changes.get(day, ()):
                members_now += old is None  # a repository's first scan: one more member
                for plan, sign in ((old, -1), (new, 1)):
                    if plan is None:
                        continue
                    if plan.score is not None:
                        score_sum += sign * plan.score
                        scored += sign
                    for code, value in plan.sections.items():
                        if value is not None:
                            section_sum[code] += sign * value
                            section_n[code] += sign
                    for index, code in enumerate(plan.statuses):
                        counts[index][code if code < 3 else 3] += sign
            if not members_now:
                continue
            means = {
                code: round(section_sum[code] / n, 2) for code, n in sorted(section_n.items()) if n
            }
            score = round(score_sum / scored, 2) if scored else None
            yield TeamDay(day, score, members_now, means, counts if day >= cutoff else None)


@dataclass(frozen=True, slots=True)
class TeamDay:
    """A team's roll-up on one day; `rules` is shared and mutated: copy before keeping."""

    day: date
    score: float | None
    repositories: int
    sections: dict[str, float]
    rules: list[list[int]] | None
