"""A new version of the standard: recorded, marked on trends, and every latest commit judged
again under it, so the same commit has a point per version."""

from __future__ import annotations

import dataclasses
from datetime import date
from typing import Any

import pytest
from django.test import Client

from dashboard.domain.scores import score_change_cause
from dashboard.models import Repository, Rule, Scan, Standard, StandardRelease
from dashboard.selectors.repositories import repository_page
from dashboard.services.scans.results import Findings, ResultRow, store_findings
from dashboard.services.standard import sync as standards
from dashboard.tasks import reevaluate_standard
from scanners.results import Severity
from scanners.standard import RuleSpec, default_standard
from tests.factories import RepositoryFactory
from tests.notify import store
from tests.oncommit import queued_work

pytestmark = pytest.mark.django_db

STATUSES = {"DEP-001": "pass", "DEP-002": "pass", "DEP-003": "fail"}
SHA = "c" * 40


def _next_version(**changes: Any) -> Any:
    """The default standard as version 2099.1, with DEP-003 made major (it weighs more)."""
    source = default_standard()
    rules = dict(source.rules)
    rules["DEP-003"] = dataclasses.replace(rules["DEP-003"], severity=Severity.MAJOR, weight=4)
    rules.update(changes.pop("extra", {}))
    return dataclasses.replace(source, version="2099.1", rules=rules, **changes)


def test_a_new_version_rejudges_the_latest_commit_and_both_points_exist(
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
    client: Client,
    personas: dict[str, Any],
) -> None:
    repository = RepositoryFactory(team=personas["team"])
    inactive = RepositoryFactory(active=False)
    first = store(repository, STATUSES, sha=SHA)
    store(inactive, STATUSES, sha=SHA)
    old_version = first.standard_version
    assert (first.score, first.level) == (pytest.approx(100 * 12 / 14, abs=0.01), "silver")

    upgraded = _next_version()
    monkeypatch.setattr(standards, "default_standard", lambda: upgraded)
    with django_capture_on_commit_callbacks() as callbacks:
        standard = standards.current_standard()
    assert standard.version == "2099.1"
    release = StandardRelease.objects.get(version="2099.1")
    assert release.previous_version == old_version
    assert [cb.args for cb in queued_work(callbacks)] == [(standard.pk,)]
    with django_capture_on_commit_callbacks() as callbacks:
        standards.sync_standard(upgraded)  # the same version again: no second re-evaluation
    assert queued_work(callbacks) == []

    with django_capture_on_commit_callbacks() as callbacks:
        assert reevaluate_standard(standard.pk) == {"queued": 1}
    queued = Scan.objects.get(status=Scan.Status.QUEUED)
    assert (queued.repository_id, queued.ref, queued.trigger) == (repository.pk, SHA, "schedule")
    assert len(queued_work(callbacks)) == 1  # the scan task, sent after commit

    # The worker judges the same commit under the new version.
    rows = [ResultRow(rule_id, status, "", []) for rule_id, status in STATUSES.items()]
    second = store_findings(queued, Findings(rows, SHA, "0.1.0", {}, {}), duration_ms=1)
    assert second.standard_version == "2099.1"
    assert (second.score, second.level) == (pytest.approx(100 * 12 / 16, abs=0.01), "bronze")
    assert reevaluate_standard(standard.pk) == {"queued": 0}  # everyone is on 2099.1 now

    repository.refresh_from_db()
    page = repository_page(Repository.objects.select_related("latest_scan").get(pk=repository.pk))
    (change,) = page.score_changes
    assert (change.cause, change.previous.pk, change.scan.pk) == ("standard", first.pk, second.pk)
    assert change.delta == pytest.approx(-10.7, abs=0.1)
    assert page.marks == [(release.synced_at.date(), "standard 2099.1")]
    client.force_login(personas["member"])
    html = client.get(f"/repositories/{repository.pk}/").content.decode()
    assert "the standard changed" in html
    assert "standard 2099.1" in html  # the mark on the history chart
    assert "standard 2099.1" in client.get(f"/teams/{personas['team'].slug}/").content.decode()


def test_score_change_causes() -> None:
    def scan(sha: str, version: str) -> Scan:
        return Scan(commit_sha=sha, standard_version=version)

    assert score_change_cause(scan("a", "1"), scan("a", "2")) == "standard"
    assert score_change_cause(scan("a", "1"), scan("b", "1")) == "code"
    assert score_change_cause(scan("a", "1"), scan("b", "2")) == "both"
    assert score_change_cause(scan("a", "1"), scan("a", "1")) == "rescan"


def test_rules_new_in_a_version_get_its_grace_period_and_file_dates_win() -> None:
    template = default_standard().rules["DEP-002"]
    added = dataclasses.replace(template, id="DEP-099", effective_from=None)
    dated = dataclasses.replace(template, id="DEP-098", effective_from=date(2099, 5, 1))
    Rule.objects.filter(rule_id="DEP-001").update(effective_from=date(2099, 1, 15))  # in Admin
    upgraded = _next_version(
        effective_from=date(2099, 3, 1), extra={"DEP-099": added, "DEP-098": dated}
    )
    standards.sync_standard(upgraded)
    dates = dict(
        Rule.objects.filter(standard=Standard.objects.get(key=upgraded.key)).values_list(
            "rule_id", "effective_from"
        )
    )
    assert dates["DEP-099"] == date(2099, 3, 1)  # the version's grace period
    assert dates["DEP-098"] == date(2099, 5, 1)  # its own date
    assert dates["DEP-001"] == date(2099, 1, 15)  # the file names none: Admin's date stays
    assert dates["DEP-002"] is None  # not new in this version
    assert isinstance(upgraded.rules["DEP-099"], RuleSpec)
