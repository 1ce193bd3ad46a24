"""Registering repositories, changing them (the Django admin) and deleting them.

Every way in (the form, the API, the admin, the repository page's "Python projects" card)
checks a clone URL against the same policy. One repository (its `url_key`, which is also what
webhooks match on, whatever the spelling) may be registered once per project folder: a
monorepo's services are sibling rows, each with its own team, webhook secret and scores. The
same URL with the same folder is refused, naming the row that has it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone

from dashboard.domain.clone_urls import RepositoryError, clean_clone_url, url_key
from dashboard.models import AuditAction, Repository, Scan, Team
from dashboard.services.access import audit, secrets
from dashboard.services.access.permissions import can_manage_team, require_admin_permission
from dashboard.services.repos import remote_check
from dashboard.services.repos.changes import CHANGEABLE, save_audited
from dashboard.services.scoring import rollups
from scanners.repo_url import redact_url

_TAKEN = "this repository is already registered with this project folder"


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


def check_project_dir(value: str) -> str:
    """The project folder, normalised; RegistrationError when it would leave the repository."""
    raw = value.strip()
    path = PurePosixPath(raw.rstrip("/")) if raw else PurePosixPath()
    if path.is_absolute() or ".." in path.parts or "\\" in raw:
        raise RegistrationError(
            "project_dir", "project folder must be a relative path inside the repository"
        )
    return "" if str(path) == "." else str(path)


def check_branch(value: str) -> str:
    """The default branch (`main` when empty); RegistrationError for what git would refuse or
    read as an option."""
    branch = value.strip() or "main"
    if branch.startswith("-") or any(c in branch for c in " ~^:?*[\\") or ".." in branch:
        raise RegistrationError("default_branch", f"{branch!r} is not a valid branch name")
    return branch


def check_url_policy(clone_url: str) -> tuple[str, str]:
    """(the cleaned URL, its `url_key`); RegistrationError when the policy refuses the URL."""
    try:
        cleaned = clean_clone_url(clone_url)
    except RepositoryError as exc:
        raise RegistrationError("clone_url", str(exc)) from None
    return cleaned, url_key(cleaned)


def check_not_registered(
    key: str, project_dir: str, *, other_than: Repository | None = None, field: str = "clone_url"
) -> None:
    """RegistrationError (on `field`) when a row other than `other_than` already judges
    `project_dir` of the repository `key`; its message names that row and its team."""
    existing = Repository.objects.filter(url_key=key, project_dir=project_dir)
    if other_than is not None and other_than.pk is not None:
        existing = existing.exclude(pk=other_than.pk)
    found = existing.select_related("team").only("name", "team__name").first()
    if found is None:
        return
    where = f"project folder {project_dir!r}" if project_dir else "no project folder (the root)"
    raise RegistrationError(
        field,
        f"already registered as {found.name!r} by team {found.team.name!r} with {where}; "
        "another project folder of it may be registered as its own repository",
    )


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
    ask_host: bool = True,
) -> Registered:
    """Validate and store a repository, then enqueue its first scan after the commit.

    `actor` (a user, an API token, or None for the system) is named in the audit log.
    `ask_host`: the URL's host is asked at once whether the repository and branch are there
    (`remote_check`); a copy of a registered row's URL need not ask again.
    """
    from dashboard.services.scans.pipeline import request_scan

    cleaned, key = check_url_policy(clone_url)
    branch = check_branch(default_branch)
    folder = check_project_dir(project_dir)
    check_not_registered(key, folder)
    if ask_host:
        try:
            remote_check.check_remote(cleaned, branch)
        except remote_check.RemoteRefused as exc:
            raise RegistrationError(exc.field, exc.message) from None
    secret = secrets.generate_secret()
    try:
        with transaction.atomic():
            repository = Repository.objects.create(
                team=team,
                name=(name.strip() or _default_name(cleaned))[:200],
                clone_url=cleaned,
                url_key=key,
                default_branch=branch,
                project_dir=folder,
                webhook_secret_encrypted=secrets.encrypt(secret),
            )
            scan = request_scan(repository, Scan.Trigger.MANUAL)
            audit.record(
                AuditAction.REPOSITORY_REGISTERED,
                actor=actor,
                target=repository,
                team=team,
                details={
                    "clone_url": redact_url(repository.clone_url),
                    "default_branch": repository.default_branch,
                    "project_dir": repository.project_dir,
                },
            )
    except IntegrityError:
        # Another request registered the same URL and folder between our check and our insert.
        raise RegistrationError("clone_url", _TAKEN) from None
    return Registered(repository, secret, scan)


def judge_folder(user: User, repository: Repository, folder: str) -> Scan:
    """Judge another project folder of the repository from now on, and rescan it.

    The caller checks that `user` may manage the repository. The change is audited like an
    administrator's edit; the scan is forced, since the commit may be scanned already (at the
    old folder).
    """
    from dashboard.services.scans.pipeline import request_scan

    new = check_project_dir(folder)
    try:
        with transaction.atomic():
            stored = (
                Repository.objects.select_for_update().select_related("team").get(pk=repository.pk)
            )
            old = stored.project_dir
            if old != new:
                # A sibling row (another service of this monorepo) may judge it already.
                check_not_registered(stored.url_key, new, other_than=stored, field="project_dir")
                stored.project_dir = new
                stored.save(update_fields=["project_dir"])
                audit.record(
                    AuditAction.REPOSITORY_CHANGED,
                    actor=user,
                    target=stored,
                    team=stored.team,
                    details={"project_dir": [old, new]},
                )
            repository.project_dir = new
            return request_scan(stored, Scan.Trigger.MANUAL, force=old != new)
    except IntegrityError:
        raise RegistrationError("project_dir", _TAKEN) from None


def register_folder(user: User, source: Repository, team: Team, folder: str) -> Registered:
    """Register another project folder of `source`'s repository as its own row, for `team`.

    The new row copies the clone URL and branch and is named `<source> (<folder>)`; it gets
    its own webhook secret and first scan. `user` must maintain `team`; a clone URL holding a
    credential is copied only by the source team's own maintainers (another team brings its
    own URL through the form). The caller checks that the folder is one the scans found.
    """
    if not can_manage_team(user, team):
        raise PermissionDenied("only the team's maintainers may register its repositories")
    if source.holds_credential and not can_manage_team(user, source.team):
        raise PermissionDenied(
            f"the clone URL holds a credential of team {source.team.name!r}: register this "
            "folder through the registration form with your own URL"
        )
    base = source.name.removesuffix(f" ({source.project_dir})") or source.name
    return register_repository(
        team,
        source.clone_url,
        name=f"{base} ({folder})" if folder else base,
        default_branch=source.default_branch,
        project_dir=folder,
        actor=user,
        ask_host=False,  # the source row's URL, asked when it was registered
    )


def update_repository(user: User, repository: Repository) -> dict[str, list[Any]]:
    """Save an administrator's edit of `repository` (its fields already set) after the same
    checks as a registration; audit each changed field as [before, after] (`save_audited`).

    The webhook key follows the clone URL. A save that changes nothing records nothing.
    Returns the changes.
    """
    require_admin_permission(user, "dashboard.change_repository")
    repository.project_dir = check_project_dir(repository.project_dir)
    cleaned, key = check_url_policy(repository.clone_url)
    # The same repository in any spelling: the folder is what would collide with a sibling.
    field = "project_dir" if key == repository.url_key else "clone_url"
    check_not_registered(key, repository.project_dir, other_than=repository, field=field)
    repository.clone_url, repository.url_key = cleaned, key
    repository.default_branch = check_branch(repository.default_branch)
    repository.name = repository.name.strip() or _default_name(repository.clone_url)
    try:
        return save_audited(user, repository, CHANGEABLE, also_save=("url_key",))
    except IntegrityError:
        raise RegistrationError("clone_url", _TAKEN) from None


@transaction.atomic
def delete_repository(user: User, repository: Repository) -> None:
    """Delete a repository with its whole history (administrators); the audit log keeps a note."""
    require_admin_permission(user, "dashboard.delete_repository")
    audit.record(
        AuditAction.REPOSITORY_DELETED,
        actor=user,
        target=repository,
        team=repository.team,
        details={
            "clone_url": redact_url(repository.clone_url),
            "scans": Scan.objects.filter(repository=repository).count(),
            "score": repository.score,
            "level": repository.level,
        },
    )
    team_id = repository.team_id
    repository.delete()
    rollups.refresh_team_day(team_id, timezone.now().date())  # the team's score loses it today
