"""Syncing the standard file into the Standard and Rule tables."""

from __future__ import annotations

from typing import Any

import pytest

from dashboard.models import Rule, Standard
from dashboard.services.standard.sync import current_standard, sync_standard
from scanners.standard import default_standard, parse_standard

pytestmark = pytest.mark.django_db


def _doc(rules: list[dict[str, Any]], version: str = "1") -> dict[str, Any]:
    return {
        "key": "custom",
        "name": "Custom standard",
        "version": version,
        "sections": {"DEP": {"title": "Dependencies", "heading": "Dependency Management"}},
        "rules": rules,
    }


def _rule(rule_id: str, title: str = "A title") -> dict[str, Any]:
    return {
        "id": rule_id,
        "section": "DEP",
        "severity": "major",
        "evaluation": "static",
        "title": title,
        "rationale": "Because.",
        "remediation": "Do it.",
    }


def test_default_standard_is_synced_after_migrate() -> None:
    standard = Standard.objects.get(key=default_standard().key)
    assert standard.rules.filter(retired=False).count() == len(default_standard().rules) == 124
    rule = standard.rules.get(rule_id="LAY-001")
    assert (rule.severity, rule.weight, rule.section) == ("critical", 8, "LAY")


def test_sync_is_idempotent() -> None:
    first = sync_standard(parse_standard(_doc([_rule("DEP-001"), _rule("DEP-002")])))
    ids = sorted(first.rules.values_list("pk", flat=True))
    again = sync_standard(parse_standard(_doc([_rule("DEP-001"), _rule("DEP-002")])))
    assert sorted(again.rules.values_list("pk", flat=True)) == ids


def test_removed_rules_are_retired_not_deleted_and_new_rules_appear() -> None:
    sync_standard(parse_standard(_doc([_rule("DEP-001"), _rule("DEP-002")])))
    sync_standard(parse_standard(_doc([_rule("DEP-001", "Renamed"), _rule("DEP-003")], "2")))
    rules = {r.rule_id: r for r in Rule.objects.filter(standard__key="custom")}
    assert set(rules) == {"DEP-001", "DEP-002", "DEP-003"}
    assert rules["DEP-002"].retired is True
    assert rules["DEP-001"].title == "Renamed"
    assert rules["DEP-003"].retired is False
    assert Standard.objects.get(key="custom").version == "2"


def test_a_retired_rule_that_returns_is_active_again() -> None:
    sync_standard(parse_standard(_doc([_rule("DEP-001"), _rule("DEP-002")])))
    sync_standard(parse_standard(_doc([_rule("DEP-001")])))
    sync_standard(parse_standard(_doc([_rule("DEP-001"), _rule("DEP-002")])))
    assert not Rule.objects.filter(standard__key="custom", retired=True).exists()


def test_current_standard_resyncs_when_the_version_changed() -> None:
    standard = Standard.objects.get(key=default_standard().key)
    Standard.objects.filter(pk=standard.pk).update(version="old")
    assert current_standard().version == default_standard().version
