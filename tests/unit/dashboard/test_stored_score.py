"""A repository's stored score and level always match its latest scan under governance now.

The demo's governance step held repository objects from before their head scan: refreshing
the score from such a stale object scored an older scan (Silver 99.5 stored while the latest
scan said Gold 100). The refresh now reads the latest scan from the database itself.
"""

from __future__ import annotations

from typing import Any

import pytest

from dashboard.models import Repository, Rule, Scan
from dashboard.selectors.governance import score_scan
from dashboard.services.governance import ratchets
from dashboard.services.governance import waivers as governance
from dashboard.services.scans import deep as deep_scans
from dashboard.services.scans.results import Findings, ResultRow, store_findings
from dashboard.services.scoring.scores import refresh_repository_score
from dashboard.services.standard.sync import current_standard
from scanners.deep import DeepScanResult
from scanners.measured import Reports
from scanners.report import Report
from scanners.standard import default_standard
from tests.factories import RepositoryFactory

pytestmark = pytest.mark.django_db

# DEP-002 is major (4): failing it keeps an otherwise passing scan out of Gold.
OLDER = {"DEP-001": "pass", "DEP-002": "fail", "DEP-003": "pass", "VER-005": "manual"}
NEWER = {"DEP-001": "pass", "DEP-002": "pass", "DEP-003": "pass", "VER-005": "manual"}


def _store(repository: Repository, statuses: dict[str, str], sha: str) -> Scan:
    """Store a finished scan the way the pipeline and the demo's backfill do."""
    scan = Scan.objects.create(
        repository=repository,
        commit_sha=sha,
        status=Scan.Status.RUNNING,
        standard=current_standard(),
    )
    rows = [ResultRow(rule_id, status, "", []) for rule_id, status in statuses.items()]
    return store_findings(scan, Findings(rows, sha, "test", {}, {}), duration_ms=1)


def _stale_after_newer_scan(personas: dict[str, Any]) -> tuple[Repository, Scan]:
    """A repository object that saw an older scan stored, then a newer one stored elsewhere."""
    stale = RepositoryFactory(team=personas["team"])
    _store(stale, OLDER, "a" * 40)  # caches the older scan as `stale.latest_scan`
    newer = _store(Repository.objects.get(pk=stale.pk), NEWER, "b" * 40)
    assert stale.latest_scan_id != newer.pk
    return stale, newer


def _stored(repository: Repository) -> tuple[float | None, str]:
    row = Repository.objects.values_list("score", "level").get(pk=repository.pk)
    return row[0], row[1]


def test_attesting_with_a_stale_repository_stores_the_latest_scans_score(
    personas: dict[str, Any],
) -> None:
    """The demo's sequence: attest with the object held since registration/backfill."""
    stale, newer = _stale_after_newer_scan(personas)
    rule = Rule.objects.get(rule_id="VER-005")
    governance.attest(personas["maintainer"], stale, rule, "https://wiki.example.com/VER-005")
    expected = score_scan(newer)
    assert expected.level == "gold"
    assert _stored(stale) == (expected.score, expected.level)
    assert Repository.objects.get(pk=stale.pk).latest_scan_id == newer.pk


def test_refresh_from_a_stale_object_scores_the_latest_scan_and_updates_the_object(
    personas: dict[str, Any],
) -> None:
    stale, newer = _stale_after_newer_scan(personas)
    refreshed = refresh_repository_score(stale)
    expected = score_scan(newer)
    assert _stored(stale) == (expected.score, expected.level)
    assert (refreshed.score, refreshed.level, refreshed.latest_scan_id) == (
        expected.score,
        expected.level,
        newer.pk,
    )


def test_refresh_never_writes_other_fields_of_a_stale_object(personas: dict[str, Any]) -> None:
    stale, newer = _stale_after_newer_scan(personas)
    Repository.objects.filter(pk=stale.pk).update(name="renamed", active=False)
    stale.name = "old name"
    refresh_repository_score(stale)
    row = Repository.objects.values_list("name", "active", "latest_scan_id").get(pk=stale.pk)
    assert row == ("renamed", False, newer.pk)


def test_releasing_a_ratchet_with_a_stale_repository_scores_the_latest_scan(
    personas: dict[str, Any],
) -> None:
    stale, newer = _stale_after_newer_scan(personas)
    rule = Rule.objects.get(rule_id="DEP-002")
    ratchet = ratchets.Ratchet.objects.create(
        repository=stale, rule=rule, baseline=0, created_by=personas["maintainer"]
    )
    ratchet.repository = stale  # the release path refreshes through the ratchet's object
    ratchets.release(personas["maintainer"], ratchet)
    expected = score_scan(newer)
    assert _stored(stale) == (expected.score, expected.level)


def test_refresh_without_any_scan_clears_the_score(personas: dict[str, Any]) -> None:
    repository = RepositoryFactory(team=personas["team"])
    Repository.objects.filter(pk=repository.pk).update(score=50.0, level="bronze")
    refresh_repository_score(repository)
    assert _stored(repository) == (None, "")


def test_a_late_deep_scan_of_an_older_scan_keeps_the_newer_scans_score(
    personas: dict[str, Any],
) -> None:
    """The deep scan's object still says its scan is the latest; the database knows better."""
    repository = RepositoryFactory(team=personas["team"])
    older = _store(repository, OLDER, "a" * 40)
    older = Scan.objects.select_related("repository", "standard").get(pk=older.pk)
    assert older.repository.latest_scan_id == older.pk  # loaded before the newer scan
    newer = _store(Repository.objects.get(pk=repository.pk), NEWER, "b" * 40)
    result = DeepScanResult(Reports(), [], duration_ms=1, peak_memory_kb=1)
    report = Report(default_standard(), [], "repo", "a" * 40, "", "test")
    deep_scans.store_deep_scan(older, result, report)
    assert _stored(repository) == (score_scan(newer).score, score_scan(newer).level)
