"""Initiative and notification pages: roles, htmx partial, CSV, query counts that do not grow."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from dashboard.models import Initiative, Team, TeamNotificationSettings
from dashboard.services.access import secrets
from tests.browserform import date_values, form_values
from tests.orgdata import build_org

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


def _initiative(goal: str = "level") -> Initiative:
    today = timezone.now().date()
    initiative = Initiative.objects.create(
        name="Everyone at Bronze",
        goal=goal,
        target_level="bronze" if goal == "level" else "",
        start_date=today - timedelta(days=6),
        target_date=today + timedelta(days=30),
    )
    initiative.teams.set(Team.objects.all())
    return initiative


def _count(client: Client, url: str, **headers: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, headers=headers)
    assert response.status_code == 200, response.content[:300]
    return len(queries)


def test_a_manager_creates_an_initiative_and_sees_its_burn_up(
    client: Client, personas: dict[str, Any]
) -> None:
    teams = build_org(teams=2, repositories=2, days=4)
    client.force_login(personas["manager"])
    today = timezone.now().date()
    response = client.post(
        "/initiatives/new/",
        {
            "name": "Payments at Bronze",
            "goal": "level",
            "target_level": "bronze",
            "teams": [teams[0].pk],
            "start_date": (today - timedelta(days=3)).isoformat(),
            "target_date": (today + timedelta(days=30)).isoformat(),
        },
    )
    initiative = Initiative.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/initiatives/{initiative.pk}/"
    html = client.get(response["Location"]).content.decode()
    assert 'class="chart burnup"' in html
    assert "of 2 repositories done" in html
    assert "Close initiative" in html
    client.post(f"/initiatives/{initiative.pk}/close/")
    initiative.refresh_from_db()
    assert not initiative.is_open


def test_the_new_initiative_form_renders_iso_dates_and_accepts_its_own_values(
    client: Client, personas: dict[str, Any]
) -> None:
    client.force_login(personas["manager"])
    html = client.get("/initiatives/new/").content.decode()
    today = timezone.now().date()
    assert date_values(html) == {
        "start_date": today.isoformat(),
        "target_date": (today + timedelta(days=90)).isoformat(),
    }
    sent = form_values(html)
    sent.update(name=["Payments at Silver"], teams=[str(personas["team"].pk)])
    response = client.post("/initiatives/new/", sent)
    assert response.status_code == 302, response.content.decode()[-2000:]
    created = Initiative.objects.get()
    assert (created.start_date, created.target_date) == (today, today + timedelta(days=90))
    assert created.target_level == "silver"
    assert created.owner == personas["manager"]


def test_invalid_input_is_shown_on_the_form(client: Client, personas: dict[str, Any]) -> None:
    client.force_login(personas["manager"])
    html = client.post(
        "/initiatives/new/",
        {
            "name": "x",
            "goal": "rules",
            "start_date": "2026-01-01",
            "target_date": "2026-02-01",
            "teams": [personas["team"].pk],
        },
    ).content.decode()
    assert "choose at least one rule" in html
    assert not Initiative.objects.exists()


@pytest.mark.parametrize("persona", ["maintainer", "member"])
def test_only_managers_start_or_close_initiatives(
    client: Client, personas: dict[str, Any], persona: str
) -> None:
    initiative = _initiative()
    client.force_login(personas[persona])
    assert client.get("/initiatives/new/").status_code == 403
    assert client.post(f"/initiatives/{initiative.pk}/close/").status_code == 403
    assert client.get("/initiatives/").status_code == 200
    assert "New initiative" not in client.get("/initiatives/").content.decode()


def test_behind_table_swaps_in_place_by_team(client: Client, personas: dict[str, Any]) -> None:
    teams = build_org(teams=2, repositories=2)
    initiative = _initiative(goal="level")
    Initiative.objects.filter(pk=initiative.pk).update(target_level="gold")
    client.force_login(personas["member"])
    html = client.get(f"/initiatives/{initiative.pk}/?team={teams[0].slug}", headers=HTMX)
    text = html.content.decode()
    assert text.lstrip().startswith('<div id="behind">')
    assert "<html" not in text
    assert teams[1].name not in text


def test_status_csv_lists_every_repository_in_scope(
    client: Client, personas: dict[str, Any]
) -> None:
    build_org(teams=2, repositories=2)
    initiative = _initiative()
    client.force_login(personas["member"])
    html = client.get(f"/initiatives/{initiative.pk}/").content.decode()
    assert f'href="/initiatives/{initiative.pk}/status.csv"' in html
    response = client.get(f"/initiatives/{initiative.pk}/status.csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))  # type: ignore[attr-defined]
    assert len(rows) == 4
    assert set(rows[0]) == {"team", "repository", "done", "level", "missing", "as_of"}
    listing = client.get("/exports/initiatives.csv")
    (row,) = csv.DictReader(io.StringIO(b"".join(listing.streaming_content).decode()))  # type: ignore[attr-defined]
    assert row["total"] == "4"


@pytest.mark.slow
def test_query_counts_do_not_grow_with_the_data(client: Client, personas: dict[str, Any]) -> None:
    build_org(teams=2, repositories=2, days=3)
    initiative = _initiative()
    client.force_login(personas["maintainer"])
    urls = [
        "/initiatives/",
        f"/initiatives/{initiative.pk}/",
        f"/teams/{personas['team'].slug}/notifications/",
    ]
    small = [_count(client, url) for url in urls]
    small_htmx = _count(client, f"/initiatives/{initiative.pk}/?team=x", **HTMX)
    build_org(teams=4, repositories=3, days=6, seed=11)
    initiative.teams.set(Team.objects.all())
    _initiative()
    assert [_count(client, url) for url in urls] == small
    assert _count(client, f"/initiatives/{initiative.pk}/?team=x", **HTMX) == small_htmx


def test_team_notification_settings_are_for_maintainers(
    client: Client, personas: dict[str, Any]
) -> None:
    url = f"/teams/{personas['team'].slug}/notifications/"
    client.force_login(personas["member"])
    assert client.get(url).status_code == 403
    client.force_login(personas["maintainer"])
    response = client.post(
        url, {"email_recipients": "a@example.com\nb@example.com", "slack_webhook_url": "ftp://x"}
    )
    assert "use an http or https URL" in response.content.decode()
    client.post(
        url,
        {
            "email_recipients": "a@example.com\nb@example.com",
            "slack_webhook_url": "https://hooks.example.com/T0/B0/x",
            "digest": "on",
        },
    )
    prefs = TeamNotificationSettings.objects.get(team=personas["team"])
    assert prefs.recipients == ["a@example.com", "b@example.com"]
    assert prefs.digest
    assert secrets.decrypt(prefs.slack_webhook_encrypted) == "https://hooks.example.com/T0/B0/x"
    assert "hooks.example.com" not in client.get(url).content.decode()  # write-only
    client.post(url, {"email_recipients": "", "remove_slack": "on"})
    prefs.refresh_from_db()
    assert (prefs.recipients, prefs.slack_webhook_encrypted, prefs.digest) == ([], "", False)
