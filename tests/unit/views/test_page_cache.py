"""Cached page panels: served again without their queries, never stale, never another's."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from dashboard.models import Repository, Rule, Team, Waiver
from dashboard.observability.metrics import REGISTRY
from dashboard.services.governance import waivers as governance
from dashboard.services.infra import page_versions
from dashboard.services.scoring import rollups
from dashboard.templatetags.yardstick import level_badge, status_badge
from dashboard.views import pagecache
from dashboard.views.panels import with_current_ages
from tests.factories import RepositoryFactory
from tests.notify import store
from tests.orgdata import build_org

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}
MAIN = re.compile(r'<main id="main">(.*)</main>', re.DOTALL)


def _get(client: Client, url: str, **headers: str) -> tuple[str, int]:
    """The page's main content (or the whole partial) and its SQL query count."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, headers=headers)
    assert response.status_code == 200, response.content[:300]
    html = response.content.decode()
    found = MAIN.search(html)
    return (found.group(1) if found else html), len(queries)


def _hits(panel: str) -> float:
    value = REGISTRY.get_sample_value(
        "yardstick_page_cache_total", {"panel": panel, "result": "hit"}
    )
    return value or 0.0


def _statuses(result: str = "pass") -> dict[str, str]:
    rules = Rule.objects.filter(standard__key="python-backend", retired=False)
    return {rule.rule_id: result for rule in rules}


def _pages() -> list[tuple[str, dict[str, str], str]]:
    team = Team.objects.exclude(slug="payments").order_by("pk").first()
    repository = Repository.objects.exclude(latest_scan=None).order_by("pk").first()
    assert team
    assert repository
    return [
        ("/", {}, "overview"),
        ("/?sort=name&page=1", HTMX, "overview-teams"),
        (f"/teams/{team.slug}/", {}, "team"),
        (f"/teams/{team.slug}/?sort=name", HTMX, "team-repositories"),
        ("/repositories/", {}, "repositories"),
        ("/repositories/?q=service", HTMX, "repositories-table"),
        (f"/repositories/{repository.pk}/", {}, "repository-results"),
        (f"/repositories/{repository.pk}/?status=fail&partial=results", HTMX, "repository-results"),
        ("/rules/LAY-001/", {}, "rule"),
        ("/rules/LAY-001/?status=fail", HTMX, "rule-results"),
    ]


def test_a_second_request_is_served_from_the_cache(
    client: Client, personas: dict[str, Any]
) -> None:
    build_org(teams=2, repositories=2, days=3)
    client.force_login(personas["member"])
    for url, headers, panel in _pages():
        first, uncached = _get(client, url, **headers)
        hits = _hits(panel)
        second, cached = _get(client, url, **headers)
        assert _hits(panel) > hits, url
        assert cached < uncached, url
        assert second == first, url


@pytest.mark.slow
def test_cached_query_counts_do_not_grow_with_the_data(
    client: Client, personas: dict[str, Any]
) -> None:
    client.force_login(personas["member"])

    def cached_counts() -> list[int]:
        counts = []
        for url, headers, _ in _pages():
            _get(client, url, **headers)
            counts.append(_get(client, url, **headers)[1])
        return counts

    build_org(teams=2, repositories=2, days=3)
    small = cached_counts()
    build_org(teams=4, repositories=3, days=4, seed=11)
    assert cached_counts() == small


def test_a_new_scan_shows_on_the_next_request(client: Client, personas: dict[str, Any]) -> None:
    team = personas["team"]
    repository = RepositoryFactory(team=team, name="ledger")
    store(repository, _statuses("pass"), sha="1" * 40)
    client.force_login(personas["member"])
    pages = {
        "overview": "/",
        "team": f"/teams/{team.slug}/",
        "repositories": "/repositories/",
        "repository": f"/repositories/{repository.pk}/",
        "results": f"/repositories/{repository.pk}/?status=fail&partial=results",
        "rule": "/rules/LAY-001/",
    }
    before = {name: _get(client, url)[0] for name, url in pages.items()}
    assert "100.0" in before["team"]
    assert "status-fail" not in before["results"]

    store(repository, {**_statuses("pass"), "LAY-001": "fail"}, sha="2" * 40)

    after = {name: _get(client, url)[0] for name, url in pages.items()}
    assert all(after[name] != before[name] for name in pages), [
        name for name in pages if after[name] == before[name]
    ]
    assert "status-fail" in after["results"]
    assert re.search(r"status-fail\">fail</span> 1", after["rule"])
    assert "2222222" in after["repository"]  # the new scan in the live part too


