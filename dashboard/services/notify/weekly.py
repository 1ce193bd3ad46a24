"""The weekly digest: one message per scope (the organisation, or a team) and week.

`render` composes it once — subject, plain-text body and the scope's CSV scorecard — and
both the preview page and `send_weekly_digests` use it, so the preview shows exactly what is
sent. The content reuses the one answer to each question: what changed and what to fix first
(`selectors/changes.py`), waivers in force (`selectors/governance.waivers_expiring`), and
the CSV the export pages download (`services/reporting/export_rows.py`), byte for byte.

Sending records one notification per subscriber (an e-mail with the CSV attached) and, for a
team's digest, one for the team's Slack webhook where set, through the notification machinery
(`events.record`): each under a dedupe key naming the scope and the ISO week, so a task run
twice, or redelivered, sends nothing twice. The daily digest (`events.send_digests`) is
unrelated and unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.urls import reverse
from django.utils import timezone

from dashboard.models import (
    Delivery,
    Notification,
    TeamNotificationSettings,
    Waiver,
)
from dashboard.selectors.changes import (
    Changes,
    FixFirst,
    Mover,
    fix_first,
    latest_rollup_day,
    what_changed,
)
from dashboard.selectors.governance import EXPIRING_SOON_DAYS, waivers_expiring
from dashboard.services.notify.events import link, mail_subject, record
from dashboard.services.notify.subscriptions import Scope, recipients, subscribed_scopes
from dashboard.services.reporting import export_rows
from dashboard.services.reporting.csv_stream import csv_bytes

PERIOD = timedelta(days=7)
FIX_FIRST = 5  # rules listed under "Fix first"
NAMED = 5  # repositories named in a line before "and N more"
CSV = "text/csv"


@dataclass(frozen=True, slots=True)
class WeeklyDigest:
    """A rendered digest: what the e-mail (and the Slack post) carry."""

    scope: Scope
    start: date
    end: date
    week: str  # ISO week of the send day, e.g. 2026-W50: the dedupe key's
    subject: str
    body: str
    attachment_name: str
    attachment: bytes

    @property
    def mail_subject(self) -> str:
        """The e-mail's subject line, as the mail server receives it."""
        return mail_subject(self.subject)

    @property
    def attachment_size(self) -> int:
        """The attachment's size in bytes."""
        return len(self.attachment)


def iso_week(day: date) -> str:
    """`2026-W50`: the ISO week of `day`."""
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def render(scope: Scope, now: datetime | None = None) -> WeeklyDigest:
    """The digest of `scope` for the week ending on `now`'s day (now by default)."""
    now = now or timezone.now()
    day = now.date()
    # The day, or the latest before it with roll-ups when its own are not written yet.
    end = latest_rollup_day(scope.team, day) or day
    start = end - PERIOD
    changes = what_changed(start, end, scope.team)
    fixes = fix_first(scope.team, limit=FIX_FIRST)
    waivers = list(waivers_expiring(timedelta(days=EXPIRING_SOON_DAYS), scope.team, now))
    if scope.team is None:
        header, rows = export_rows.organisation()
        name, export = export_rows.file_name("organisation", day), reverse("export-organisation")
    else:
        header, rows = export_rows.team(scope.team)
        name = export_rows.file_name(f"team-{scope.team.slug}", day)
        export = reverse("export-team", args=[scope.team.slug])
    subject = f"Weekly digest of {scope.label}, week to {end.isoformat()}"
    lines = [
        f"Weekly digest of {scope.label}: {start.isoformat()} to {end.isoformat()} "
        f"(week {iso_week(day)}).",
        *_levels(changes),
        *_changes(changes),
        *_fixes(fixes),
        *_waivers(waivers),
        "",
        f"Attached: {name}, the scorecard of {scope.label} (as {link(export)}).",
        f"Preview or stop this digest: {link(reverse('digest'))}",
    ]
    return WeeklyDigest(
        scope,
        start,
        end,
        iso_week(day),
        subject,
        "\n".join(lines) + "\n",
        name,
        csv_bytes(header, rows),
    )


# ----- the body's sections ------------------------------------------------------------------
def _repository(pk: int) -> str:
    return link(reverse("repository", args=[pk]))


def _level(name: str) -> str:
    return (name or "none").capitalize()


