"""Baselines for "new findings only": a scan of another commit, or a saved JSON report.

`--diff-base REF` scans REF's tree, checked out by the hardened `Workspace` (a scratch clone:
the repository is never executed, its symlinks never followed out of it) with the same
standard, rules and project folder as the current scan. `--baseline FILE` reads a JSON report
written earlier, whose evidence items carry their fingerprints. Either way the findings are
compared by fingerprint (`scanners.fingerprints`) over the rules both sides judged: a rule
that did not run or reported `error` on either side says nothing about what changed.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scanners.context import RepoContext
from scanners.engine import scan
from scanners.fingerprints import (
    FINDING_STATUSES,
    Comparison,
    Finding,
    compare,
    fingerprint,
    report_findings,
)
from scanners.formats.json_report import ReportFormatError, load_json
from scanners.measured import Reports
from scanners.repo_url import UNSAFE_CHAR
from scanners.report import Report
from scanners.results import Severity, Status
from scanners.standard import Standard
from scanners.workspace import Workspace, WorkspacePolicy, default_cache_dir

GIT_TIMEOUT_S = 60


class BaselineError(Exception):
    """The baseline cannot be had: unknown ref, unreadable or invalid report."""


@dataclass(frozen=True, slots=True)
class Baseline:
    """What the current scan is compared with."""

    label: str  # for people: "origin/main (1a2b3c4d)", "report.json"
    findings: list[Finding]
    judged: frozenset[str]  # rule ids judged (ran, no error)
    standard_version: str
    project_dir: str


# ----- --diff-base -------------------------------------------------------------------------
def _git_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    return {**env, "GIT_TERMINAL_PROMPT": "0", "GIT_CONFIG_NOSYSTEM": "1"}


def _git(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - a fixed git command line, no shell
        ["git", "-c", "core.fsmonitor=false", *args],  # noqa: S607
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=GIT_TIMEOUT_S,
        env=_git_env(),
        check=False,
    )


def resolve_ref(folder: Path, ref: str) -> str:
    """The commit `ref` names in the local repository at `folder` (remote-tracking refs
    such as origin/main included); `BaselineError` when it names none."""
    if not ref or ref.startswith("-") or UNSAFE_CHAR.search(ref):
        raise BaselineError(f"invalid --diff-base ref {ref!r}")
    try:
        inside = _git(folder, "rev-parse", "--is-bare-repository", "--show-toplevel")
        if inside.returncode != 0:
            raise BaselineError(f"--diff-base needs a git repository: {folder} is not one")
        bare, *top = inside.stdout.splitlines()
        if bare != "true" and (not top or Path(top[0]).resolve() != folder.resolve()):
            raise BaselineError(
                f"--diff-base needs the repository's top folder ({top[0] if top else '?'}); "
                "name a subfolder with --project-dir"
            )
        found = _git(
            folder, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}"
        )
    except (OSError, subprocess.SubprocessError) as exc:
        raise BaselineError(f"cannot run git: {exc}") from exc
    sha = found.stdout.strip()
    if found.returncode != 0 or not sha:
        raise BaselineError(f"--diff-base {ref}: no such commit in {folder}")
    return sha


def scan_base(
    source: str,
    ref: str,
    *,
    label: str,
    allow_local: bool,
    standard: Standard,
    only: set[str] | None,
    project_dir: str,
    reports: Reports | None,
) -> Baseline:
    """Scan `ref` of the repository at `source` (a folder or clone URL) as the baseline,
    judging the same project folder as the current scan."""
    policy = WorkspacePolicy(allow_local_paths=allow_local, cache_dir=default_cache_dir())
    with Workspace(policy).checkout(source, ref) as checkout:
        context = RepoContext(checkout.path, project_dir=project_dir)
        report = scan(
            checkout.path,
            standard=standard,
            only=only,
            repository=checkout.url,
            reports=reports,
            context=context,
        )
        context.release()
    return Baseline(
        label=f"{label} ({checkout.commit_sha[:12]})",
        findings=report_findings(report),
        judged=judged_rules(report),
        standard_version=standard.version,
        project_dir=report.project_dir,
    )


def judged_rules(report: Report) -> frozenset[str]:
    """The rules of `report` that ran without error."""
    return frozenset(o.spec.id for o in report.outcomes if o.status is not Status.ERROR)


# ----- --baseline --------------------------------------------------------------------------
def load_baseline(path: str) -> Baseline:
    """The findings of a JSON report written by `yardstick scan --format json`."""
    try:
        data = load_json(Path(path).read_bytes())
    except OSError as exc:
        raise BaselineError(f"cannot read --baseline {path}: {exc.strerror}") from exc
    except ReportFormatError as exc:
        raise BaselineError(f"--baseline {path} is not a Yardstick JSON report: {exc}") from exc
    try:
        findings, judged = _json_findings(data["results"])
        standard = data["standard"]["version"]
        project_dir = data.get("project_dir") or ""
    except (KeyError, TypeError, ValueError) as exc:
        raise BaselineError(f"--baseline {path}: malformed report ({exc})") from exc
    if not isinstance(standard, str) or not isinstance(project_dir, str):
        raise BaselineError(f"--baseline {path}: malformed report (standard or project_dir)")
    return Baseline(Path(path).name, findings, judged, standard, project_dir)


def _json_findings(results: list[dict[str, Any]]) -> tuple[list[Finding], frozenset[str]]:
    """Findings of a JSON report's results: the fingerprints its evidence items carry; a
    result without located evidence is the rule's one pathless finding."""
    findings: list[Finding] = []
    judged: set[str] = set()
    for result in results:
        rule_id, status = str(result["rule_id"]), Status(result["status"])
        if status is not Status.ERROR:
            judged.add(rule_id)
        if status not in FINDING_STATUSES:
            continue
        severity, summary = Severity(result["severity"]), str(result["message"])
        located = [e for e in result["evidence"] if e.get("path")]
        for item in located or [{"path": None, "line": None, "message": ""}]:
            value = item.get("fingerprint")
            if item["path"] is None:
                value = fingerprint(rule_id, "", "", "", 0)
            elif not isinstance(value, str):
                raise ValueError(
                    f"{rule_id} evidence has no fingerprint: the report predates "
                    "fingerprints, write it again with this version"
                )
            line = item.get("line")
            findings.append(
                Finding(
                    rule_id,
                    severity,
                    status,
                    item["path"],
                    line if isinstance(line, int) else None,
                    str(item.get("message") or ""),
                    summary,
                    value,
                )
            )
    return findings, frozenset(judged)


# ----- comparing -----------------------------------------------------------------------------
def compare_with(baseline: Baseline, report: Report) -> Comparison:
    """The current `report`'s findings against `baseline`, with notes on what limits the
    comparison (another standard version or project folder, rules not judged on both sides)."""
    notes = []
    if baseline.standard_version != report.standard.version:
        notes.append(
            f"the baseline was judged against standard {baseline.standard_version}, this scan "
            f"against {report.standard.version}: findings of changed rules may show as new "
            "or fixed"
        )
    if baseline.project_dir != report.project_dir:
        notes.append(
            f"the baseline judged project folder {baseline.project_dir or '.'!r}, this scan "
            f"{report.project_dir or '.'!r}"
        )
    judged = judged_rules(report)
    both = judged & baseline.judged
    left_out = sorted(judged - both)
    if left_out:
        notes.append(
            f"{len(left_out)} rule(s) not judged by the baseline are not compared: "
            + ", ".join(left_out[:10])
            + (" …" if len(left_out) > 10 else "")
        )
    return compare(baseline.findings, report_findings(report), baseline.label, set(both), notes)
