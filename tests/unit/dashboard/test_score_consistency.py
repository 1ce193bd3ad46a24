"""Acceptance: a team's and a repository's score and level are the same everywhere.

Random small organisations (teams, repositories, scans with results, waivers, attestations,
ratchets, a grace period, inactive repositories, failed scans) are built with the factories
and the real services; the figures are then read from the real HTTP responses — overview,
team page, repository page, CSV exports, API, badges — and from the roll-ups, and must all
equal the one definition (dashboard/domain/scores.py) and `check_scores`.
"""

from __future__ import annotations

import contextlib
import csv
import io
import re
from datetime import timedelta
from typing import Any

from django.core.cache import caches
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from dashboard.models import Repository, RepositoryDailyScore, Rule, Scan, Team, TeamDailyScore
from dashboard.selectors.scores import team_scores
from dashboard.services.governance import ratchets
from dashboard.services.governance import waivers as governance
from dashboard.services.governance.ratchets import RatchetError
from dashboard.services.repos.registration import update_repository
from dashboard.services.scoring import check as score_check
from tests.factories import RepositoryFactory, ScanFactory, TeamFactory, UserFactory
from tests.scoredata import maintainer, store_scan

# critical, critical (countable), major, major (countable), minor, minor (attest)
RULES = ("SEC-002", "SEC-008", "ERR-001", "ERR-003", "SEC-003", "SEC-011")
ATTEST, COUNTABLE = "SEC-011", ("SEC-008", "ERR-003")
WEEK = timedelta(days=7)
ENGINE = ("pass", "pass", "fail", "warn", "not_applicable", "error")

scan_spec = st.fixed_dictionaries(
    {
        "statuses": st.tuples(*(st.sampled_from(ENGINE) for _ in RULES[:-1])),
        "attest_rule": st.sampled_from(("manual", "pass")),
        "findings": st.integers(0, 4),
    }
)
repository_spec = st.fixed_dictionaries(
    {
        "active": st.sampled_from((True, True, True, False)),
        "scans": st.lists(scan_spec, max_size=2),
        "failed_scan": st.booleans(),
        "waive": st.sets(st.sampled_from(RULES[:-1]), max_size=2),
        "attest": st.booleans(),
        "ratchet": st.sampled_from((None, *COUNTABLE)),
    }
)
organisation = st.fixed_dictionaries(
    {
        "teams": st.lists(st.lists(repository_spec, max_size=3), min_size=1, max_size=3),
        "grace": st.sampled_from((None, "ERR-001", "SEC-003")),
    }
)


