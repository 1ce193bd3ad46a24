"""Which repository URLs the workspace may fetch: the policy, validation and redaction.

The URL is untrusted input. Anything git could read as an option (`-...`), a transport
helper (`ext::`, `fd::`, any `name::`), a scheme or host the policy does not allow (the host
decided by `scanners.netpolicy`; a `%` escape in it is refused), a local
path or `file://` URL (unless allowed), and whitespace or control characters are refused
with a `RepositoryError` whose message is safe to show. Credentials in a URL are accepted
but only ever shown redacted.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import SplitResult, urlsplit, urlunsplit

from scanners import netpolicy

GIT_SCHEMES = frozenset({"https", "http", "ssh", "git", "file"})
SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
UNSAFE_CHAR = re.compile(r"[\s\x00-\x1f\x7f]")
_TRANSPORT_HELPER = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*::")
_USERINFO = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*://)[^/]*@")
_SCP_LIKE = re.compile(r"^(?:(?P<user>[^@/]+)@)?(?P<host>[^:/]+):(?P<path>.*)$")


class RepositoryError(Exception):
    """A repository cannot be fetched or checked out; the message is safe to show a user."""


def default_cache_dir() -> Path:
    """`$YARDSTICK_CACHE_DIR`, else `~/.cache/yardstick`."""
    configured = os.environ.get("YARDSTICK_CACHE_DIR")
    return Path(configured) if configured else Path.home() / ".cache" / "yardstick"


@dataclass(frozen=True, slots=True)
class WorkspacePolicy:
    """What the workspace may clone, and how much time and disk it may spend."""

    allowed_schemes: frozenset[str] = frozenset({"https", "ssh"})
    allowed_hosts: frozenset[str] = frozenset()  # empty: any host
    allow_local_paths: bool = False  # file:// URLs and paths: demo data and tests only
    #: False refuses hosts that are not public addresses (`127.0.0.1`, `10.1.2.3`,
    #: `169.254.169.254`, `[::1]`, `localhost`, see `scanners.netpolicy`): by their text when
    #: a URL is validated, and by every resolved address right before each fetch, which then
    #: connects to the checked addresses only (see `scanners.workspace`).
    allow_internal_hosts: bool = True
    #: How the workspace resolves host names before a fetch (None: `getaddrinfo`); tests
    #: inject one that maps names to addresses without DNS.
    resolver: netpolicy.Resolver | None = field(default=None, compare=False)
    clone_timeout_s: float = 600.0
    max_repo_bytes: int = 2 * 1024**3
    #: Checked on the commit's tree before anything is checked out (a "git bomb" of nested
    #: trees reusing one object is tiny in the mirror and huge on disk).
    max_checkout_files: int = 50_000
    max_checkout_bytes: int = 512 * 1024**2
    max_checkout_depth: int = 40  # folders above a file, plus one
    lock_timeout_s: float = 900.0  # wait this long for another scan of the same repository
    cache_dir: Path = field(default_factory=default_cache_dir)


def redact_url(url: str) -> str:
    """The URL without secrets: passwords and HTTP tokens become `***`."""
    match = SCHEME.match(url)
    if not match:
        return url
    try:
        parts = urlsplit(url)
    except ValueError:  # malformed (an unclosed IPv6 bracket...): hide all before the '@'
        return _USERINFO.sub(r"\1***@", url)
    if "@" not in parts.netloc:
        return url
    userinfo, _, hostport = parts.netloc.rpartition("@")
    user, has_password, _ = userinfo.partition(":")
    if has_password:
        userinfo = f"{user}:***"
    elif match.group(1).lower() in ("http", "https"):
        userinfo = "***"  # a bare token in the user slot
    return urlunsplit(parts._replace(netloc=f"{userinfo}@{hostport}"))


@dataclass(frozen=True, slots=True)
class CloneAddress:
    """A clone URL's parts, as git reads them (the one parser: identity, links, validation).

    `scheme` is `file` for a local path or `file://` URL (then `host` is ""); `path` is the
    repository path as written, without surrounding slashes (a local one keeps its leading
    slash) or a `.git` suffix.
    """

    scheme: str
    host: str
    path: str
    port: int | None = None


def parse_clone_url(url: str) -> CloneAddress:
    """Split any clone URL git accepts (`scheme://`, `user@host:path`, a local path) without
    judging it: `validate_url` decides whether it may be fetched."""
    url = url.strip()
    if match := SCHEME.match(url):
        scheme = match.group(1).lower()
        scheme = "ssh" if scheme in ("git+ssh", "ssh+git") else scheme
        try:
            parts = urlsplit(url)
            host, port = (parts.hostname or "").lower(), parts.port
        except ValueError:  # malformed: no host to speak of
            return CloneAddress("file", "", _repository_path(url[match.end() :], local=True))
        if scheme == "file" or not host:
            return CloneAddress("file", "", _repository_path(parts.path, local=True))
        return CloneAddress(scheme, host, _repository_path(parts.path), port)
    if scp := _scp_like(url):
        return CloneAddress("ssh", scp.group("host").lower(), _repository_path(scp.group("path")))
    return CloneAddress("file", "", _repository_path(url, local=True))


def _scp_like(url: str) -> re.Match[str] | None:
    """`user@host:path`, git's short form of an ssh URL. Git's own rule: a colon before any
    slash makes it an ssh address, not a local path."""
    if "/" in url.split(":", 1)[0]:
        return None
    return _SCP_LIKE.match(url)


def _repository_path(path: str, *, local: bool = False) -> str:
    path = path.rstrip("/") if local else path.strip("/")
    return path.removesuffix(".git")


def _check_host(host: str, url: str, policy: WorkspacePolicy) -> str:
    """The decoded host (see `scanners.netpolicy`), refused if its text says internal.

    Resolution is left to fetch time (`scanners.workspace`), when it matters. `[ipv6]` or
    no brackets at all: `x[` would turn `x[::1]` into the helper URL `x::1]`.
    """
    if "%" in host:
        raise RepositoryError(
            f"percent-encoded (%) characters are not allowed in the host of {redact_url(url)!r}"
        )
    try:
        host = netpolicy.decode_host(host)
    except netpolicy.HostRefused:
        raise RepositoryError(f"invalid host in repository URL {redact_url(url)!r}") from None
    try:
        netpolicy.check_host_text(host, allow_internal=policy.allow_internal_hosts)
    except netpolicy.HostRefused as exc:
        raise RepositoryError(str(exc)) from None
    if policy.allowed_hosts and host not in {h.lower() for h in policy.allowed_hosts}:
        allowed = ", ".join(sorted(policy.allowed_hosts))
        raise RepositoryError(f"host {host!r} is not allowed (allowed hosts: {allowed})")
    return host


def _split(url: str) -> SplitResult:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError as exc:
        raise RepositoryError(f"malformed repository URL {redact_url(url)!r}: {exc}") from exc
    return parts


def _check_scheme(url: str, scheme: str, policy: WorkspacePolicy) -> str:
    scheme = "ssh" if scheme in ("git+ssh", "ssh+git") else scheme
    if scheme not in GIT_SCHEMES:
        raise RepositoryError(f"unsupported URL scheme {scheme!r} in {redact_url(url)!r}")
    if scheme == "file":
        if not policy.allow_local_paths:
            raise RepositoryError("local repositories (file:// URLs) are not allowed here")
    elif scheme not in policy.allowed_schemes:
        allowed = ", ".join(sorted(policy.allowed_schemes))
        raise RepositoryError(f"URL scheme {scheme!r} is not allowed (allowed: {allowed})")
    return scheme


def _validate_scheme_url(url: str, scheme: str, policy: WorkspacePolicy) -> str:
    scheme = _check_scheme(url, scheme, policy)
    parts = _split(url)
    if scheme == "file":
        return urlunsplit(parts._replace(scheme="file"))
    if (parts.username or "").startswith("-"):
        raise RepositoryError(f"invalid user in repository URL {redact_url(url)!r}")
    host = _check_host(parts.hostname or "", url, policy)
    if not parts.path.strip("/"):
        raise RepositoryError(f"repository URL {redact_url(url)!r} names no repository path")
    userinfo = parts.netloc.rpartition("@")[0]
    netloc = (f"{userinfo}@" if userinfo else "") + (f"[{host}]" if ":" in host else host)
    if parts.port is not None:
        netloc += f":{parts.port}"
    return urlunsplit((scheme, netloc, parts.path.rstrip("/"), parts.query, ""))


def _validate_scp(url: str, match: re.Match[str], policy: WorkspacePolicy) -> str:
    """`user@host:path`, git's short form of an ssh URL."""
    if "ssh" not in policy.allowed_schemes:
        raise RepositoryError("ssh URLs (user@host:path) are not allowed here")
    user, path = match.group("user") or "", match.group("path")
    if user.startswith("-") or path.startswith("-"):
        raise RepositoryError(f"invalid ssh URL {url!r}")
    host = _check_host(match.group("host"), url, policy)
    if not path.strip("/"):
        raise RepositoryError(f"repository URL {url!r} names no repository path")
    return f"{user}@{host}:{path.rstrip('/')}" if user else f"{host}:{path.rstrip('/')}"


