"""Hardened git access: a mirror cache per repository and scratch checkouts.

A repository is cloned once (bare, heads and tags, full history: history rules need it) into
`<cache_dir>/mirrors/<sha256 of the URL>.git`; later scans `git fetch --prune` that mirror.
Each scan checks the exact commit out into a scratch tree that disappears when the
`checkout()` context exits, however it exits.

The URL (checked by `scanners.repo_url`) and the repository are untrusted. Every git call
gets a scrubbed environment (no inherited `GIT_*` variables, no system or global config, no
prompts) and `-c` options that disable hooks, fsmonitor, submodule recursion and every
transport the policy does not allow. Each call runs in its own process group and is killed
with its children at the time limit; the mirror is measured while it grows and refused past
the size limit.

Git runs through `subprocess` rather than GitPython's command wrapper because the wrapper
always inherits the caller's environment and cannot time out `clone_from`; the checkouts
themselves are read through GitPython by `RepoContext`.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import shlex
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TypeVar
from urllib.parse import urlsplit

from scanners import netpolicy
from scanners.repo_url import (
    _SCP_LIKE,
    SCHEME,
    UNSAFE_CHAR,
    RepositoryError,
    WorkspacePolicy,
    default_cache_dir,
    redact_url,
    validate_url,
)
from scanners.scratch import scratch_dir, sweep
from scanners.tree_limits import check_tree

_T = TypeVar("_T")
#: Scratch folder names: checkouts under `checkouts/`, clones in progress under `mirrors/`.
CHECKOUT_PREFIX, PARTIAL_PREFIX = "checkout-", ".partial-"

_HEX_SHA = re.compile(r"^[0-9a-f]{40}([0-9a-f]{24})?$")
# Variables that must never reach git from the caller's environment (credentials and ssh
# settings stay: operators use them for deploy keys).
_KEEP_GIT_VARS = frozenset({"GIT_SSH", "GIT_SSH_COMMAND", "GIT_SSH_VARIANT"})

__all__ = [
    "REMOTE_REASONS",
    "Checkout",
    "RemoteCheckFailed",
    "RepositoryError",
    "Workspace",
    "WorkspacePolicy",
    "default_cache_dir",
    "redact_url",
    "validate_url",
]


@dataclass(frozen=True, slots=True)
class Checkout:
    """A scratch tree holding one commit; valid inside the `checkout()` block only."""

    path: Path
    commit_sha: str
    ref: str
    url: str  # redacted: safe to log and store


# ----- running git -----------------------------------------------------------------------
def _tree_bytes(path: Path) -> int:
    """Disk use of a folder (like `du`), never following symlinks."""
    total = 0
    for dirpath, _dirnames, filenames in os.walk(path, followlinks=False):
        for name in filenames:
            try:
                total += os.lstat(os.path.join(dirpath, name)).st_blocks * 512
            except OSError:
                continue  # a temporary file git removed meanwhile
    return total


def _mib(size: int) -> str:
    return f"{size / 1024**2:.0f} MiB"


class _Git:
    """Runs hardened git commands; every failure becomes a RepositoryError."""

    def __init__(self, policy: WorkspacePolicy, empty_dir: Path) -> None:
        self.policy = policy
        self.empty_dir = empty_dir

    def env(self) -> dict[str, str]:
        env = {
            k: v for k, v in os.environ.items() if not k.startswith("GIT_") or k in _KEEP_GIT_VARS
        }
        env.update(
            GIT_TERMINAL_PROMPT="0",
            GIT_CONFIG_NOSYSTEM="1",
            GIT_CONFIG_GLOBAL=os.devnull,
            GIT_ASKPASS="/bin/true",
            SSH_ASKPASS_REQUIRE="never",
            LC_ALL="C",
        )
        env.setdefault("GIT_SSH_COMMAND", "ssh -o BatchMode=yes")
        return env

    def config(self, *, local_transport: bool) -> list[str]:
        """`-c` options for one call; `local_transport` lets git read a path on disk."""
        allowed = set(self.policy.allowed_schemes) & {"https", "http", "ssh", "git"}
        if self.policy.allow_local_paths or local_transport:
            allowed.add("file")
        options = [
            f"core.hooksPath={self.empty_dir}",
            "core.fsmonitor=false",
            "core.protectNTFS=true",
            "core.protectHFS=true",
            "submodule.recurse=false",
            "fetch.recurseSubmodules=false",
            "credential.helper=",
            "gc.autoDetach=false",  # no background gc outliving the lock
            "maintenance.autoDetach=false",
            "http.followRedirects=false",  # a redirect could point anywhere, unchecked
            "protocol.allow=never",
            "protocol.ext.allow=never",
            *(f"protocol.{name}.allow=always" for name in sorted(allowed)),
        ]
        return [arg for option in options for arg in ("-c", option)]

    def _start(
        self,
        args: Sequence[str],
        cwd: Path | None,
        *,
        local_transport: bool,
        remote: str | None = None,
    ) -> subprocess.Popen[bytes]:
        """Start `git <args>` in its own process group, its output piped.

        `remote` is the URL the command contacts: its host is resolved and checked right
        now and git connects to the checked addresses only (`_pinned`). Run in the empty
        folder, git looks for no repository around it (whose config it would read).
        """
        env = self.env()
        if cwd == self.empty_dir:
            env["GIT_CEILING_DIRECTORIES"] = str(self.empty_dir.parent)
        pins: list[str] = []
        if remote is not None:
            pins, env = self._pinned(remote, env)
        argv = ["git", *self.config(local_transport=local_transport), *pins, *args]
        try:
            return subprocess.Popen(  # noqa: S603 - argv list, no shell, validated inputs
                argv,
                cwd=cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                start_new_session=True,
            )
        except OSError as exc:
            raise RepositoryError(f"cannot run git: {exc.strerror}") from exc

    def run(
        self,
        args: Sequence[str],
        *,
        cwd: Path | None = None,
        watch: Path | None = None,
        local_transport: bool = False,
        secrets: Mapping[str, str] | None = None,
        remote: str | None = None,
        summarise: Callable[[str], str] | None = None,
    ) -> str:
        """Run `git <args>`; kill it at the time limit or when `watch` outgrows the limit.

        With `remote` (the URL the command contacts) git is pinned to its checked addresses
        (`_start`), and a failure gets a generic message (`_network_message`, or
        `summarise`), never curl's or ssh's own text.
        """
        shown = " ".join(args[:1])
        proc = self._start(args, cwd, local_transport=local_transport, remote=remote)
        deadline = time.monotonic() + self.policy.clone_timeout_s
        while True:
            try:
                out, err = proc.communicate(timeout=0.25)
                break
            except subprocess.TimeoutExpired:
                problem = None
                if time.monotonic() > deadline:
                    problem = f"timed out after {self.policy.clone_timeout_s:g}s"
                elif watch is not None and _tree_bytes(watch) > self.policy.max_repo_bytes:
                    problem = f"repository is larger than {_mib(self.policy.max_repo_bytes)}"
                if problem:
                    _kill_group(proc)
                    raise RepositoryError(f"git {shown}: {problem}") from None
        if proc.returncode != 0:
            stderr = _scrubbed(err.decode("utf-8", "replace"), secrets or {})
            message = _last_line(stderr, {})
            if summarise is not None:
                message = summarise(stderr)  # every line: the telling one may not be last
            elif remote is not None and _remote_host(remote) is not None:
                message = _network_message(message)
            raise RepositoryError(f"git {shown} failed: {message}")
        return out.decode("utf-8", "replace").strip()

    def _pinned(self, url: str, env: dict[str, str]) -> tuple[list[str], dict[str, str]]:
        """`-c` options and environment that make git connect to checked addresses only.

        http(s): `http.curloptResolve` pins curl to the checked addresses (TLS still
        verifies the name). ssh: `HostName=<address>` with `HostKeyAlias=<name>` pins ssh and
        keeps the known_hosts entry of the name. git://: checked, not pinned (the window
        between the check and git's own lookup is the only gap). With internal hosts
        allowed and no injected resolver nothing is resolved here: git resolves as usual.
        """
        target = _remote_host(url)
        if target is None or (self.policy.allow_internal_hosts and not self.policy.resolver):
            return [], env
        scheme, host, port = target
        try:
            addresses = netpolicy.resolve_checked(
                host,
                port,
                allow_internal=self.policy.allow_internal_hosts,
                resolver=self.policy.resolver,
            )
        except netpolicy.HostRefused as exc:
            if str(exc) == netpolicy.UNREACHABLE:
                raise RepositoryError(UNREACHABLE_MESSAGE) from None
            raise RepositoryError(str(exc)) from None
        if netpolicy.literal_address(netpolicy.decode_host(host)) is not None:
            return [], env  # an address: nothing is resolved, nothing to pin
        if scheme in ("http", "https"):
            shown = ",".join(f"[{a}]" if ":" in a else a for a in addresses)
            return ["-c", f"http.curloptResolve={host}:{port}:{shown}"], env
        if scheme == "ssh":
            # known_hosts names a host on another port `[host]:port`; the alias is used as is.
            alias = host if port == _DEFAULT_PORTS["ssh"] else f"[{host}]:{port}"
            pinned = f"-o HostName={shlex.quote(addresses[0])} -o HostKeyAlias={shlex.quote(alias)}"
            return [], {**env, "GIT_SSH_COMMAND": f"{env['GIT_SSH_COMMAND']} {pinned}"}
        return [], env

    def answer(self, args: Sequence[str], cwd: Path) -> int:
        """Exit code of a local, yes/no git question (`merge-base --is-ancestor`); killed and
        raised as RepositoryError at the time limit."""
        proc = self._start(args, cwd, local_transport=False)
        try:
            proc.communicate(timeout=self.policy.clone_timeout_s)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            raise RepositoryError(f"git {' '.join(args[:1])}: timed out") from None
        return proc.returncode

    def read(self, args: Sequence[str], cwd: Path, consume: Callable[[IO[bytes]], _T]) -> _T:
        """Run `git <args>` and let `consume` read its output as it streams; stop git (and
        re-raise) when `consume` raises, and at the time limit."""
        shown = " ".join(args[:1])
        proc = self._start(args, cwd, local_transport=False)
        timer = threading.Timer(self.policy.clone_timeout_s, _kill_quietly, [proc])
        timer.start()
        stdout = proc.stdout
        if stdout is None:  # pragma: no cover - _start always pipes stdout
            raise RepositoryError(f"git {shown}: no output stream")
        try:
            result = consume(stdout)
        except BaseException:
            _kill_group(proc)
            raise
        finally:
            timer.cancel()
        _out, err = proc.communicate()
        if proc.returncode == -signal.SIGKILL:
            raise RepositoryError(f"git {shown}: timed out after {self.policy.clone_timeout_s:g}s")
        if proc.returncode != 0:
            raise RepositoryError(
                f"git {shown} failed: {_last_line(err.decode('utf-8', 'replace'), {})}"
            )
        return result


#: What a scan says when the repository's host cannot be reached, whatever the cause
#: (refused, filtered, TLS, a non-git server): the details would make a port scanner.
UNREACHABLE_MESSAGE = "could not reach the repository host"
_DEFAULT_PORTS = {"https": 443, "http": 80, "ssh": 22, "git": 9418}
_DENIED = re.compile(
    r"not found|does not appear to be a git repository|authentication failed|"
    r"permission denied|could not read (username|password)|returned error: 40[134]",
    re.IGNORECASE,
)
_NO_REF = re.compile(r"not our ref|couldn't find remote ref|no such remote ref", re.IGNORECASE)
_REDIRECT = re.compile(r"returned error: 30\d|redirect", re.IGNORECASE)


def _remote_host(url: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) of a validated network URL; None for a local path or file URL."""
    if match := SCHEME.match(url):
        scheme = match.group(1).lower()
        if scheme == "file":
            return None
        parts = urlsplit(url)
        scheme = "ssh" if scheme in ("git+ssh", "ssh+git") else scheme
        return scheme, parts.hostname or "", parts.port or _DEFAULT_PORTS.get(scheme, 0)
    scp = _SCP_LIKE.match(url)
    if scp and "/" not in url.split(":", 1)[0]:
        return "ssh", scp.group("host"), 22
    return None


