"""Build an organisation's worth of scans and roll-ups quickly, for page tests."""

from __future__ import annotations

import random
from datetime import timedelta

from django.utils import timezone

from dashboard.models import CheckResult, Repository, Rule, Scan, Team
from dashboard.selectors.governance import score_scan
from dashboard.services.scoring import rollups
from tests.factories import RepositoryFactory, TeamFactory

STATUSES = ("pass", "pass", "pass", "fail", "warn", "not_applicable", "manual")


def build_org(teams: int, repositories: int, days: int = 5, seed: int = 7) -> list[Team]:
    """`teams` teams of `repositories` repositories, one scan a day for `days` days each."""
    rng = random.Random(seed)  # noqa: S311 - reproducible test data, not security
    rules = list(Rule.objects.filter(standard__key="python-backend", retired=False))
    made = []
    today = timezone.now()
    for _ in range(teams):
        team = TeamFactory()
        made.append(team)
        for _ in range(repositories):
            repository: Repository = RepositoryFactory(team=team)
            for day in range(days, 0, -1):
                finished = today - timedelta(days=day - 1, hours=1)
                scan = Scan.objects.create(
                    repository=repository,
                    status=Scan.Status.SUCCEEDED,
                    commit_sha=f"{rng.getrandbits(160):040x}",
                )
                results = [
                    CheckResult(
                        scan=scan,
                        rule=rule,
                        status=rng.choice(STATUSES),
                        message=f"{rule.rule_id} says so",
                        evidence=[{"path": "src/main.py", "line": 3, "message": "here"}],
                    )
                    for rule in rules
                ]
                CheckResult.objects.bulk_create(results)
                effective = score_scan(scan)
                Scan.objects.filter(pk=scan.pk).update(
                    finished_at=finished,
                    score=effective.score,
                    level=effective.level,
                    section_scores=effective.sections,
                )
            repository.latest_scan = scan
            repository.score, repository.level = effective.score, effective.level
            repository.save()
    start = (today - timedelta(days=days)).date()
    rollups.recompute_range(start, today.date())
    return made
