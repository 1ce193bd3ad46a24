"""A repository's settings page: its team's maintainers (and managers, admins) rename it,
change its branch and project folder, archive and restore it.

Archiving sets `active` False: the repository leaves its team's score, the overview and the
nightly and rollout rescans, webhooks are answered `ignored`, and its history stays (restoring
brings it back as it was). Every change is audited with its fields (`changes.save_audited`).
"""

from __future__ import annotations

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction

from dashboard.models import Repository, Scan
from dashboard.services.access.permissions import can_edit_repository
from dashboard.services.repos import remote_check
from dashboard.services.repos.changes import save_audited
from dashboard.services.repos.registration import (
    RegistrationError,
    check_branch,
    check_not_registered,
    check_project_dir,
)

#: A change of these judges other files: the latest results no longer describe the row.
_RESCAN_ON = frozenset({"default_branch", "project_dir"})


def require_editor(user: User, repository: Repository) -> None:
    """PermissionDenied unless `user` may change `repository` (`can_edit_repository`)."""
    if not can_edit_repository(user, repository):
        raise PermissionDenied("only the team's maintainers, managers and admins may do this")


def edit_repository(
    user: User, repository: Repository, *, name: str, default_branch: str, project_dir: str
) -> dict[str, list[object]]:
    """Rename the repository, change its branch or project folder; return what changed.

    Checked as a registration is (RegistrationError names the field): the folder stays inside
    the repository and no sibling row judges it already; a new branch must exist at the host.
    A new branch or folder is rescanned at once (forced: the commit may be scanned already).
    """
    from dashboard.services.scans.pipeline import request_scan

    require_editor(user, repository)
    name = name.strip()
    if not name:
        raise RegistrationError("name", "the repository needs a name")
    folder = check_project_dir(project_dir)
    branch = check_branch(default_branch)
    check_not_registered(repository.url_key, folder, other_than=repository, field="project_dir")
    if branch != repository.default_branch:
        try:
            remote_check.check_remote(repository.clone_url, branch)
        except remote_check.RemoteRefused as exc:
            raise RegistrationError("default_branch", exc.message) from None
    repository.name, repository.default_branch, repository.project_dir = name[:200], branch, folder
    try:
        with transaction.atomic():
            changes = save_audited(user, repository, ("name", "default_branch", "project_dir"))
            if _RESCAN_ON & set(changes) and repository.active:
                request_scan(repository, Scan.Trigger.MANUAL, force=True)
    except IntegrityError:
        # A sibling row took the folder between our check and our save.
        raise RegistrationError(
            "project_dir", "this project folder of the repository is registered already"
        ) from None
    return changes


def archive_repository(user: User, repository: Repository) -> bool:
    """Archive: out of every score and rescan, history kept. False when it already was."""
    return _set_active(user, repository, active=False)


def restore_repository(user: User, repository: Repository) -> bool:
    """Restore an archived repository as it was. False when it was not archived."""
    return _set_active(user, repository, active=True)


def _set_active(user: User, repository: Repository, *, active: bool) -> bool:
    require_editor(user, repository)
    repository.active = active
    return bool(save_audited(user, repository, ("active",)))
