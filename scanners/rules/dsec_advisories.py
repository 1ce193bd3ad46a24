"""DSEC (advisories): no locked package version with a known advisory, checked offline."""

from __future__ import annotations

from typing import TYPE_CHECKING

from scanners.advisories import AdvisoryDatabaseError, Match, load_database, locked_packages
from scanners.results import Evidence, RuleResult, Status
from scanners.rules import Rule, register

if TYPE_CHECKING:
    from scanners.context import RepoContext

MAX_EVIDENCE = 50
NO_DATABASE = "no advisory database: run `yardstick advisories update`"


def _describe(match: Match) -> str:
    fix = f"; fixed in {match.fixed}" if match.fixed else "; no fixed version yet"
    summary = f": {match.advisory.summary}" if match.advisory.summary else ""
    return f"{match.package} {match.version} has {match.advisory.label}{summary}{fix}"


@register
class NoKnownAdvisories(Rule):
    """No version locked in uv.lock has a known advisory (OSV database kept offline)."""

    id = "DSEC-003"
    heuristic = (
        "Matches every package version of uv.lock (the project itself and local path packages "
        "left out) against the PyPI records of the OSV database at $YARDSTICK_ADVISORY_DB "
        "(default: the cache folder); never queries the network during a scan. Withdrawn "
        "advisories are ignored; versions that are not PEP 440 are not matched."
    )

    def evaluate(self, ctx: RepoContext) -> RuleResult:
        """Fail with the uv.lock line of each affected package version."""
        lock = ctx.uv_lock_rel
        if not ctx.exists(lock):
            return self.not_applicable("no uv.lock: nothing locked to check (see DEP-001)")
        if ctx.uv_lock is None:
            return self.not_applicable("uv.lock cannot be parsed (see DEP-001)")
        try:
            database = load_database()
        except AdvisoryDatabaseError as exc:
            return RuleResult(Status.ERROR, f"advisory database unreadable: {exc}", [])
        if database is None:
            return self.not_applicable(NO_DATABASE)
        packages = locked_packages(ctx.uv_lock, ctx.read_text(lock))
        found = [(p, m) for p in packages for m in database.matches(p.name, p.version)]
        if not found:
            return self.passed(
                f"{len(packages)} locked package(s), none among "
                f"{len(database.advisories)} known advisories"
            )
        evidence = [Evidence(lock, p.line, _describe(m)) for p, m in found[:MAX_EVIDENCE]]
        affected = len({(p.name, p.version) for p, _ in found})
        return self.failed(
            f"{affected} locked package version(s) with {len(found)} known advisory(ies)", evidence
        )