def _network_message(line: str) -> str:
    """The safe summary of a failed fetch: git's line names the machine's own problem, or
    the repository's absence; anything else about the connection becomes generic."""
    if any(cause in line for cause in _RESOURCE_ERRORS):
        return line
    if _NO_REF.search(line):
        return "the ref was not found in the repository"
    if _REDIRECT.search(line):
        return "the repository host answered with a redirect, which is not followed"
    if _DENIED.search(line):
        return "repository not found, or access denied"
    return UNREACHABLE_MESSAGE


class RemoteCheckFailed(RepositoryError):
    """`Workspace.check_remote` failed; `reason` is one of `REMOTE_REASONS`, the message is
    safe to show (never curl's or ssh's own text about the connection)."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


#: Why a remote check fails, in the order git's last line is matched; the last, unmatched
#: case is "unreachable" (closed, filtered, TLS, not a git server: the details would make a
#: port scanner). "refused" (the policy) and "timeout" are decided before git's answer.
_CHECK_PROBLEMS = (
    (
        "host_key",
        re.compile(r"host key verification failed", re.IGNORECASE),
        "the host's ssh key is not known to Yardstick's workers (add it to their known_hosts)",
    ),
    (
        "auth",
        re.compile(
            r"could not read (username|password)|authentication failed|returned error: 401|"
            r"permission denied \(publickey|terminal prompts disabled",
            re.IGNORECASE,
        ),
        "the host asks for credentials: the repository is private or does not exist (use a URL "
        "with a read-only token, or an ssh URL whose deploy key the workers hold)",
    ),
    (
        "not_found",
        re.compile(
            r"not found|does not appear to be a git repository|returned error: 40[34]|"
            r"no such file or directory|access denied|permission denied",
            re.IGNORECASE,
        ),
        "repository not found, or not accessible with this URL",
    ),
    (
        "redirect",
        _REDIRECT,
        "the repository host answered with a redirect, which is not followed: register the URL "
        "it points to",
    ),
)
REMOTE_REASONS = ("refused", "timeout", "unreachable", *(case[0] for case in _CHECK_PROBLEMS))
_CHECK_REASON = {message: reason for reason, _pattern, message in _CHECK_PROBLEMS}


def _check_message(line: str) -> str:
    """What a failed `ls-remote` says, from all of git's stderr (see `_CHECK_PROBLEMS`)."""
    for _reason, pattern, message in _CHECK_PROBLEMS:
        if pattern.search(line):
            return message
    return UNREACHABLE_MESSAGE