def test_governance_changes_show_on_the_next_request(
    client: Client, personas: dict[str, Any]
) -> None:
    repository = RepositoryFactory(team=personas["team"])
    store(repository, {**_statuses("pass"), "LAY-001": "fail"})
    client.force_login(personas["member"])
    url = f"/repositories/{repository.pk}/?status=waived&partial=results"
    assert "LAY-001" not in _get(client, url, **HTMX)[0]

    rule = Rule.objects.get(rule_id="LAY-001", standard__key="python-backend")
    waiver = governance.grant_waiver(
        personas["manager"],  # maintainers request waivers (issue 22)
        repository,
        rule,
        "Replaced next quarter by the new ledger.",
        timezone.now() + timedelta(days=30),
    )
    assert "LAY-001" in _get(client, url, **HTMX)[0]
    page = _get(client, f"/repositories/{repository.pk}/")[0]
    assert "Replaced next quarter" in page  # the cached governance panel too

    governance.revoke_waiver(personas["maintainer"], waiver)
    assert "LAY-001" not in _get(client, url, **HTMX)[0]
    assert "Replaced next quarter" not in _get(client, f"/repositories/{repository.pk}/")[0]


def test_a_waiver_expiring_retires_the_cached_results_at_its_expiry(
    client: Client, personas: dict[str, Any]
) -> None:
    repository = RepositoryFactory(team=personas["team"])
    store(repository, {**_statuses("pass"), "LAY-001": "fail"})
    rule = Rule.objects.get(rule_id="LAY-001", standard__key="python-backend")
    Waiver.objects.create(
        repository=repository,
        rule=rule,
        reason="Expires in a moment.",
        expires_at=timezone.now() + timedelta(seconds=2),
    )
    client.force_login(personas["member"])
    url = f"/repositories/{repository.pk}/?status=fail&partial=results"
    assert "LAY-001" not in _get(client, url, **HTMX)[0]  # waived
    time.sleep(2.2)  # no write happens: only the expiry
    assert "LAY-001" in _get(client, url, **HTMX)[0]


def test_closing_the_day_and_renaming_a_team_show_on_the_next_request(
    client: Client, personas: dict[str, Any]
) -> None:
    teams = build_org(teams=1, repositories=2, days=2)
    client.force_login(personas["member"])
    today = timezone.now().date()
    html = _get(client, "/")[0]
    assert f"on {today:%Y-%m-%d}" in html

    rollups.close_day(today)  # carries today's rows to tomorrow
    assert f"on {today + timedelta(days=1):%Y-%m-%d}" in _get(client, "/")[0]

    teams[0].name = "Renamed team"
    teams[0].save()
    assert "Renamed team" in _get(client, "/")[0]


def test_permission_dependent_panels_are_never_shared(
    client: Client, personas: dict[str, Any]
) -> None:
    team = personas["team"]
    repository = RepositoryFactory(team=team)
    store(repository, {**_statuses("pass"), "LAY-001": "fail"})
    maintainer, member = Client(), Client()
    maintainer.force_login(personas["maintainer"])
    member.force_login(personas["member"])
    maintainer_only = {
        "/": ["Register a repository"],
        f"/teams/{team.slug}/": ["Notifications", "Register a repository"],
        f"/repositories/{repository.pk}/": ["Request a waiver", "Scan now"],
    }
    for first, second, shows in ((maintainer, member, False), (member, maintainer, True)):
        page_versions.changed(everything=True)
        for url, texts in maintainer_only.items():
            _get(first, url)
            html = _get(second, url)[0]
            for text in texts:
                assert (text in html) is shows, (url, text)


def test_unknown_parameters_are_answered_uncached(client: Client, personas: dict[str, Any]) -> None:
    build_org(teams=1, repositories=1, days=1)
    client.force_login(personas["member"])
    hits = _hits("overview")
    first = _get(client, "/?utm_source=mail")[1]
    assert _get(client, "/?utm_source=mail")[1] == first
    assert _hits("overview") == hits


