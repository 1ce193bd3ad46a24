"""Asking a clone URL's host, at registration, whether the repository is there.

A URL that passes the policy may still be mistyped, private or on a host the workers cannot
reach: without this check the registration succeeds and the first scan fails minutes later.
The workspace asks (`Workspace.check_remote`: `git ls-remote` with the same hardened
settings, address policy and pinned addresses as a fetch), within
`REGISTRATION_CHECK_TIMEOUT_S`; the refusal says why in words a maintainer can act on.
"""

from __future__ import annotations

import dataclasses

from django.conf import settings

from dashboard.domain.clone_urls import workspace_policy
from scanners.workspace import RemoteCheckFailed, Workspace

#: What the form says above the workspace's own message, per reason.
_HEADLINES = {
    "refused": "This address is refused by Yardstick's network policy",
    "timeout": "The repository host did not answer in time",
    "unreachable": "The repository host could not be reached",
    "not_found": "The repository was not found",
    "auth": "The repository needs credentials",
    "host_key": "The host's ssh key is unknown",
    "redirect": "The repository host answered with a redirect",
}


class RemoteRefused(ValueError):
    """The clone URL or branch failed the check; `field` names the input, `reason` why."""

    def __init__(self, field: str, reason: str, message: str) -> None:
        super().__init__(message)
        self.field, self.reason, self.message = field, reason, message


def check_remote(clone_url: str, branch: str) -> None:
    """Raise RemoteRefused unless `clone_url` answers as a git repository with `branch`.

    Skipped when `REGISTRATION_CHECK_REMOTE` is off. An empty repository (no branch yet) is
    refused too: its first scan could only fail.
    """
    if not settings.REGISTRATION_CHECK_REMOTE:
        return
    timeout = float(settings.REGISTRATION_CHECK_TIMEOUT_S)
    policy = dataclasses.replace(workspace_policy(), clone_timeout_s=timeout)
    try:
        branches = Workspace(policy).check_remote(clone_url)
    except RemoteCheckFailed as exc:
        headline = _HEADLINES.get(exc.reason, "The repository could not be checked")
        raise RemoteRefused("clone_url", exc.reason, f"{headline}: {exc}.") from None
    if not branches:
        raise RemoteRefused(
            "clone_url", "empty", "The repository has no branch yet: push one, then register it."
        )
    if branch not in branches:
        shown = ", ".join(sorted(branches)[:10]) + (", …" if len(branches) > 10 else "")
        raise RemoteRefused(
            "default_branch",
            "branch",
            f"The repository has no branch {branch!r} (its branches: {shown}).",
        )
