"""Saving a change to a repository: one audited write for the admin, the settings page,
archiving and transfers alike.

Each changed field is audited as [before, after] (`repository.changed`: the trends read the
day a repository left its team's score from it); when the repository joins or leaves a
team's score (`active`, `team`) both teams' roll-ups of today are recomputed at once. Page
caches follow the save itself (`page_versions.watch_models`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.db import transaction
from django.utils import timezone

from dashboard.models import AuditAction, Repository
from dashboard.services.access import audit
from dashboard.services.scoring import rollups
from scanners.repo_url import redact_url

# What may change, each audited with its old and new value.
CHANGEABLE = (
    "team",
    "name",
    "clone_url",
    "default_branch",
    "project_dir",
    "active",
    "deep_scan",
    "code_host",
    "pr_gate",
    "pr_comment",
)
# The attribute each is compared by (`team_id` for the team: no query per comparison).
_ATTNAMES = {f.name: f.attname for f in Repository._meta.concrete_fields if f.name in CHANGEABLE}


def _audited(repository: Repository, field: str) -> Any:
    """A field's value as the audit log keeps it: the team by name, the URL redacted."""
    if field == "team":
        return repository.team.name
    if field == "clone_url":
        return redact_url(repository.clone_url)
    if field == "code_host":  # by name: the connection's token is never audited
        return repository.code_host.name if repository.code_host is not None else None
    return getattr(repository, field)


def save_audited(
    actor: audit.Actor,
    repository: Repository,
    fields: Iterable[str],
    *,
    also_save: Iterable[str] = (),
    details: Mapping[str, object] | None = None,
) -> dict[str, list[Any]]:
    """Save `fields` of `repository` (already set on it) and return what changed.

    The stored row is locked and compared first; `also_save` are saved unaudited (a derived
    column such as `url_key`); `details` are added to the audit event. A save that changes
    nothing records nothing. Only the fields named are written: a scan finishing meanwhile
    keeps its score and level. IntegrityError passes to the caller.
    """
    fields = [name for name in fields if name in CHANGEABLE]
    with transaction.atomic():
        stored = Repository.objects.select_for_update().select_related("team").get(pk=repository.pk)
        changes = {
            field: [_audited(stored, field), _audited(repository, field)]
            for field in fields
            if getattr(stored, _ATTNAMES[field]) != getattr(repository, _ATTNAMES[field])
        }
        repository.save(update_fields=[*fields, *also_save])
        if changes:
            audit.record(
                AuditAction.REPOSITORY_CHANGED,
                actor=actor,
                target=repository,
                team=repository.team,
                details={**changes, **(details or {})},
            )
        if {"active", "team"} & set(changes):
            # Team scores count active repositories: today's roll-ups follow at once.
            for team_id in sorted({stored.team_id, repository.team_id}):
                rollups.refresh_team_day(team_id, timezone.now().date())
    return changes