def test_pages_work_and_writes_go_on_with_the_cache_unreachable(
    client: Client, personas: dict[str, Any], settings: Any
) -> None:
    repository = RepositoryFactory(team=personas["team"])
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there
        }
    }
    store(repository, _statuses("pass"))  # bumping fails: logged, the scan is stored
    client.force_login(personas["member"])
    errors = REGISTRY.get_sample_value(
        "yardstick_page_cache_total", {"panel": "repository-results", "result": "error"}
    )
    html = _get(client, f"/repositories/{repository.pk}/")[0]
    assert "status-pass" in html
    after = REGISTRY.get_sample_value(
        "yardstick_page_cache_total", {"panel": "repository-results", "result": "error"}
    )
    assert (after or 0) > (errors or 0)


def test_relative_times_in_cached_panels_are_rewritten_for_now() -> None:
    html = '<td><time datetime="2026-01-01T09:00:00+00:00" data-ago>2 minutes ago</time></td>'
    now = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    assert with_current_ages(html, now) == (
        '<td><time datetime="2026-01-01T09:00:00+00:00" data-ago>3\xa0hours ago</time></td>'
    )


@pytest.mark.parametrize("months", [0, 2, 14])
def test_relative_times_read_as_timesince_says_at_every_second(months: int) -> None:
    """Ages are rendered once per elapsed minute and reused: at every second of a few minutes
    (crossing minute, hour and day boundaries) they read exactly as Django's timesince."""
    from django.utils.timesince import timesince

    when = datetime(2026, 1, 31, 23, 58, 30, 250_000, tzinfo=UTC)
    start = when + timedelta(days=30 * months, minutes=1, seconds=10)
    html = f'<time datetime="{when.isoformat()}" data-ago>?</time>'
    for second in range(0, 200, 7):
        now = start + timedelta(seconds=second)
        expected = f'<time datetime="{when.isoformat()}" data-ago>{timesince(when, now)} ago</time>'
        assert with_current_ages(html, now) == expected, now


def test_query_parts_hold_the_whole_query_or_nothing() -> None:
    from django.http import QueryDict

    assert pagecache.query_part(QueryDict("sort=name&q=a&page=2"), ("sort", "q", "page")) == (
        "page=2&q=a&sort=name"
    )
    assert pagecache.query_part(QueryDict("sort=name&evil=1"), ("sort",)) is None


def test_badges_render_like_the_partials_they_replace() -> None:
    assert level_badge("gold") == '<span class="level level-gold" title="Level: Gold">Gold</span>'
    assert level_badge(None) == (
        '<span class="level level-none" title="Level: None">No level</span>'
    )
    assert status_badge("not_applicable") == (
        '<span class="status status-not_applicable">n/a</span>'
    )
    assert status_badge("<x>") == '<span class="status status-&lt;x&gt;">&lt;x&gt;</span>'


def test_versions_survive_eviction_without_repeating() -> None:
    from django.core.cache import cache

    key = "pages:version:org"
    before = page_versions.versions({pagecache.ORG})[pagecache.ORG]
    cache.delete(key)  # evicted
    after = page_versions.versions({pagecache.ORG})[pagecache.ORG]
    assert after > before
    assert datetime.fromtimestamp(after / 1e9, tz=UTC).date() == timezone.now().date()


def test_a_panel_rendered_before_the_writer_commits_is_retired_by_the_commit(
    django_capture_on_commit_callbacks: Any,
) -> None:
    rendered: list[int] = []

    def spec() -> pagecache.Panel:
        return pagecache.Panel("probe", (pagecache.ORG,), (), lambda: rendered.append(1) or 0)

    with django_capture_on_commit_callbacks(execute=True):
        page_versions.changed()  # the writer, inside its transaction
        pagecache.one(spec())  # a reader in between stores what it could see: the old rows
        pagecache.one(spec())
        assert len(rendered) == 1
    pagecache.one(spec())  # after the commit
    assert len(rendered) == 2