def _check_failure(exc: RepositoryError, timeout_s: float) -> RemoteCheckFailed:
    """The reason and message of a failed `ls-remote` run (`_Git.run`'s RepositoryError)."""
    text = str(exc)
    if text.startswith("git ls-remote failed: "):
        message = text.removeprefix("git ls-remote failed: ")
        return RemoteCheckFailed(_CHECK_REASON.get(message, "unreachable"), message)
    if text.startswith("git ls-remote: timed out"):
        return RemoteCheckFailed(
            "timeout", f"the repository host did not answer within {timeout_s:g}s"
        )
    if text in (UNREACHABLE_MESSAGE, netpolicy.UNREACHABLE) or text.startswith("cannot run git"):
        return RemoteCheckFailed("unreachable", UNREACHABLE_MESSAGE)
    return RemoteCheckFailed("refused", text)  # the address policy, before any connection


def _kill_quietly(proc: subprocess.Popen[bytes]) -> None:
    with suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    _kill_quietly(proc)
    proc.communicate()


#: The machine, not the repository, failed: this line says why better than git's last one
#: (a full disk ends with "fetch-pack: invalid index-pack output").
_RESOURCE_ERRORS = (
    "No space left on device",
    "Disk quota exceeded",
    "File too large",
    "Cannot allocate memory",
    "Out of memory",
)


