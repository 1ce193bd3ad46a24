"""Organisations for score tests, built with the factories and the real services."""

from __future__ import annotations

from django.contrib.auth.models import User

from dashboard.models import Membership, Repository, Rule, Scan, Team
from dashboard.services.scans.results import Findings, ResultRow, store_findings
from dashboard.services.standard.sync import current_standard
from scanners import ENGINE_VERSION
from tests.factories import MembershipFactory, ScanFactory, UserFactory


def rules() -> dict[str, Rule]:
    """The current standard's rules by id."""
    return {rule.rule_id: rule for rule in current_standard().rules.all()}


def store_scan(
    repository: Repository, statuses: dict[str, str], findings: dict[str, int] | None = None
) -> Scan:
    """A scan of `repository` with these engine statuses, stored by the real pipeline."""
    findings = findings or {}
    scan = ScanFactory(repository=repository, status=Scan.Status.RUNNING)
    rows = [
        ResultRow(rule_id, status, "", [], 0.0, findings.get(rule_id, 0))
        for rule_id, status in statuses.items()
    ]
    return store_findings(scan, Findings(rows, None, ENGINE_VERSION, {}, {}), 10)


def maintainer(*teams: Team) -> User:
    """A user maintaining `teams`."""
    user = UserFactory()
    for team in teams:
        MembershipFactory(user=user, team=team, role=Membership.Role.MAINTAINER)
    return user