def test_a_scan_queued_started_or_failed_shows_on_the_next_request(
    client: Client, personas: dict[str, Any]
) -> None:
    from dashboard.models import Scan
    from dashboard.services.scans import pipeline as scanning

    repository = RepositoryFactory(team=personas["team"])
    store(repository, _statuses("pass"), sha="1" * 40)
    client.force_login(personas["member"])
    url = f"/repositories/{repository.pk}/"
    assert "A scan is" not in _get(client, url)[0]

    scan = scanning.request_scan(repository, Scan.Trigger.MANUAL, send=False)
    assert "A scan is queued" in _get(client, url)[0]

    Scan.objects.filter(pk=scan.pk).update(status=Scan.Status.RUNNING)  # as a claim does
    scanning.fail_scan(scan.pk, "the worker stopped 3 times during this scan")
    html = _get(client, url)[0]
    assert "A scan is" not in html
    assert "the worker stopped 3 times" in html


def test_a_worker_process_retires_the_panels_the_web_process_serves() -> None:
    """quickstart's worker is another process: the default cache must be shared (Redis, or
    without it a folder under VAR_DIR), or pages would stay stale after its scans."""
    import os
    import subprocess
    import sys

    from django.conf import settings

    before = page_versions.versions({pagecache.ORG})[pagecache.ORG]
    code = (
        "import django; django.setup(); "
        "from dashboard.services.infra import page_versions; page_versions.changed()"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "dashboard.settings"}
    env["CELERY_BROKER_URL"] = settings.CELERY_BROKER_URL
    subprocess.run([sys.executable, "-c", code], env=env, check=True, timeout=60)
    assert page_versions.versions({pagecache.ORG})[pagecache.ORG] > before


def test_the_cache_is_shared_by_default_and_chosen_by_cache_url(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dashboard.config import ConfigError, load_config

    for name in ("CELERY_BROKER_URL", "CACHE_URL"):
        monkeypatch.delenv(name, raising=False)

    assert load_config(VAR_DIR=tmp_path).cache_url == "file://"
    broker = "redis://127.0.0.1:6379/3"
    assert load_config(VAR_DIR=tmp_path, CELERY_BROKER_URL=broker).cache_url == broker
    explicit = load_config(VAR_DIR=tmp_path, CELERY_BROKER_URL=broker, CACHE_URL="locmem://")
    assert explicit.cache_url == "locmem://"
    with pytest.raises(ConfigError, match="CACHE_URL"):
        load_config(VAR_DIR=tmp_path, CACHE_URL="memcached://x")


def test_the_waiver_register_is_cached_until_a_write_or_a_status_changes(
    client: Client, personas: dict[str, Any]
) -> None:
    repository = RepositoryFactory(team=personas["team"])
    rule = Rule.objects.get(rule_id="LAY-001", standard__key="python-backend")
    client.force_login(personas["member"])
    assert "No waiver granted yet" in _get(client, "/waivers/")[0]
    # A write retires the cached register at once.
    Waiver.objects.create(
        repository=repository,
        rule=rule,
        reason="Expires in a moment.",
        expires_at=timezone.now() + timedelta(seconds=2),
    )
    html, uncached = _get(client, "/waivers/?expiry=in_force")
    assert "Expires in a moment." in html
    hits = _hits("register-waivers")
    again, cached = _get(client, "/waivers/?expiry=in_force")
    assert again == html
    assert cached < uncached
    assert _hits("register-waivers") == hits + 1
    # No write, only the expiry: the cached register is not served past it.
    time.sleep(2.2)
    assert "No waiver matches these filters." in _get(client, "/waivers/?expiry=in_force")[0]
    assert ">expired</span>" in _get(client, "/waivers/")[0]


def test_a_waiver_entering_the_expiring_window_ends_the_cached_register() -> None:
    from dashboard.selectors.registers import EXPIRING_DAYS, RegisterFilters, next_change

    now = timezone.now()
    repository = RepositoryFactory()
    rule = Rule.objects.get(rule_id="LAY-001", standard__key="python-backend")
    far = now + timedelta(days=EXPIRING_DAYS + 3)
    Waiver.objects.create(repository=repository, rule=rule, reason="r", expires_at=far)
    # Granted just now: in force from its creation, which is the next change until then.
    assert next_change("waivers", RegisterFilters(), now) > now
    later = timezone.now()
    assert next_change("waivers", RegisterFilters(), later) == far - timedelta(days=EXPIRING_DAYS)
    soon = now + timedelta(days=2)
    Waiver.objects.create(repository=repository, rule=rule, reason="r", expires_at=soon)
    assert next_change("waivers", RegisterFilters(), timezone.now()) == soon
    assert next_change("attestations", RegisterFilters(), later) is None