def _score(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


def _names(names: list[str]) -> str:
    more = len(names) - NAMED
    return ", ".join(names[:NAMED]) + (f" and {more} more" if more > 0 else "")


def _levels(changes: Changes) -> list[str]:
    lines = ["", f"Levels gained ({len(changes.levels_gained)})"]
    lines += [
        f"- {c.repository.name} ({c.repository.team}): {_level(c.before)} → {_level(c.after)}"
        f"  {_repository(c.repository.id)}"
        for c in changes.levels_gained
    ] or ["- none"]
    lines += ["", f"Levels lost ({len(changes.levels_lost)})"]
    lines += [
        f"- {c.repository.name} ({c.repository.team}): {_level(c.before)} → {_level(c.after)}"
        f"  {_repository(c.repository.id)}"
        for c in changes.levels_lost
    ] or ["- none"]
    return lines


def _mover(mover: Mover) -> str:
    if mover.kind == "team":
        who, page = f"{mover.name} (team)", link(reverse("team", args=[mover.slug]))
    else:
        who, page = mover.name, _repository(mover.id)
    note = f" ({mover.note})" if mover.note else ""
    return (
        f"- {who}: {_score(mover.before)} → {_score(mover.after)}, {mover.delta:+.1f}{note}  {page}"
    )


def _changes(changes: Changes) -> list[str]:
    lines = ["", "What changed"]
    if changes.empty:
        return [*lines, "Nothing changed."]
    up = [*changes.team_movers_up, *changes.movers_up]
    down = [*changes.team_movers_down, *changes.movers_down]
    if up:
        lines += ["Moved up:", *(_mover(m) for m in up)]
    if down:
        lines += ["Moved down:", *(_mover(m) for m in down)]
    if changes.new_failures:
        lines.append("New failures:")
        lines += [
            f"- {f.rule_id} {f.title}: {f.count} newly failing"
            f" ({_names([r.name for r in f.repositories])})"
            f"  {link(reverse('rule', args=[f.rule_id]))}"
            for f in changes.new_failures
        ]
    if not changes.regressions:
        lines.append("No score or level moved among the repositories present all week.")
    if changes.onboarded:
        names = _names([r.name for r in changes.onboarded])
        lines.append(f"Onboarded ({len(changes.onboarded)}, not regressions): {names}")
    if changes.failing_to_scan:
        names = _names([r.name for r in changes.failing_to_scan])
        lines.append(f"Failing to scan ({len(changes.failing_to_scan)}): {names}")
    return lines


def _fixes(fixes: list[FixFirst]) -> list[str]:
    lines = ["", "Fix first"]
    lines += [
        f"{rank}. {fix.rule_id} {fix.title} ({fix.severity}): +{fix.score:.1f} points"
        f" across {fix.repositories} {'repository' if fix.repositories == 1 else 'repositories'}"
        f"  {link(fix.url)}"
        for rank, fix in enumerate(fixes, 1)
    ]
    return lines if fixes else [*lines, "No failing or warning rule to fix."]


def _waivers(waivers: list[Waiver]) -> list[str]:
    lines = ["", f"Waivers expiring in the next {EXPIRING_SOON_DAYS} days ({len(waivers)})"]
    lines += [
        f"- {w.repository.label} ({w.repository.team.name}): {w.rule.rule_id} {w.rule.title},"
        f" expires {w.expires_at.date().isoformat()}  {_repository(w.repository_id)}"
        for w in waivers
    ]
    return lines if waivers else [*lines, "- none"]


# ----- sending ------------------------------------------------------------------------------
def _attachment(digest: WeeklyDigest) -> dict[str, Any]:
    # Stored with the notification, so a retried delivery sends the bytes the digest rendered.
    return {
        "name": digest.attachment_name,
        "content": digest.attachment.decode(),
        "mimetype": CSV,
    }


def has_slack(scope: Scope) -> bool:
    """Whether the digest also goes to a Slack webhook: the team's, where set."""
    if scope.team is None:
        return False
    return (
        TeamNotificationSettings.objects.filter(team=scope.team)
        .exclude(slack_webhook_encrypted="")
        .exists()
    )


def send_weekly_digests(now: datetime | None = None) -> int:
    """Record this week's digest of every subscribed scope: an e-mail per subscriber with the
    CSV attached and, for a team, a post to its Slack webhook where set. Once per ISO week
    (dedupe keys `weekly:<scope>:<week>[:user:<id>]`); returns how many were recorded."""
    now = now or timezone.now()
    week = iso_week(now.date())
    recorded = 0
    for scope in subscribed_scopes():
        people = recipients(scope)
        if not people:  # a team's channel hears only when one of its maintainers opted in
            continue
        base = f"weekly:{scope.dedupe}:{week}"
        wanted = {f"{base}:user:{user.pk}": user for user in people}
        slack = has_slack(scope)
        keys = set(wanted) | ({base} if slack else set())
        done = set(
            Notification.objects.filter(dedupe_key__in=keys).values_list("dedupe_key", flat=True)
        )
        if keys <= done:
            continue  # sent already this week: not even rendered again
        digest = render(scope, now)
        about = {"scope": scope.key, "week": week}
        for key, user in wanted.items():
            if key not in done:
                recorded += _record(digest, key, about | {"emails": [user.email]}, attach=True)
        if slack and base not in done:
            recorded += _record(digest, base, about, attach=False)
    return recorded


def _record(digest: WeeklyDigest, key: str, payload: dict[str, Any], *, attach: bool) -> int:
    notification = record(
        Notification.Kind.WEEKLY_DIGEST,
        key,
        team=digest.scope.team,
        subject=digest.subject,
        body=digest.body,
        payload=payload | ({"attachment": _attachment(digest)} if attach else {}),
        # E-mail to the subscriber only (not the team's recipients); Slack to the channel.
        channels={Delivery.Channel.EMAIL if attach else Delivery.Channel.SLACK},
    )
    return int(notification is not None)
