"""Clone URL policy and identity, shared by registration, webhooks and the workspace.

The address rules themselves live in `scanners.netpolicy` (used through
`scanners.repo_url.validate_url` here and by the workspace at fetch time).
"""

from __future__ import annotations

from django.conf import settings

from scanners.repo_url import RepositoryError, WorkspacePolicy, parse_clone_url, validate_url


def workspace_policy() -> WorkspacePolicy:
    """The workspace policy from settings (local paths only where settings allow)."""
    schemes = frozenset(
        {"https", "ssh"} | ({"file"} if settings.ALLOW_LOCAL_REPOSITORIES else set())
    )
    return WorkspacePolicy(
        allowed_schemes=schemes,
        allow_local_paths=bool(settings.ALLOW_LOCAL_REPOSITORIES),
        # Loopback/private/link-local addresses: only where local repositories are allowed
        # (development), unless ALLOW_INTERNAL_HOSTS says otherwise (a git server on a
        # private address).
        allow_internal_hosts=bool(settings.ALLOW_INTERNAL_HOSTS),
        clone_timeout_s=float(settings.SCAN_TIME_LIMIT_S),
        max_checkout_files=settings.CHECKOUT_MAX_FILES,
        max_checkout_bytes=settings.CHECKOUT_MAX_BYTES,
        max_checkout_depth=settings.CHECKOUT_MAX_DEPTH,
        cache_dir=settings.VAR_DIR / "mirrors",
    )


def clean_clone_url(url: str) -> str:
    """Validate a clone URL against the policy; raise RepositoryError with a clear message."""
    return validate_url(url.strip(), workspace_policy())


def url_key(url: str) -> str:
    """host/path, lower-case, without scheme, credentials, port or `.git`.

    `https://github.com/Org/Repo.git`, `git@github.com:org/repo` and
    `ssh://git@github.com/org/repo` all give `github.com/org/repo`; a local repository gives
    `file:/its/path`.
    """
    address = parse_clone_url(url)
    if address.scheme == "file":
        return f"file:{address.path.lower()}"
    return f"{address.host}/{address.path.lower()}"


__all__ = ["RepositoryError", "clean_clone_url", "url_key", "workspace_policy"]