def _text(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


def _badge(score: float | None, level: str) -> str:
    return "not scanned" if score is None else f"{score:.1f} {level or 'none'}".replace(".0 ", " ")


def _level_in(html: str) -> str:
    found = re.search(r'class="level level-(\w+)"', html)
    return found.group(1) if found else ""


def _csv(response: Any) -> list[dict[str, str]]:
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode("utf-8")
    return list(csv.DictReader(io.StringIO(text, newline="")))


def _number(cell: str) -> float | None:
    return None if cell == "" else float(cell)


def _repository(team: Team, item: dict[str, Any], user: Any, rules: dict[str, Rule]) -> None:
    repository = RepositoryFactory(team=team)
    for scan in item["scans"]:
        statuses = dict(zip(RULES[:-1], scan["statuses"], strict=True))
        statuses[ATTEST] = scan["attest_rule"]
        store_scan(repository, statuses, dict.fromkeys(COUNTABLE, scan["findings"]))
    if item["failed_scan"]:
        ScanFactory(repository=repository, status=Scan.Status.FAILED)
    repository.refresh_from_db()
    # Managers and admins grant waivers (maintainers request them: test_waiver_requests.py).
    granter = UserFactory(is_superuser=True, is_staff=True) if item["waive"] else None
    for rule_id in sorted(item["waive"]):
        governance.grant_waiver(
            granter, repository, rules[rule_id], "accepted for the test", timezone.now() + WEEK
        )
    if item["attest"]:
        governance.attest(user, repository, rules[ATTEST], "https://wiki.example/x")
    if item["ratchet"]:
        # Nothing countable in the latest scan is a real refusal: the organisation goes on.
        with contextlib.suppress(RatchetError):
            ratchets.freeze(user, repository, rules[item["ratchet"]])
    if not item["active"]:
        repository.active = False
        update_repository(UserFactory(is_superuser=True, is_staff=True), repository)


def build(spec: dict[str, Any]) -> list[Team]:
    """The organisation `spec` describes, through the real services."""
    rules = {r.rule_id: r for r in Rule.objects.filter(rule_id__in=RULES)}
    if spec["grace"]:
        Rule.objects.filter(pk=rules[spec["grace"]].pk).update(
            effective_from=timezone.now().date() + timedelta(days=10)
        )
    teams = [TeamFactory() for _ in spec["teams"]]
    user = maintainer(*teams)
    for team, repositories in zip(teams, spec["teams"], strict=True):
        for item in repositories:
            _repository(team, item, user, rules)
    return teams


class ScoreConsistencyTests(TestCase):
    """Every surface shows the one definition's figures."""

    @settings(
        max_examples=12,
        deadline=None,
        phases=(Phase.explicit, Phase.reuse, Phase.generate),  # no shrinking: stays < 60 s
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(spec=organisation)
    def test_scores_and_levels_are_identical_everywhere(self, spec: dict[str, Any]) -> None:
        for cache in caches.all():
            cache.clear()
        teams = build(spec)
        client = Client()
        client.force_login(maintainer())
        expected = team_scores([t.pk for t in teams])
        today = timezone.now().date()
        assert score_check.check() == []

        overview = client.get("/?per_page=100").content.decode()
        org_rows = {r["slug"]: r for r in _csv(client.get("/exports/organisation.csv"))}
        api = client.get("/api/v1/teams?per_page=100").json()["data"]
        api_teams = {row["slug"]: row for row in api}
        for team in teams:
            want = expected[team.pk]
            row = re.search(
                rf'href="/teams/{team.slug}/">[^<]*</a></td>\s*<td class="num">([^<]*)</td>'
                r"\s*<td>(.*?)</td>",
                overview,
                re.S,
            )
            if "No repositories yet" not in overview:  # the empty state has no team table
                assert row is not None, team.slug
                assert (row.group(1), _level_in(row.group(2))) == (_text(want.score), want.level)
            page = client.get(f"/teams/{team.slug}/").content.decode()
            stat = re.search(
                r'<div class="stat-value">([^<]*)</div><div class="muted">team score.*?'
                r'<div id="team-level">(.*?)</div>',
                page,
                re.S,
            )
            assert stat is not None
            assert (stat.group(1), _level_in(stat.group(2))) == (_text(want.score), want.level)
            csv_row = org_rows[team.slug]
            assert (_number(csv_row["score"]), csv_row["level"]) == (want.score, want.level)
            assert (api_teams[team.slug]["score"], api_teams[team.slug]["level"]) == (
                want.score,
                want.level,
            )
            badge = client.get(f"/badges/teams/{team.slug}.svg").content.decode()
            if want.repositories:
                assert f"<title>yardstick: {_badge(want.score, want.level)}</title>" in badge
            rollup = TeamDailyScore.objects.filter(team=team, date=today).first()
            assert (rollup.score if rollup else None) == want.score
            self._repositories(client, team, today)

    def _repositories(self, client: Client, team: Team, today: Any) -> None:
        team_rows = {
            r["repository"]: r for r in _csv(client.get(f"/exports/teams/{team.slug}.csv"))
        }
        for repository in Repository.objects.filter(team=team):
            score, level = repository.score, repository.level
            page = client.get(f"/repositories/{repository.pk}/").content.decode()
            head = re.search(r"<h1>(.*?)</h1>", page, re.S)
            assert head is not None
            assert _level_in(head.group(1)) == (level if repository.latest_scan_id else "")
            stat = (
                rf'<div class="stat-value">{re.escape(_text(score))}</div><div class="muted">score'
            )
            assert bool(re.search(stat, page)) == bool(repository.latest_scan_id)
            row = team_rows[repository.name]
            assert (_number(row["score"]), row["level"]) == (score, level)
            api = client.get(f"/api/v1/repositories/{repository.pk}").json()
            assert (api["score"], api["level"]) == (score, level)
            if repository.active:
                badge = client.get(f"/badges/{repository.pk}.svg").content.decode()
                shown = level if score is not None else ""
                assert f"<title>yardstick: {_badge(score, shown)}</title>" in badge
            daily = RepositoryDailyScore.objects.filter(repository=repository, date=today).first()
            if repository.latest_scan_id:
                assert daily is not None
                assert (daily.score, daily.level) == (score, level)
