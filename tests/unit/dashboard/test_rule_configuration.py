"""The organisation's rule configuration (severity, weight, enabled) lasts and is versioned.

Edited in the admin, kept apart from the bundled values, so the standard's sync (run after
every `migrate`) never overwrites it; each change is a standard version of its own
(`1.4.0+org.1`), marked on trends, and every stored score follows at once.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from dashboard.models import (
    AuditEvent,
    CheckResult,
    Repository,
    RepositoryDailyScore,
    Rule,
    Scan,
    Standard,
    StandardRelease,
)
from dashboard.selectors.governance import score_scan
from dashboard.selectors.initiatives import progress_many
from dashboard.selectors.repositories import standard_marks
from dashboard.services.governance import initiatives
from dashboard.services.scoring.scores import refresh_repository_score
from dashboard.services.standard import rule_config
from dashboard.services.standard.sync import sync_standard
from scanners.standard import default_standard, parse_standard
from tests.factories import RepositoryFactory, ScanFactory

pytestmark = pytest.mark.django_db

# DEP-001 critical (8), DEP-002 major (4), DEP-003 minor (2) in the bundled standard.
STATUSES = {"DEP-001": "pass", "DEP-002": "fail", "DEP-003": "pass"}


def _bundled() -> Standard:
    return Standard.objects.get(key=default_standard().key)


def _rule(rule_id: str) -> Rule:
    return Rule.objects.get(standard=_bundled(), rule_id=rule_id)


def _scanned() -> Repository:
    repository = RepositoryFactory()
    scan = ScanFactory(repository=repository)
    rules = {r.rule_id: r for r in Rule.objects.filter(rule_id__in=STATUSES)}
    CheckResult.objects.bulk_create(
        CheckResult(scan=scan, rule=rules[rid], status=status) for rid, status in STATUSES.items()
    )
    Repository.objects.filter(pk=repository.pk).update(latest_scan=scan)
    return refresh_repository_score(repository)


def _stored(repository: Repository) -> tuple[float | None, str]:
    row = Repository.objects.values_list("score", "level").get(pk=repository.pk)
    return row[0], row[1]


def _admin_edit(client: Client, personas: dict[str, Any], rule: Rule, **fields: str) -> Any:
    client.force_login(personas["admin"])
    data = {"severity_override": "", "weight_override": "", "enabled": "on", "effective_from": ""}
    data.update(fields)
    if data["enabled"] == "":
        del data["enabled"]
    return client.post(f"/admin/dashboard/rule/{rule.pk}/change/", data)


def test_severity_edited_in_the_admin_survives_the_sync_and_is_a_new_version(
    client: Client, personas: dict[str, Any]
) -> None:
    rule = _rule("DEP-002")
    version = _bundled().version
    response = _admin_edit(client, personas, rule, severity_override="minor")
    assert response.status_code == 302
    sync_standard()
    call_command("sync_standard", verbosity=0)
    rule.refresh_from_db()
    assert (rule.severity, rule.severity_override) == ("major", "minor")  # bundled kept visible
    assert rule.weighting.severity == "minor"
    assert _bundled().effective_version == f"{version}+org.1"
    release = StandardRelease.objects.get(version=f"{version}+org.1")
    assert release.previous_version == version
    event = AuditEvent.objects.get(action="rule.configured")
    assert event.details["changed"] == {"severity_override": ["", "minor"]}


def test_the_admin_no_longer_edits_the_bundled_values(
    client: Client, personas: dict[str, Any]
) -> None:
    rule = _rule("DEP-002")
    _admin_edit(client, personas, rule, severity="info", weight="1", severity_override="")
    rule.refresh_from_db()
    assert (rule.severity, rule.weight) == ("major", 4)
    assert not StandardRelease.objects.filter(version__contains="+org.").exists()


def test_an_edit_of_the_grace_period_alone_is_not_a_new_version(
    client: Client, personas: dict[str, Any]
) -> None:
    rule = _rule("DEP-002")
    day = (timezone.now() + timedelta(days=30)).date()
    assert _admin_edit(client, personas, rule, effective_from=day.isoformat()).status_code == 302
    rule.refresh_from_db()
    assert rule.effective_from == day
    assert _bundled().org_revision == 0


def test_disabling_a_rule_takes_it_out_of_every_score(
    client: Client, personas: dict[str, Any]
) -> None:
    repository = _scanned()
    assert _stored(repository)[1] == "bronze"  # DEP-002 (major) fails
    _admin_edit(client, personas, _rule("DEP-002"), enabled="")
    assert _stored(repository) == (100.0, "gold")
    scan = Scan.objects.get(pk=repository.latest_scan_id)
    assert score_scan(scan).open_rules == []
    today = RepositoryDailyScore.objects.get(repository=repository, date=timezone.now().date())
    assert (today.score, today.level) == (100.0, "gold")  # the trend shows the day it changed


def test_severity_and_weight_overrides_are_scored(personas: dict[str, Any]) -> None:
    repository = _scanned()
    assert _stored(repository) == (pytest.approx(100 * 10 / 14, abs=0.01), "bronze")
    rule_config.configure_rule(personas["admin"], _rule("DEP-002"), {"severity_override": "minor"})
    assert _stored(repository)[1] == "silver"  # a failing minor rule only blocks Gold
    rule_config.configure_rule(personas["admin"], _rule("DEP-002"), {"weight_override": 12})
    assert _stored(repository) == (pytest.approx(100 * 10 / 22, abs=0.01), "silver")
    assert _bundled().org_revision == 2


def test_an_unchanged_configuration_makes_no_version(personas: dict[str, Any]) -> None:
    rule = _rule("DEP-002")
    assert rule_config.configure_rule(personas["admin"], rule, {"enabled": True}) is None
    assert _bundled().org_revision == 0


@pytest.mark.parametrize("who", ["maintainer", "manager"])
def test_only_administrators_configure_rules(personas: dict[str, Any], who: str) -> None:
    with pytest.raises(PermissionDenied):
        rule_config.configure_rule(personas[who], _rule("DEP-002"), {"enabled": False})
    assert _rule("DEP-002").enabled


def test_unknown_fields_are_refused(personas: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="severity"):
        rule_config.configure_rule(personas["admin"], _rule("DEP-002"), {"severity": "info"})


def test_a_new_bundled_version_updates_the_defaults_and_keeps_the_overrides(
    personas: dict[str, Any],
) -> None:
    doc = {
        "key": "custom",
        "name": "Custom",
        "version": "1.0.0",
        "sections": {"DEP": {"title": "Dependencies", "heading": "Dependency Management"}},
        "rules": [
            {
                "id": "DEP-001",
                "section": "DEP",
                "severity": "major",
                "evaluation": "static",
                "title": "A title",
                "rationale": "Because.",
                "remediation": "Do it.",
            }
        ],
    }
    standard = sync_standard(parse_standard(doc))
    rule = standard.rules.get(rule_id="DEP-001")
    rule_config.configure_rule(personas["admin"], rule, {"severity_override": "info"})
    doc["version"] = "1.1.0"
    doc["rules"][0]["severity"] = "critical"
    standard = sync_standard(parse_standard(doc))
    rule.refresh_from_db()
    assert (rule.severity, rule.severity_override, rule.enabled) == ("critical", "info", True)
    assert standard.effective_version == "1.1.0+org.1"
    release = StandardRelease.objects.get(standard=standard, version="1.1.0+org.1")
    assert release.previous_version == "1.0.0+org.1"


def test_trends_mark_the_day_the_rules_changed(personas: dict[str, Any]) -> None:
    rule_config.configure_rule(personas["admin"], _rule("DEP-002"), {"enabled": False})
    marks = standard_marks(timezone.now().date())
    assert (timezone.now().date(), f"standard {_bundled().version}+org.1") in marks


def test_initiatives_list_what_blocks_a_level_by_the_effective_severity(
    personas: dict[str, Any],
) -> None:
    repository = _scanned()
    Scan.objects.get(pk=repository.latest_scan_id).results.filter(rule__rule_id="DEP-001").update(
        status="fail"
    )
    goal = initiatives.Goal(
        name="Silver",
        goal="level",
        target_level="silver",
        start_date=timezone.now().date(),
        target_date=timezone.now().date() + timedelta(days=30),
        teams=(repository.team,),
    )
    initiative = initiatives.create_initiative(personas["manager"], goal)
    # DEP-002 (major) now counts as minor: only the critical DEP-001 keeps it from Silver.
    rule_config.configure_rule(personas["admin"], _rule("DEP-002"), {"severity_override": "minor"})
    status = progress_many([initiative])[initiative.pk].repositories[0]
    assert status.missing == ["DEP-001"]