def _scrubbed(stderr: str, secrets: Mapping[str, str]) -> str:
    """Git's stderr with the URL's secrets replaced."""
    for secret, shown in secrets.items():
        stderr = stderr.replace(secret, shown)
    return stderr


def _last_line(stderr: str, secrets: Mapping[str, str]) -> str:
    """The most telling line of git's stderr, with the URL's secrets replaced."""
    stderr = _scrubbed(stderr, secrets)
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    fatal = [line for line in lines if line.startswith(("fatal:", "error:"))]
    resource = [line for line in fatal if any(cause in line for cause in _RESOURCE_ERRORS)]
    return (resource or fatal or lines or ["no output"])[-1][:500]


# ----- the workspace ---------------------------------------------------------------------
class Workspace:
    """Mirror cache and scratch checkouts under `policy.cache_dir` (see module docstring)."""

    def __init__(self, policy: WorkspacePolicy | None = None) -> None:
        self.policy = policy or WorkspacePolicy()
        root = self.policy.cache_dir
        self.mirrors_dir = root / "mirrors"
        self.checkouts_dir = root / "checkouts"
        empty = root / "empty"  # hooks path and clone template: nothing to run or copy
        try:
            for folder in (self.mirrors_dir, self.checkouts_dir, empty):
                folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise RepositoryError(f"cannot create cache folder {root}: {exc.strerror}") from exc
        if any(empty.iterdir()):
            raise RepositoryError(f"{empty} must stay empty: it is git's hooks path")
        self._git = _Git(self.policy, empty)
        self._empty = empty

    def mirror_path(self, url: str) -> Path:
        """Where the mirror of a (validated, normalised) URL lives."""
        key = hashlib.sha256(url.encode("utf-8")).hexdigest()[:32]
        return self.mirrors_dir / f"{key}.git"

    @contextmanager
    def _locked(self, mirror: Path) -> Iterator[None]:
        """Hold the repository's lock (flock on `<mirror>.lock`) for mutating operations."""
        lock_path = mirror.with_suffix(".lock")
        deadline = time.monotonic() + self.policy.lock_timeout_s
        with open(lock_path, "a+b") as handle:
            while True:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise RepositoryError(
                            "another scan of this repository holds its lock"
                        ) from None
                    time.sleep(0.1)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def sync(self, url: str) -> Path:
        """Validate `url`, clone or fetch its mirror under the lock; return the mirror."""
        normalised = validate_url(url, self.policy)
        mirror = self.mirror_path(normalised)
        with self._locked(mirror):
            self._sync_locked(normalised, mirror)
        return mirror

    def resolve(self, url: str, ref: str | None = None) -> tuple[str, str]:
        """Fetch `url` and return (commit sha, ref name) of `ref` or the default branch.

        Cheap on a warm mirror (one fetch), so callers can skip work for a commit they have
        already judged before paying for a checkout.
        """
        normalised = validate_url(url, self.policy)
        mirror = self.mirror_path(normalised)
        with self._locked(mirror):
            self._sync_locked(normalised, mirror)
            return self._resolve(normalised, mirror, ref)

    def _sync_locked(self, url: str, mirror: Path) -> None:
        secrets = {url: redact_url(url)}
        if mirror.is_dir() and not (mirror / "HEAD").is_file():
            shutil.rmtree(mirror, ignore_errors=True)  # a broken leftover, not a mirror
        if mirror.is_dir():
            self._git.run(
                [
                    "fetch",
                    "--prune",
                    "--no-recurse-submodules",
                    "--no-write-fetch-head",
                    "--",
                    url,
                    "+refs/heads/*:refs/heads/*",
                    "+refs/tags/*:refs/tags/*",
                ],
                cwd=mirror,
                watch=mirror,
                secrets=secrets,
                remote=url,
            )
        else:
            self._clone(url, mirror, secrets)
        size = _tree_bytes(mirror)
        if size > self.policy.max_repo_bytes:
            shutil.rmtree(mirror, ignore_errors=True)
            raise RepositoryError(
                f"repository is {_mib(size)}, over the {_mib(self.policy.max_repo_bytes)} limit"
            )

    def _clone(self, url: str, mirror: Path, secrets: Mapping[str, str]) -> None:
        # Clone beside the final place and rename, so a failed clone never looks like a mirror.
        # Bare rather than --mirror: heads and tags only, not hosting refs such as refs/pull/*.
        with scratch_dir(self.mirrors_dir, PARTIAL_PREFIX) as partial:
            self._git.run(
                [
                    "clone",
                    "--bare",
                    "--no-local",
                    f"--template={self._empty}",
                    "--",
                    url,
                    str(partial / "repo.git"),
                ],
                watch=partial,
                secrets=secrets,
                remote=url,
            )
            self._git.run(
                ["config", "remote.origin.url", redact_url(url)], cwd=partial / "repo.git"
            )
            (partial / "repo.git").rename(mirror)

    def _resolve(self, url: str, mirror: Path, ref: str | None) -> tuple[str, str]:
        """(commit sha, ref name) of `ref` or of the default branch in the mirror."""
        if ref is None:
            head = self._git.run(["symbolic-ref", "--quiet", "HEAD"], cwd=mirror)
            ref = head.removeprefix("refs/heads/")
        elif not ref or ref.startswith("-") or UNSAFE_CHAR.search(ref):
            raise RepositoryError(f"invalid ref {ref!r}")
        try:
            sha = self._rev_parse(mirror, ref)
        except RepositoryError:
            if not _HEX_SHA.match(ref):
                raise RepositoryError(f"ref {ref!r} not found in the repository") from None
            # A commit no branch points at (e.g. a pull request's): ask for it by id.
            self._fetch_into_no_ref(mirror, url, ref)
            sha = self._rev_parse(mirror, ref)
        return sha, ref

    def _fetch_into_no_ref(self, mirror: Path, url: str, what: str) -> None:
        """Fetch one commit id or ref from `url` into the mirror's objects, under no local ref."""
        self._git.run(
            ["fetch", "--no-write-fetch-head", "--", url, what],
            cwd=mirror,
            watch=mirror,
            secrets={url: redact_url(url)},
            remote=url,
        )

    def resolve_pull(self, url: str, sha: str, pull_ref: str) -> str:
        """Fetch `url`; commit `sha`, fetched by id, or else through the host's pull request
        ref (`refs/pull/N/head`, `refs/merge-requests/N/head`): a fork's commit reaches the
        base repository only there. The ref is fetched into no local ref (the mirror keeps
        heads and tags only); `RepositoryError` when neither has `sha`."""
        if (
            not _HEX_SHA.match(sha)
            or not pull_ref.startswith("refs/")
            or UNSAFE_CHAR.search(pull_ref)
        ):
            raise RepositoryError(f"invalid pull request head {sha!r} or ref {pull_ref!r}")
        try:
            return self.resolve(url, sha)[0]
        except RepositoryError:
            normalised = validate_url(url, self.policy)
            mirror = self.mirror_path(normalised)
            with self._locked(mirror):
                if not (mirror / "HEAD").is_file():
                    self._sync_locked(normalised, mirror)
                self._fetch_into_no_ref(mirror, normalised, pull_ref)
                try:
                    return self._rev_parse(mirror, sha)
                except RepositoryError:
                    raise RepositoryError(
                        f"commit {sha[:12]} is neither in the repository nor at {pull_ref}"
                    ) from None

    def check_remote(self, url: str) -> list[str]:
        """The branches `url` offers now (`git ls-remote --heads`), asked as a fetch would ask:
        the same policy, hardened settings and pinned addresses, within
        `policy.clone_timeout_s`. Raises RemoteCheckFailed (with its reason) otherwise.

        Nothing is written: no mirror, no lock. Git runs in the empty folder, so it reads no
        repository's config around it.
        """
        try:
            normalised = validate_url(url, self.policy)
        except RepositoryError as exc:
            raise RemoteCheckFailed("refused", str(exc)) from None
        try:
            out = self._git.run(
                ["ls-remote", "--heads", "--", normalised],
                cwd=self._empty,
                secrets={normalised: redact_url(normalised)},
                remote=normalised,
                summarise=_check_message,
            )
        except RepositoryError as exc:
            raise _check_failure(exc, self.policy.clone_timeout_s) from None
        heads = (line.partition("\t")[2] for line in out.splitlines())
        return [ref.removeprefix("refs/heads/") for ref in heads if ref.startswith("refs/heads/")]

    def commit_on_branch(self, url: str, sha: str, branch: str) -> bool:
        """Fetch `url`; whether commit `sha` is on `branch` (the branch head or one of its
        ancestors). False for a commit the repository does not have, or not on that branch.
        """
        if not _HEX_SHA.match(sha):
            return False
        normalised = validate_url(url, self.policy)
        mirror = self.mirror_path(normalised)
        with self._locked(mirror):
            self._sync_locked(normalised, mirror)
            head = self._resolve(normalised, mirror, branch)[0]
            return self._is_ancestor(mirror, sha, head) is True

    def is_ancestor(self, url: str, older: str, newer: str) -> bool | None:
        """Whether commit `older` is an ancestor of (or is) `newer` in the mirror as fetched last
        (no fetch: call after `resolve`); None when the mirror does not have one of them."""
        mirror = self.mirror_path(validate_url(url, self.policy))
        with self._locked(mirror):
            return self._is_ancestor(mirror, older, newer)

    def _is_ancestor(self, mirror: Path, older: str, newer: str) -> bool | None:
        if not (_HEX_SHA.match(older) and _HEX_SHA.match(newer)):
            return None
        code = self._git.answer(["merge-base", "--is-ancestor", older, newer], mirror)
        return {0: True, 1: False}.get(code)

    def _rev_parse(self, mirror: Path, ref: str) -> str:
        return self._git.run(
            ["rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}"],
            cwd=mirror,
        )

    @contextmanager
    def checkout(
        self, url: str, ref: str | None = None, *, fetch: bool = True
    ) -> Iterator[Checkout]:
        """Fetch `url` and check `ref` (default branch when None) out into a scratch tree.

        `fetch=False` uses the mirror as it is (right after `resolve`, which fetched).
        """
        normalised = validate_url(url, self.policy)
        mirror = self.mirror_path(normalised)
        # Marked in use until the block exits; `sweep_scratch` removes a killed worker's.
        with scratch_dir(self.checkouts_dir, CHECKOUT_PREFIX) as scratch:
            tree = scratch / "tree"
            with self._locked(mirror):
                if fetch or not (mirror / "HEAD").is_file():
                    self._sync_locked(normalised, mirror)
                sha, ref_name = self._resolve(normalised, mirror, ref)
                # Measured on the mirror's objects, before one file is written.
                self._git.read(
                    ["ls-tree", "-r", "-l", "-z", "--full-tree", sha],
                    mirror,
                    lambda out: check_tree(out, self.policy),
                )
                # --local hard-links the mirror's objects: cheap, and independent of later
                # fetches; the scratch clone keeps full history for the history rules.
                self._git.run(
                    [
                        "clone",
                        "--local",
                        "--no-checkout",
                        "--quiet",
                        f"--template={self._empty}",
                        "--",
                        str(mirror),
                        str(tree),
                    ],
                    local_transport=True,
                )
            self._git.run(["checkout", "--quiet", "--detach", "--force", sha], cwd=tree)
            yield Checkout(tree, sha, ref_name, redact_url(normalised))

    def sweep_scratch(self, older_than_s: float) -> int:
        """Remove checkouts and partial clones left by killed workers (no live process holds
        them) older than `older_than_s`; return how many were removed."""
        return sweep(self.checkouts_dir, CHECKOUT_PREFIX, older_than_s) + sweep(
            self.mirrors_dir, PARTIAL_PREFIX, older_than_s
        )
