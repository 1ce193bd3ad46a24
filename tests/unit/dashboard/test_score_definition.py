"""One definition of team scores, levels, "in force", and one results query for API and CSV."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from dashboard.domain.scores import LEVELS, level_rank, team_score
from dashboard.models import Repository, Scan, Waiver
from dashboard.selectors.scores import team_scores
from tests.factories import RepositoryFactory, TeamFactory, UserFactory, WaiverFactory
from tests.scoredata import rules, store_scan

pytestmark = pytest.mark.django_db


@pytest.fixture
def client() -> Client:
    client = Client()
    client.force_login(UserFactory())
    return client


def _csv(response: Any) -> list[dict[str, str]]:
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode("utf-8")
    return list(csv.DictReader(io.StringIO(text, newline="")))


def _overview_level(client: Client, slug: str) -> str:
    html = client.get("/").content.decode()
    row = re.search(rf'href="/teams/{slug}/">.*?</tr>', html, re.S)
    assert row is not None
    found = re.search(r'class="level level-(\w+)"', row.group(0))
    return found.group(1) if found else ""


def test_team_rules() -> None:
    assert team_score([100.0, None, 87.5, 90.0]) == 92.5
    assert team_score([None]) is None
    assert team_score([100.0, 66.666]) == 83.33


def test_a_team_is_at_the_lowest_level_of_its_scored_repositories() -> None:
    ids = sorted(rules())[:3]
    mixed, unlevelled, waiting = TeamFactory(), TeamFactory(), TeamFactory()
    for team, levels in ((mixed, ("gold", "bronze", "silver")), (unlevelled, ("gold", ""))):
        for level in levels:
            repository = RepositoryFactory(team=team)
            store_scan(repository, dict.fromkeys(ids, "pass"))
            Repository.objects.filter(pk=repository.pk).update(level=level)
    RepositoryFactory(team=waiting, level="gold")  # never scanned: does not count
    figures = team_scores([mixed.pk, unlevelled.pk, waiting.pk])
    # "none" as soon as one scanned repository reaches no level; "" when none is scanned.
    assert [figures[t.pk].level for t in (mixed, unlevelled, waiting)] == ["bronze", "none", ""]


def test_level_rank_orders_levels() -> None:
    ids = {}
    team = TeamFactory()
    for index, level in enumerate(("gold", "", "bronze", "odd")):
        ids[level] = RepositoryFactory(team=team, name=f"r{index}", level=level).pk
    ranked = dict(Repository.objects.annotate(rank=level_rank()).values_list("pk", "rank"))
    assert [ranked[ids[level]] for level in ("gold", "", "bronze", "odd")] == [3, 0, 1, 0]
    assert LEVELS == ("none", "bronze", "silver", "gold")


def test_in_force_is_one_definition() -> None:
    repository = RepositoryFactory()
    rule = next(iter(rules().values()))
    now = timezone.now()
    live = WaiverFactory(repository=repository, rule=rule, expires_at=now + timedelta(days=1))
    expired = WaiverFactory(repository=repository, rule=rule, expires_at=now - timedelta(hours=1))
    revoked = WaiverFactory(
        repository=repository, rule=rule, expires_at=now + timedelta(days=1), revoked_at=now
    )
    future = WaiverFactory(repository=repository, rule=rule, expires_at=now + timedelta(days=9))
    Waiver.objects.update(created_at=now - timedelta(days=1))
    Waiver.objects.filter(pk=future.pk).update(created_at=now + timedelta(days=1))
    assert set(Waiver.objects.in_force(now).values_list("pk", flat=True)) == {live.pk}
    later = now + timedelta(days=2)
    assert set(Waiver.objects.in_force(later).values_list("pk", flat=True)) == {future.pk}
    assert expired.pk in Waiver.objects.in_force(now - timedelta(hours=2)).values_list(
        "pk", flat=True
    )
    assert revoked.pk in Waiver.objects.in_force(now - timedelta(seconds=1)).values_list(
        "pk", flat=True
    )


def test_a_team_without_a_scanned_repository_is_not_scanned_everywhere(client: Client) -> None:
    """Before: the overview showed such a team at "No level", the API and the CSV at ""."""
    ids = sorted(rules())[:3]
    scanned, waiting = TeamFactory(), TeamFactory()
    store_scan(RepositoryFactory(team=scanned), dict.fromkeys(ids, "pass"))
    RepositoryFactory(team=waiting)
    assert _overview_level(client, waiting.slug) == ""
    api = {t["slug"]: t for t in client.get("/api/v1/teams").json()["data"]}
    org = {r["slug"]: r for r in _csv(client.get("/exports/organisation.csv"))}
    assert (api[waiting.slug]["level"], org[waiting.slug]["level"]) == ("", "")
    assert _overview_level(client, scanned.slug) == api[scanned.slug]["level"] == "gold"


def test_a_repository_without_a_succeeded_scan_does_not_count_for_its_team(
    client: Client,
) -> None:
    """Before: the overview, API and CSV averaged a stored score whose scan was gone."""
    ids = sorted(rules())[:3]
    team = TeamFactory()
    store_scan(RepositoryFactory(team=team), dict.fromkeys(ids, "pass"))
    orphan = RepositoryFactory(team=team)
    store_scan(orphan, {**dict.fromkeys(ids, "pass"), ids[0]: "fail"})
    Scan.objects.filter(repository=orphan).delete()  # latest_scan is set to NULL, score stays
    api = client.get(f"/api/v1/teams/{team.slug}").json()
    org = {r["slug"]: r for r in _csv(client.get("/exports/organisation.csv"))}
    assert api["score"] == 100.0
    assert float(org[team.slug]["score"]) == 100.0
    html = client.get("/").content.decode()
    assert re.search(rf'href="/teams/{team.slug}/">[^<]*</a></td>\s*<td class="num">100.0<', html)


@pytest.fixture
def results_org() -> dict[str, Any]:
    ids = sorted(rules())[:4]
    team, other = TeamFactory(slug="platform"), TeamFactory(slug="data")
    api = RepositoryFactory(team=team, name="api")
    ledger = RepositoryFactory(team=other, name="ledger")
    gone = RepositoryFactory(team=other, name="gone")
    store_scan(api, {ids[0]: "fail", ids[1]: "pass", ids[2]: "warn", ids[3]: "fail"})
    store_scan(ledger, {ids[0]: "fail", ids[1]: "fail", ids[2]: "pass", ids[3]: "pass"})
    store_scan(gone, dict.fromkeys(ids, "fail"))
    Repository.objects.filter(pk=gone.pk).update(active=False)
    WaiverFactory(repository=ledger, rule=rules()[ids[0]])
    return {"ids": ids, "api": api, "ledger": ledger}


def _api_rows(client: Client, query: str) -> set[tuple[str, str, str]]:
    names = dict(Repository.objects.values_list("pk", "name"))
    body = client.get(f"/api/v1/results?per_page=100&{query}").json()
    return {(names[r["repository_id"]], r["rule_id"], r["effective_status"]) for r in body["data"]}


def _csv_rows(client: Client, query: str) -> set[tuple[str, str, str]]:
    rows = _csv(client.get(f"/exports/results.csv?{query}"))
    return {(r["repository"], r["rule"], r["status"]) for r in rows}


@pytest.mark.parametrize(
    "query",
    [
        "",
        "status=fail",
        "status=pass",
        "effective_status=waived",
        "effective_status=fail",
        "team=data",
        "team=data&status=fail",
        "section=SEC",
        "repository={ledger}",
        "repository={ledger}&status=fail",
    ],
)
def test_results_api_and_csv_return_the_same_rows(
    client: Client, results_org: dict[str, Any], query: str
) -> None:
    query = query.format(ledger=results_org["ledger"].pk)
    api, exported = _api_rows(client, query), _csv_rows(client, query)
    assert api == exported
    assert api or query.startswith("section")


def test_a_waived_failure_is_a_failing_result_shown_as_waived(
    client: Client, results_org: dict[str, Any]
) -> None:
    waived = ("ledger", results_org["ids"][0], "waived")
    assert waived in _api_rows(client, "status=fail")
    assert waived in _csv_rows(client, "status=fail")
    assert _csv_rows(client, "effective_status=waived") == {waived}


def test_the_overview_level_counts_add_up(client: Client) -> None:
    """Before: Gold + Silver + Bronze of N active, with nothing said of the rest."""
    ids = sorted(rules())[:3]
    team = TeamFactory()
    store_scan(RepositoryFactory(team=team), dict.fromkeys(ids, "pass"))
    critical = next(r.rule_id for r in rules().values() if r.severity == "critical")
    store_scan(RepositoryFactory(team=team), {**dict.fromkeys(ids, "pass"), critical: "fail"})
    RepositoryFactory(team=team)
    html = client.get("/").content.decode()
    counts = {
        label: int(value)
        for value, label in re.findall(
            r'<div class="stat-value">(\d+)</div><div class="muted">(at [^<]+|not scanned yet)<',
            html,
        )
    }
    assert counts == {
        "at Gold": 1,
        "at Silver": 0,
        "at Bronze": 0,
        "at no level": 1,
        "not scanned yet": 1,
    }
    assert "active repositories (2 scanned)" in html