def validate_url(url: str, policy: WorkspacePolicy) -> str:
    """Check a clone URL against the policy; return it normalised or raise RepositoryError."""
    if not url:
        raise RepositoryError("empty repository URL")
    if url.startswith("-"):
        raise RepositoryError("repository URL must not start with '-' (it would be an option)")
    if _TRANSPORT_HELPER.match(url):
        helper = url.split("::", 1)[0]
        raise RepositoryError(f"git transport helpers ('{helper}::') are not allowed")
    if UNSAFE_CHAR.search(url):
        raise RepositoryError("repository URL contains whitespace or control characters")
    normalised = None
    if match := SCHEME.match(url):
        normalised = _validate_scheme_url(url, match.group(1).lower(), policy)
    elif scp := _scp_like(url):
        normalised = _validate_scp(url, scp, policy)
    if normalised is not None:
        # Decoding the host (IDNA) must not turn `ëxt::x` into the helper form `xn--...::x`.
        if _TRANSPORT_HELPER.match(normalised):
            raise RepositoryError(f"invalid repository URL {redact_url(url)!r}")
        return normalised
    if not policy.allow_local_paths:
        raise RepositoryError(
            f"{url!r} is not a URL with an allowed scheme, and local paths are not allowed here"
        )
    return str(Path(url).expanduser().resolve())
