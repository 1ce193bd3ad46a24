"""The weekly digest (dashboard/services/notify/weekly.py, subscriptions.py): its content for a
known week, opt-in per user and scope, the CSV attachment as the export pages serve it, and
one message per subscriber and ISO week however often the task runs."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from celery.schedules import crontab
from django.core import mail
from django.test import Client
from django.utils import timezone

from dashboard.celery import app
from dashboard.models import (
    Delivery,
    DigestSubscription,
    Membership,
    Notification,
    Repository,
    RepositoryDailyScore,
    Rule,
    Scan,
    Team,
    TeamDailyScore,
)
from dashboard.selectors.changes import fix_first, what_changed
from dashboard.services.notify import subscriptions, weekly
from dashboard.services.notify.events import save_team_settings
from dashboard.services.notify.subscriptions import DigestRefused, Scope
from dashboard.tasks import deliver_notification, send_weekly_digests
from tests.factories import RepositoryFactory, ScanFactory, TeamFactory, WaiverFactory
from tests.notify import Receiver, http_receiver, store

pytestmark = pytest.mark.django_db

SITE = "https://ys.example.com"
PASS3 = {"DEP-001": "pass", "DEP-002": "pass", "DEP-003": "pass"}


@pytest.fixture(autouse=True)
def _site(settings: Any) -> None:
    settings.SITE_URL = SITE


@pytest.fixture
def receiver() -> Any:
    with http_receiver() as running:
        yield running


def _title(rule_id: str) -> str:
    return Rule.objects.filter(rule_id=rule_id).order_by("standard_id").first().title  # type: ignore[union-attr]


def _day(repository: Repository, day: date, score: float, level: str, *open_rules: str) -> None:
    RepositoryDailyScore.objects.create(
        repository=repository, date=day, score=score, level=level, open_rules=list(open_rules)
    )


@pytest.fixture
def week(personas: dict[str, Any]) -> dict[str, Any]:
    """A week in two teams: api gains a level, web loses one, worker moves up, new joins,
    broken fails to scan; DEP-001 fails in api and web, DEP-002 in web; four waivers."""
    payments = personas["team"]
    search = TeamFactory(name="Search", slug="search")
    repos = {
        name: RepositoryFactory(team=team, name=name)
        for name, team in (
            ("api", payments),
            ("web", payments),
            ("worker", search),
            ("new", search),
            ("broken", search),
        )
    }
    store(repos["api"], PASS3 | {"DEP-001": "fail"}, sha="1" * 40)
    store(repos["web"], PASS3 | {"DEP-001": "fail", "DEP-002": "fail"}, sha="2" * 40)
    store(repos["worker"], PASS3, sha="3" * 40)
    store(repos["new"], PASS3, sha="4" * 40)
    ScanFactory(repository=repos["broken"], status=Scan.Status.FAILED, finished_at=None)
    old = timezone.now() - timedelta(days=400)
    Repository.objects.exclude(name="new").update(created_at=old)
    # The week's roll-ups, as close_day leaves them: the two ends of the period.
    end = timezone.now().date()
    start = end - timedelta(days=7)
    RepositoryDailyScore.objects.all().delete()
    TeamDailyScore.objects.all().delete()
    _day(repos["api"], start, 60.0, "bronze", "LAY-001")
    _day(repos["api"], end, 80.0, "silver", "LAY-001", "STY-001")
    _day(repos["web"], start, 90.0, "gold")
    _day(repos["web"], end, 70.0, "bronze", "STY-001", "DOC-001")
    _day(repos["worker"], start, 50.0, "none", "DOC-001")
    _day(repos["worker"], end, 55.0, "none", "DOC-001")
    _day(repos["new"], end, 20.0, "none")
    for team, before, after in ((payments, 75.0, 75.0), (search, 50.0, 37.5)):
        TeamDailyScore.objects.create(team=team, date=start, score=before, repositories=2)
        TeamDailyScore.objects.create(team=team, date=end, score=after, repositories=2)
    rule = {r.rule_id: r for r in Rule.objects.filter(rule_id__in=("DEP-002", "DEP-003"))}
    now = timezone.now()
    waivers = {
        "api": WaiverFactory(
            repository=repos["api"], rule=rule["DEP-003"], expires_at=now + timedelta(days=10)
        ),
        "worker": WaiverFactory(
            repository=repos["worker"], rule=rule["DEP-002"], expires_at=now + timedelta(days=3)
        ),
        # Later than 30 days, and revoked: not listed.
        "later": WaiverFactory(
            repository=repos["web"], rule=rule["DEP-003"], expires_at=now + timedelta(days=40)
        ),
        "revoked": WaiverFactory(
            repository=repos["web"],
            rule=rule["DEP-002"],
            expires_at=now + timedelta(days=5),
            revoked_at=now - timedelta(minutes=1),
        ),
    }
    return {"start": start, "end": end, "search": search, "waivers": waivers, **repos}


def _repo(week: dict[str, Any], name: str) -> str:
    return f"{SITE}/repositories/{week[name].pk}/"


def _expires(week: dict[str, Any], name: str) -> str:
    return str(week["waivers"][name].expires_at.date().isoformat())


def _fix_lines(team: Team | None = None) -> list[str]:
    return [
        f"{n}. {f.rule_id} {f.title} ({f.severity}): +{f.score:.1f} points across "
        f"{f.repositories} {'repository' if f.repositories == 1 else 'repositories'}  {SITE}{f.url}"
        for n, f in enumerate(fix_first(team, limit=5), 1)
    ]


def test_the_organisation_digest_of_a_known_week(week: dict[str, Any]) -> None:
    digest = weekly.render(Scope())

    start, end = week["start"].isoformat(), week["end"].isoformat()
    note = what_changed(week["start"], week["end"]).team_movers_up[0].note
    assert "new scored 20.0" in note
    fixes = fix_first(limit=5)
    assert [(f.rule_id, f.repositories) for f in fixes] == [("DEP-001", 2), ("DEP-002", 1)]
    stamp = week["end"].strftime("%Y%m%d")
    assert digest.subject == f"Weekly digest of the organisation, week to {end}"
    assert digest.body.splitlines() == [
        f"Weekly digest of the organisation: {start} to {end} "
        f"(week {weekly.iso_week(week['end'])}).",
        "",
        "Levels gained (1)",
        f"- api (Payments): Bronze → Silver  {_repo(week, 'api')}",
        "",
        "Levels lost (1)",
        f"- web (Payments): Gold → Bronze  {_repo(week, 'web')}",
        "",
        "What changed",
        "Moved up:",
        f"- Search (team): 50.0 → 37.5, +5.0 ({note})  {SITE}/teams/search/",
        f"- api: 60.0 → 80.0, +20.0  {_repo(week, 'api')}",
        f"- worker: 50.0 → 55.0, +5.0  {_repo(week, 'worker')}",
        "Moved down:",
        f"- web: 90.0 → 70.0, -20.0  {_repo(week, 'web')}",
        "New failures:",
        f"- STY-001 {_title('STY-001')}: 2 newly failing (api, web)  {SITE}/rules/STY-001/",
        f"- DOC-001 {_title('DOC-001')}: 1 newly failing (web)  {SITE}/rules/DOC-001/",
        "Onboarded (1, not regressions): new",
        "Failing to scan (1): broken",
        "",
        "Fix first",
        *_fix_lines(),
        "",
        "Waivers expiring in the next 30 days (2)",
        f"- worker (Search): DEP-002 {_title('DEP-002')}, expires {_expires(week, 'worker')}"
        f"  {_repo(week, 'worker')}",
        f"- api (Payments): DEP-003 {_title('DEP-003')}, expires {_expires(week, 'api')}"
        f"  {_repo(week, 'api')}",
        "",
        f"Attached: yardstick-organisation-{stamp}.csv, the scorecard of the organisation "
        f"(as {SITE}/exports/organisation.csv).",
        f"Preview or stop this digest: {SITE}/digest/",
    ]
    assert len(_fix_lines()) == 2
    assert digest.attachment_name == f"yardstick-organisation-{stamp}.csv"


def test_a_team_digest_keeps_to_the_team(week: dict[str, Any]) -> None:
    team = week["api"].team
    digest = weekly.render(Scope(team))

    body = digest.body
    assert digest.subject.startswith("Weekly digest of Payments, week to ")
    assert f"- api: 60.0 → 80.0, +20.0  {_repo(week, 'api')}" in body
    for other in ("worker", "Search", "broken", "new scored"):
        assert other not in body, other
    assert "\n".join(_fix_lines(team)) in body
    assert "Waivers expiring in the next 30 days (1)\n- api (Payments): DEP-003" in body
    assert digest.attachment_name == f"yardstick-team-payments-{week['end']:%Y%m%d}.csv"
    assert f"(as {SITE}/exports/teams/payments.csv)" in body


def test_an_empty_week_says_so(personas: dict[str, Any]) -> None:
    body = weekly.render(Scope(personas["team"])).body

    for section in (
        "Levels gained (0)\n- none",
        "Levels lost (0)\n- none",
        "What changed\nNothing changed.",
        "Fix first\nNo failing or warning rule to fix.",
        "Waivers expiring in the next 30 days (0)\n- none",
    ):
        assert section in body, section


def test_the_period_ends_on_the_latest_roll_up_when_today_has_none(week: dict[str, Any]) -> None:
    RepositoryDailyScore.objects.filter(date=week["end"]).update(date=week["end"] - timedelta(1))
    TeamDailyScore.objects.filter(date=week["end"]).update(date=week["end"] - timedelta(1))

    digest = weekly.render(Scope())

    assert digest.end == week["end"] - timedelta(days=1)
    assert digest.start == digest.end - timedelta(days=7)


# ----- who may subscribe ----------------------------------------------------------------------
def test_only_managers_subscribe_to_the_organisation_digest(personas: dict[str, Any]) -> None:
    for role in ("member", "outsider", "maintainer"):
        with pytest.raises(DigestRefused, match="Only managers may subscribe"):
            subscriptions.subscribe(personas[role], Scope(), enabled=True)
    assert not DigestSubscription.objects.exists()
    for role in ("manager", "admin"):
        subscriptions.subscribe(personas[role], Scope(), enabled=True)
    assert DigestSubscription.objects.filter(team=None, enabled=True).count() == 2


def test_only_a_teams_maintainers_subscribe_to_its_digest(personas: dict[str, Any]) -> None:
    payments = Scope(personas["team"])
    for role in ("member", "outsider", "manager"):
        with pytest.raises(DigestRefused, match="Only Payments's maintainers may subscribe"):
            subscriptions.subscribe(personas[role], payments, enabled=True)
    subscriptions.subscribe(personas["maintainer"], payments, enabled=True)
    assert [s.key for s in subscriptions.available_scopes(personas["maintainer"])] == ["payments"]
    assert [s.key for s in subscriptions.available_scopes(personas["manager"])] == ["org"]
    assert subscriptions.available_scopes(personas["member"]) == []


def test_subscribing_twice_keeps_one_row_and_turning_off_keeps_it_off(
    personas: dict[str, Any],
) -> None:
    manager = personas["manager"]
    subscriptions.subscribe(manager, Scope(), enabled=True)
    subscriptions.subscribe(manager, Scope(), enabled=True)
    subscriptions.subscribe(manager, Scope(), enabled=False)
    assert DigestSubscription.objects.filter(user=manager).count() == 1
    assert subscriptions.enabled_scopes(manager) == set()


# ----- sending ---------------------------------------------------------------------------------
def _deliver() -> None:
    for pk in Delivery.objects.filter(status=Delivery.Status.PENDING).values_list("pk", flat=True):
        assert deliver_notification(pk) == Delivery.Status.SENT


def test_nobody_subscribed_nothing_is_sent(
    personas: dict[str, Any], receiver: Receiver, week: dict[str, Any]
) -> None:
    save_team_settings(
        personas["maintainer"],
        personas["team"],
        emails="oncall@example.com",
        slack_url=f"{receiver.url}/slack",
    )

    assert weekly.send_weekly_digests() == 0
    _deliver()

    assert not Notification.objects.filter(kind=Notification.Kind.WEEKLY_DIGEST).exists()
    assert mail.outbox == []
    assert receiver.requests == []


def test_each_subscriber_gets_one_email_with_the_csv(
    personas: dict[str, Any], week: dict[str, Any]
) -> None:
    subscriptions.subscribe(personas["manager"], Scope(), enabled=True)
    subscriptions.subscribe(personas["admin"], Scope(), enabled=True)

    assert weekly.send_weekly_digests() == 2
    _deliver()

    digest = weekly.render(Scope())
    assert sorted(m.to[0] for m in mail.outbox) == ["ada@example.com", "manon@example.com"]
    for message in mail.outbox:
        assert len(message.to) == 1  # nobody sees who else receives it
        assert message.subject == digest.mail_subject
        assert message.body == digest.body
        [(name, content, mimetype)] = message.attachments
        assert (name, mimetype) == (digest.attachment_name, "text/csv")
        assert content.encode() == digest.attachment


def test_unsubscribed_users_and_those_who_lost_the_role_get_nothing(
    personas: dict[str, Any], week: dict[str, Any]
) -> None:
    subscriptions.subscribe(personas["manager"], Scope(), enabled=True)
    subscriptions.subscribe(personas["manager"], Scope(), enabled=False)
    subscriptions.subscribe(personas["maintainer"], Scope(personas["team"]), enabled=True)
    Membership.objects.filter(user=personas["maintainer"]).update(role="member")

    assert weekly.send_weekly_digests() == 0
    _deliver()

    assert mail.outbox == []


def test_the_csv_is_byte_identical_to_the_export(
    client: Client, personas: dict[str, Any], week: dict[str, Any]
) -> None:
    subscriptions.subscribe(personas["manager"], Scope(), enabled=True)
    subscriptions.subscribe(personas["maintainer"], Scope(personas["team"]), enabled=True)
    weekly.send_weekly_digests()
    _deliver()
    client.force_login(personas["member"])

    for url in ("/exports/organisation.csv", "/exports/teams/payments.csv"):
        response = client.get(url)
        exported = b"".join(response.streaming_content)  # type: ignore[attr-defined]
        sent = [
            (name, content)
            for message in mail.outbox
            for name, content, _ in message.attachments
            if f'filename="{name}"' in response["Content-Disposition"]
        ]
        assert len(sent) == 1, url
        assert sent[0][1].encode() == exported, url
        assert exported.count(b"\r\n") > 1  # a header and rows, not an empty file


def test_sending_twice_in_a_week_sends_once(
    personas: dict[str, Any], receiver: Receiver, week: dict[str, Any]
) -> None:
    save_team_settings(
        personas["maintainer"],
        personas["team"],
        emails="oncall@example.com",
        slack_url=f"{receiver.url}/slack",
    )
    subscriptions.subscribe(personas["maintainer"], Scope(personas["team"]), enabled=True)

    assert send_weekly_digests() == {"digests": 2}  # the maintainer's e-mail, the channel's post
    assert send_weekly_digests() == {"digests": 0}  # redelivered: nothing new
    later_that_week = timezone.now() + timedelta(hours=1)
    assert weekly.send_weekly_digests(later_that_week) == 0
    _deliver()

    assert [m.to for m in mail.outbox] == [["maya@example.com"]]  # not the team's recipients
    [post] = receiver.requests
    assert post.path == "/slack"
    week_key = weekly.iso_week(timezone.now().date())
    keys = set(Notification.objects.values_list("dedupe_key", flat=True))
    team_id = personas["team"].pk
    assert keys == {
        f"weekly:team:{team_id}:{week_key}",
        f"weekly:team:{team_id}:{week_key}:user:{personas['maintainer'].pk}",
    }
    assert weekly.send_weekly_digests(timezone.now() + timedelta(days=7)) == 2  # next week


def test_a_new_subscriber_later_in_the_week_gets_that_weeks_digest_only(
    personas: dict[str, Any], week: dict[str, Any]
) -> None:
    subscriptions.subscribe(personas["manager"], Scope(), enabled=True)
    assert weekly.send_weekly_digests() == 1
    subscriptions.subscribe(personas["admin"], Scope(), enabled=True)
    assert weekly.send_weekly_digests() == 1
    _deliver()
    assert sorted(m.to[0] for m in mail.outbox) == ["ada@example.com", "manon@example.com"]


def test_the_weekly_digest_runs_on_monday_morning() -> None:
    app.loader.import_default_modules()
    entry = app.conf.beat_schedule["weekly-digests"]
    assert entry["task"] == "dashboard.send_weekly_digests"
    assert entry["schedule"] == crontab(minute=45, hour=8, day_of_week="mon")
    assert "dashboard.send_weekly_digests" in app.tasks
