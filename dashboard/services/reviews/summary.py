"""What a review says: the commit status's state and one-line description, and the comment.

Pure functions over a stored `ReviewScan`, so every provider says the same thing.
"""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from dashboard.domain.scores import rank_of
from dashboard.models import ReviewScan
from dashboard.services.notify.events import link
from dashboard.services.reviews.hosts import DESCRIPTION_LIMIT

#: Severities whose new failure fails the status when the repository's `pr_gate` is on.
GATING_SEVERITIES = frozenset({"critical", "major"})


def _where(finding: dict[str, Any]) -> str:
    path, line = finding.get("path") or "", finding.get("line")
    return f"{path}:{line}" if path and line else path or "(repository)"


def gating_failures(review: ReviewScan) -> list[dict[str, Any]]:
    """The new findings that fail a gated status: `fail` results of critical or major rules."""
    return [
        f
        for f in review.new_findings
        if f.get("status") == "fail" and f.get("severity") in GATING_SEVERITIES
    ]


def level_lowered(review: ReviewScan) -> bool:
    """The change lowers the level the base branch's commit reaches (a base was scanned)."""
    return bool(review.base_sha) and rank_of(review.level) < rank_of(review.base_level)


def state_of(review: ReviewScan, gate: bool) -> str:
    """`failure` when gated and the change adds a critical/major failure or lowers the level;
    `success` otherwise (the description still says what the change introduces)."""
    if gate and (gating_failures(review) or level_lowered(review)):
        return "failure"
    return "success"


def describe(review: ReviewScan) -> str:
    """One line within the providers' 140 characters, e.g.
    `score 87 (silver), 1 new failure: LAY-001 app/api/x.py:12`."""
    score = "no score" if review.score is None else f"score {review.score:.0f}"
    head = f"{score} ({review.level or 'none'})"
    failures = [f for f in review.new_findings if f.get("status") == "fail"]
    if failures:
        first = failures[0]
        noun = "failure" if len(failures) == 1 else "failures"
        text = f"{head}, {len(failures)} new {noun}: {first['rule_id']} {_where(first)}"
    elif review.new_findings:
        text = f"{head}, {len(review.new_findings)} new warning(s)"
    elif review.fixed_findings:
        first = review.fixed_findings[0]
        text = f"{head}, fixes {len(review.fixed_findings)}: {first['rule_id']} {_where(first)}"
    else:
        text = f"{head}, no new findings"
    if level_lowered(review):
        text += f"; level {review.base_level or 'none'} -> {review.level or 'none'}"
    if not review.base_sha:
        text += " (base branch never scanned)"
    return text if len(text) <= DESCRIPTION_LIMIT else text[: DESCRIPTION_LIMIT - 1] + "…"


def failed(review: ReviewScan) -> str:
    """The description of an `error` status: why the review scan could not run."""
    text = f"review scan failed: {review.error.splitlines()[0] if review.error else 'unknown'}"
    return text if len(text) <= DESCRIPTION_LIMIT else text[: DESCRIPTION_LIMIT - 1] + "…"


def target_url(review: ReviewScan) -> str:
    """Where the status links: the review scan's page (absolute with SITE_URL)."""
    return link(reverse("review", args=[review.repository_id, review.pk]))


def _lines(findings: list[dict[str, Any]]) -> list[str]:
    return [
        f"- [{f['rule_id']}]({link(reverse('rule', args=[f['rule_id']]))}) "
        f"`{_where(f)}` ({f.get('severity', '')}): {f.get('message', '')}"
        for f in findings[:50]
    ] + ([f"- … and {len(findings) - 50} more"] if len(findings) > 50 else [])


def comment(review: ReviewScan, state: str) -> str:
    """The summary comment (Markdown): the verdict, new findings, fixed findings, notes."""
    verdict = "❌ failing" if state == "failure" else "✅ passing"
    parts = [
        f"**Yardstick review** of {review.head_sha[:12]}: {verdict}, {describe(review)}",
        "",
        "Compared with "
        + (
            f"`{review.base_ref}` at {review.base_sha[:12]}."
            if review.base_sha
            else "nothing: the base branch has no scan yet, so every finding counts as new."
        ),
    ]
    if review.new_findings:
        parts += [
            "",
            f"**New findings ({len(review.new_findings)})**",
            *_lines(review.new_findings),
        ]
    if review.fixed_findings:
        parts += ["", f"**Fixed ({len(review.fixed_findings)})**", *_lines(review.fixed_findings)]
    if not review.new_findings and not review.fixed_findings:
        parts += ["", "No finding added or fixed."]
    parts += [f"> {note}" for note in review.notes]
    return "\n".join(parts)
