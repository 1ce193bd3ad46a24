"""Registering repositories, and deleting them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction

from dashboard.models import AuditAction, Repository, Scan, Team
from dashboard.services import audit, secrets
from dashboard.services.permissions import require_admin_permission
from dashboard.services.urls import RepositoryError, clean_clone_url, url_key
from scanners.repo_url import redact_url


class RegistrationError(ValueError):
    """The repository cannot be registered; `field` names the offending input."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True, slots=True)
class Registered:
    """A new repository, its webhook secret (shown once, never again) and its first scan."""

    repository: Repository
    webhook_secret: str
    scan: Scan


def _clean_project_dir(value: str) -> str:
    raw = value.strip()
    path = PurePosixPath(raw.rstrip("/")) if raw else PurePosixPath()
    if path.is_absolute() or ".." in path.parts or "\\" in raw:
        raise RegistrationError(
            "project_dir", "project folder must be a relative path inside the repository"
        )
    return "" if str(path) == "." else str(path)


def _default_name(clone_url: str) -> str:
    tail = clone_url.rstrip("/").rsplit("/", 1)[-1].rsplit(":", 1)[-1]
    return tail.removesuffix(".git") or clone_url


def register_repository(
    team: Team,
    clone_url: str,
    *,
    name: str = "",
    default_branch: str = "main",
    project_dir: str = "",
    actor: audit.Actor = None,
) -> Registered:
    """Validate and store a repository, then enqueue its first scan after the commit.

    `actor` (a user, an API token, or None for the system) is named in the audit log.
    """
    from dashboard.services.scanning import request_scan

    try:
        cleaned = clean_clone_url(clone_url)
    except RepositoryError as exc:
        raise RegistrationError("clone_url", str(exc)) from None
    key = url_key(cleaned)
    existing = Repository.objects.filter(url_key=key).select_related("team").first()
    if existing is not None:
        raise RegistrationError(
            "clone_url", f"already registered as {existing.name!r} by team {existing.team.name!r}"
        )
    branch = default_branch.strip() or "main"
    if branch.startswith("-") or any(c in branch for c in " ~^:?*[\\") or ".." in branch:
        raise RegistrationError("default_branch", f"{branch!r} is not a valid branch name")
    secret = secrets.generate_secret()
    try:
        with transaction.atomic():
            repository = Repository.objects.create(
                team=team,
                name=(name.strip() or _default_name(cleaned))[:200],
                clone_url=cleaned,
                url_key=key,
                default_branch=branch,
                project_dir=_clean_project_dir(project_dir),
                webhook_secret_encrypted=secrets.encrypt(secret),
            )
            scan = request_scan(repository, Scan.Trigger.MANUAL)
            audit.record(
                AuditAction.REPOSITORY_REGISTERED,
                actor=actor,
                target=repository,
                target_label=repository.name,
                team=team,
                details={
                    "clone_url": redact_url(repository.clone_url),
                    "default_branch": repository.default_branch,
                    "project_dir": repository.project_dir,
                },
            )
    except IntegrityError:
        # Another request registered the same URL between our check and our insert.
        raise RegistrationError("clone_url", "this repository is already registered") from None
    return Registered(repository, secret, scan)


@transaction.atomic
def delete_repository(user: User, repository: Repository) -> None:
    """Delete a repository with its whole history (administrators); the audit log keeps a note."""
    require_admin_permission(user, "dashboard.delete_repository")
    audit.record(
        AuditAction.REPOSITORY_DELETED,
        actor=user,
        target=repository,
        target_label=repository.name,
        team=repository.team,
        details={
            "clone_url": redact_url(repository.clone_url),
            "scans": Scan.objects.filter(repository=repository).count(),
            "score": repository.score,
            "level": repository.level,
        },
    )
    repository.delete()
