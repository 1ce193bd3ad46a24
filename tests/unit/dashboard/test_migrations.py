"""Data migrations on existing data: run forward from the schema before them, on the test DB.

`0004_rollout` fills `CheckResult.findings` and `RepositoryDailyScore.open_rules` for rows
stored before it. On PostgreSQL it does so with set-based SQL (row by row took hours at
organisation scale), elsewhere in Python; CI runs these tests on PostgreSQL, a plain local
run on SQLite, and both must give the same answers below.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from django.apps.registry import Apps
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = ("dashboard", "0003_webhooks_and_api_tokens")
AFTER = ("dashboard", "0004_rollout")

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def _migrate(target: tuple[str, str]) -> Apps:
    executor = MigrationExecutor(connection)
    executor.migrate([target])
    executor.loader.build_graph()
    return executor.loader.project_state([target]).apps


@pytest.fixture
def old_apps() -> Iterator[Apps]:
    """The schema of 0003; the latest schema again afterwards, whatever the test did."""
    apps = _migrate(BEFORE)
    try:
        yield apps
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())


def _at(day: date, hour: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def test_0004_fills_findings_and_open_rules_of_existing_rows(old_apps: Apps) -> None:
    m = old_apps.get_model
    team = m("dashboard", "Team").objects.create(name="Payments", slug="payments")
    repos = [
        m("dashboard", "Repository").objects.create(
            team=team, name=name, clone_url=f"https://example.com/{name}.git",
            url_key=f"example.com/{name}",
        )
        for name in ("plain", "governed")
    ]  # fmt: skip
    standard = m("dashboard", "Standard").objects.create(key="std", name="Std", version="1")
    rules = {
        code: m("dashboard", "Rule").objects.create(
            standard=standard,
            rule_id=code,
            title=code,
            section="S",
            position=position,
            weight=1,
            severity="major",
        )
        for position, code in ((3, "C-3"), (1, "A-1"), (2, "B-2"), (4, "D-4"), (5, "E-5"))
    }
    day1, day2, day3 = date(2026, 3, 1), date(2026, 3, 2), date(2026, 3, 3)
    statuses = {"A-1": "fail", "B-2": "pass", "C-3": "manual", "D-4": "warn", "E-5": "error"}
    evidence = {"A-1": [{"path": "a.py"}, {"path": "b.py"}], "D-4": [{"path": "c.py"}]}
    scans = {}
    for repo in repos:
        scan = m("dashboard", "Scan").objects.create(
            repository=repo, status="succeeded", trigger="manual"
        )
        scans[repo.name] = scan
        for code, status in statuses.items():
            m("dashboard", "CheckResult").objects.create(
                scan=scan, rule=rules[code], status=status, evidence=evidence.get(code, [])
            )
        for day in (day1, day2, day3):
            m("dashboard", "RepositoryDailyScore").objects.create(
                repository=repo, date=day, score=50.0, scan=scan
            )
    m("dashboard", "RepositoryDailyScore").objects.create(
        repository=repos[0], date=date(2026, 2, 28), score=None, scan=None
    )
    governed = repos[1]
    waiver = m("dashboard", "Waiver")
    attestation = m("dashboard", "Attestation")
    # A-1 waived from day 2 on; D-4 waived on day 1 only (expired on day 2 at noon);
    # E-5 waived but revoked on day 1 at noon; C-3 (manual) attested on day 3.
    for code, created, expires, revoked in (
        ("A-1", _at(day2, 9), _at(day3, 9) + timedelta(days=30), None),
        ("D-4", _at(day1, 1), _at(day2, 12), None),
        ("E-5", _at(day1, 1), _at(day3, 23), _at(day1, 12)),
    ):
        row = waiver.objects.create(
            repository=governed,
            rule=rules[code],
            reason="r",
            expires_at=expires,
            revoked_at=revoked,
        )
        waiver.objects.filter(pk=row.pk).update(created_at=created)  # auto_now_add
    row = attestation.objects.create(
        repository=governed,
        rule=rules["C-3"],
        note="n",
        expires_at=_at(day3, 23) + timedelta(days=9),
    )
    attestation.objects.filter(pk=row.pk).update(created_at=_at(day3, 8))

    apps = _migrate(AFTER)

    results = apps.get_model("dashboard", "CheckResult").objects
    findings = {(r.scan.repository.name, r.rule.rule_id): r.findings for r in results.all()}
    assert findings[("plain", "A-1")] == 2
    assert findings[("governed", "D-4")] == 1
    assert findings[("plain", "B-2")] == 0
    daily = apps.get_model("dashboard", "RepositoryDailyScore").objects
    open_rules = {(d.repository.name, d.date): d.open_rules for d in daily.all()}
    every_open = ["A-1", "C-3", "D-4", "E-5"]  # rule order (position), pass excluded
    assert open_rules[("plain", day1)] == every_open
    assert open_rules[("plain", day3)] == every_open
    assert open_rules[("plain", date(2026, 2, 28))] == []  # no scan that day
    assert open_rules[("governed", day1)] == ["A-1", "C-3", "E-5"]  # D-4 waived
    assert open_rules[("governed", day2)] == ["C-3", "D-4", "E-5"]  # A-1 waived, D-4 expired
    assert open_rules[("governed", day3)] == ["D-4", "E-5"]  # C-3 attested too
