"""The git workspace with real git: mirror reuse, hardening, URL policy, limits, cleanup."""

from __future__ import annotations

import fcntl
import os
import socket
import stat
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from scanners.context import RepoContext
from scanners.workspace import (
    RepositoryError,
    Workspace,
    WorkspacePolicy,
    redact_url,
    validate_url,
)
from tests.gitrepo import commit_all, git, make_repo, write_files

HOOK = "#!/bin/sh\necho ran > {marker}\n"


@pytest.fixture
def policy(tmp_path: Path) -> WorkspacePolicy:
    """Local paths allowed (tests clone from tmp_path), a private cache."""
    return WorkspacePolicy(allow_local_paths=True, cache_dir=tmp_path / "cache", clone_timeout_s=60)


@pytest.fixture
def upstream(tmp_path: Path) -> tuple[Path, Path]:
    """(work repository, bare repository it pushes to), one commit on main."""
    work = make_repo(tmp_path / "work", {"README.md": "one\n", "app/main.py": "x = 1\n"})
    bare = tmp_path / "upstream.git"
    git(tmp_path, "clone", "-q", "--bare", str(work), str(bare))
    git(work, "remote", "add", "origin", str(bare))
    return work, bare


def _checkouts(policy: WorkspacePolicy) -> list[Path]:
    return list((policy.cache_dir / "checkouts").iterdir())


# ----- mirror cache ----------------------------------------------------------------------
def test_second_checkout_fetches_into_the_same_mirror(
    policy: WorkspacePolicy, upstream: tuple[Path, Path]
) -> None:
    work, bare = upstream
    workspace = Workspace(policy)
    with workspace.checkout(str(bare)) as first:
        assert (first.path / "README.md").read_text() == "one\n"
        assert first.ref == "main"
    mirror = workspace.mirror_path(validate_url(str(bare), policy))
    marker = mirror / "yardstick-test-marker"
    marker.write_text("kept")
    inode = mirror.stat().st_ino

    write_files(work, {"README.md": "two\n"})
    new_sha = commit_all(work, "docs: second")
    git(work, "push", "-q", "origin", "main")

    with workspace.checkout(str(bare)) as second:
        assert second.commit_sha == new_sha != first.commit_sha
        assert (second.path / "README.md").read_text() == "two\n"
    assert marker.read_text() == "kept"  # fetched, not recloned
    assert mirror.stat().st_ino == inode


def test_fetch_prunes_deleted_branches_and_sees_new_tags(
    policy: WorkspacePolicy, upstream: tuple[Path, Path]
) -> None:
    work, bare = upstream
    git(work, "push", "-q", "origin", "main:feature")
    workspace = Workspace(policy)
    mirror = workspace.sync(str(bare))
    assert git(mirror, "branch", "--list", "feature").strip()
    git(work, "push", "-q", "origin", ":feature")
    git(work, "tag", "v1.0")
    git(work, "push", "-q", "origin", "v1.0")
    assert workspace.sync(str(bare)) == mirror
    assert not git(mirror, "branch", "--list", "feature").strip()
    with workspace.checkout(str(bare), ref="v1.0") as tagged:
        assert tagged.ref == "v1.0"
        assert tagged.commit_sha == git(work, "rev-parse", "HEAD").strip()


def test_checkout_of_an_exact_older_commit_keeps_full_history(
    policy: WorkspacePolicy, upstream: tuple[Path, Path]
) -> None:
    work, bare = upstream
    old_sha = git(work, "rev-parse", "HEAD").strip()
    write_files(work, {"README.md": "newer\n"})
    commit_all(work, "docs: newer")
    git(work, "push", "-q", "origin", "main")
    with Workspace(policy).checkout(str(bare), ref=old_sha) as checkout:
        assert checkout.commit_sha == old_sha
        assert (checkout.path / "README.md").read_text() == "one\n"
        ctx = RepoContext(checkout.path)
        assert ctx.commit_sha == old_sha
        assert ctx.files == ["README.md", "app/main.py"]
    with Workspace(policy).checkout(str(bare), ref="main") as latest:
        log = git(latest.path, "log", "--format=%s").splitlines()
        assert log == ["docs: newer", "feat: initial commit"]


@pytest.mark.parametrize("ref", ["no-such-branch", "0" * 40, "--output=/tmp/x", "main\nx"])
def test_unknown_or_unsafe_ref_is_refused(
    policy: WorkspacePolicy, upstream: tuple[Path, Path], ref: str
) -> None:
    with (
        pytest.raises(RepositoryError, match="ref"),
        Workspace(policy).checkout(str(upstream[1]), ref=ref),
    ):
        pytest.fail("a checkout was produced")
    assert _checkouts(policy) == []


def test_inherited_git_environment_does_not_leak_in(
    policy: WorkspacePolicy, upstream: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    # As inside a git hook (pre-commit): these would redirect every git call.
    monkeypatch.setenv("GIT_DIR", str(upstream[0] / ".git"))
    monkeypatch.setenv("GIT_INDEX_FILE", "/nonexistent/index")
    monkeypatch.setenv("GIT_CONFIG_PARAMETERS", "'core.hooksPath'='/tmp'")
    with Workspace(policy).checkout(str(upstream[1])) as checkout:
        assert (checkout.path / "app" / "main.py").is_file()


# ----- hardening -------------------------------------------------------------------------
def _hook(folder: Path, marker: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    hook = folder / "post-checkout"
    hook.write_text(HOOK.format(marker=marker))
    hook.chmod(hook.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


def test_hooks_of_the_scanned_repository_never_run(
    policy: WorkspacePolicy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    marker = tmp_path / "hook-ran"
    # Even a user's global config naming a hooks folder must not reach the workspace's git.
    _hook(tmp_path / "global-hooks", marker)
    home = tmp_path / "home"
    home.mkdir()
    (home / ".gitconfig").write_text(f"[core]\n\thooksPath = {tmp_path / 'global-hooks'}\n")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(home / ".gitconfig"))
    source = make_repo(tmp_path / "hooked", {"README.md": "x\n"})
    _hook(source / ".git" / "hooks", marker)
    _hook(source / ".githooks", marker)  # tracked hooks, as some projects ship them
    commit_all(source, "chore: hooks")
    git(source, "config", "core.hooksPath", ".githooks")
    git(source, "checkout", "-q", "-b", "proof")  # the hook is live in its own repository
    assert marker.exists()
    marker.unlink()

    with Workspace(policy).checkout(str(source), ref="proof") as checkout:
        assert (checkout.path / ".githooks" / "post-checkout").is_file()
        git(checkout.path, "status")  # git in the checkout afterwards runs no hook either
    assert not marker.exists()


def test_symlinks_out_of_the_checkout_are_not_followed(
    policy: WorkspacePolicy, tmp_path: Path
) -> None:
    (tmp_path / "outside.txt").write_text("secret\n")
    source = make_repo(tmp_path / "links", {"README.md": "x\n"})
    (source / "passwd").symlink_to("/etc/passwd")
    (source / "up").symlink_to("../../../../../../outside.txt")
    (source / "inside").symlink_to("README.md")
    commit_all(source, "feat: links")
    with Workspace(policy).checkout(str(source)) as checkout:
        assert (checkout.path / "passwd").is_symlink()
        ctx = RepoContext(checkout.path)
        assert "passwd" not in ctx.files
        assert "up" not in ctx.files
        assert "inside" in ctx.files
        assert ctx.read_text("passwd") is None
        assert {note.path for note in ctx.notes} >= {"passwd", "up"}


def test_mirror_over_the_size_limit_is_refused_and_removed(
    policy: WorkspacePolicy, tmp_path: Path
) -> None:
    source = make_repo(tmp_path / "big", {"blob.bin": os.urandom(300_000)})
    small = replace(policy, max_repo_bytes=100_000)
    workspace = Workspace(small)
    with pytest.raises(RepositoryError, match=r"larger than|over the"):
        workspace.sync(str(source))
    assert not workspace.mirror_path(validate_url(str(source), small)).exists()
    assert [p.suffix for p in (small.cache_dir / "mirrors").iterdir()] == [".lock"]


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A loopback TCP server that accepts connections and never answers."""
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(5)
    server.settimeout(0.2)
    held: list[socket.socket] = []
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            held.append(conn)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield server.getsockname()[1]
    finally:
        stop.set()
        thread.join(timeout=5)
        for conn in held:
            conn.close()
        server.close()


def test_hanging_clone_is_killed_at_the_time_limit(tmp_path: Path, silent_server: int) -> None:
    policy = WorkspacePolicy(
        allowed_schemes=frozenset({"git"}), cache_dir=tmp_path / "cache", clone_timeout_s=1.5
    )
    started = time.monotonic()
    with (
        pytest.raises(RepositoryError, match=r"timed out after 1\.5s"),
        Workspace(policy).checkout(f"git://127.0.0.1:{silent_server}/repo.git"),
    ):
        pytest.fail("a checkout was produced")
    assert time.monotonic() - started < 15
    assert [p.suffix for p in (policy.cache_dir / "mirrors").iterdir()] == [".lock"]
    assert _checkouts(policy) == []


def test_credentials_never_appear_in_errors(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port that refuses connections
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    policy = WorkspacePolicy(
        allowed_schemes=frozenset({"http"}), cache_dir=tmp_path / "cache", clone_timeout_s=30
    )
    with pytest.raises(RepositoryError) as caught:
        Workspace(policy).sync(f"http://robot:s3cr3t-t0ken@127.0.0.1:{port}/org/repo.git")
    assert "s3cr3t-t0ken" not in str(caught.value)
    assert "git clone failed" in str(caught.value)


def test_lock_held_by_another_scan_times_out(
    policy: WorkspacePolicy, upstream: tuple[Path, Path]
) -> None:
    impatient = replace(policy, lock_timeout_s=0.3)
    workspace = Workspace(impatient)
    lock = workspace.mirror_path(validate_url(str(upstream[1]), impatient)).with_suffix(".lock")
    with open(lock, "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        with pytest.raises(RepositoryError, match="holds its lock"):
            workspace.sync(str(upstream[1]))
    assert workspace.sync(str(upstream[1])).is_dir()  # released: goes ahead


# ----- cleanup ---------------------------------------------------------------------------
def test_scratch_tree_is_removed_when_the_block_raises(
    policy: WorkspacePolicy, upstream: tuple[Path, Path]
) -> None:
    kept: list[Path] = []

    def scan_that_crashes() -> None:
        with Workspace(policy).checkout(str(upstream[1])) as checkout:
            kept.append(checkout.path)
            assert checkout.path.is_dir()
            raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        scan_that_crashes()
    assert not kept[0].exists()
    assert _checkouts(policy) == []


def test_scratch_tree_is_removed_after_a_normal_exit(
    policy: WorkspacePolicy, upstream: tuple[Path, Path]
) -> None:
    with Workspace(policy).checkout(str(upstream[1])) as checkout:
        path = checkout.path
    assert not path.exists()
    assert _checkouts(policy) == []


def test_failed_first_clone_leaves_no_mirror(policy: WorkspacePolicy, tmp_path: Path) -> None:
    missing = tmp_path / "not-a-repo"
    missing.mkdir()
    workspace = Workspace(policy)
    with pytest.raises(RepositoryError, match="git clone failed"):
        workspace.sync(str(missing))
    leftovers = [p.name for p in (policy.cache_dir / "mirrors").iterdir()]
    assert all(name.endswith(".lock") for name in leftovers)


# ----- URL policy ------------------------------------------------------------------------
STRICT = WorkspacePolicy(cache_dir=Path("/nonexistent"))


@pytest.mark.parametrize(
    ("url", "policy", "message"),
    [
        ("", STRICT, "empty"),
        ("ext::sh -c touch% /tmp/pwned", STRICT, "transport helpers ('ext::')"),
        ("fd::17", STRICT, "transport helpers ('fd::')"),
        ("--upload-pack=touch /tmp/pwned", STRICT, "must not start with '-'"),
        ("-oProxyCommand=x", STRICT, "must not start with '-'"),
        ("ssh://-oProxyCommand=calc/repo", STRICT, "invalid host"),
        ("ssh://-oProxyCommand=calc@host/repo", STRICT, "invalid user"),
        ("-host:org/repo", STRICT, "must not start with '-'"),
        ("git@host:-repo", STRICT, "invalid ssh URL"),
        ("http://github.com/org/repo", STRICT, "scheme 'http' is not allowed"),
        ("git://github.com/org/repo", STRICT, "scheme 'git' is not allowed"),
        ("ftp://github.com/org/repo", STRICT, "unsupported URL scheme 'ftp'"),
        ("file:///srv/repo.git", STRICT, "file:// URLs"),
        ("/srv/repo.git", STRICT, "local paths are not allowed"),
        ("../repo", STRICT, "local paths are not allowed"),
        ("https://github.com/org/re po", STRICT, "whitespace or control"),
        ("https://github.com/org/repo\n", STRICT, "whitespace or control"),
        ("https://github.com/org/\x1brepo", STRICT, "whitespace or control"),
        ("https://github.com/", STRICT, "names no repository path"),
        ("https://github.com:99999/org/repo", STRICT, "malformed"),
        (
            "https://evil.example/org/repo",
            replace(STRICT, allowed_hosts=frozenset({"github.com"})),
            "host 'evil.example' is not allowed",
        ),
        (
            "git@evil.example:org/repo",
            replace(STRICT, allowed_hosts=frozenset({"github.com"})),
            "host 'evil.example' is not allowed",
        ),
        (
            "git@github.com:org/repo",
            replace(STRICT, allowed_schemes=frozenset({"https"})),
            "ssh URLs",
        ),
    ],
)
def test_rejected_urls_say_why(url: str, policy: WorkspacePolicy, message: str) -> None:
    with pytest.raises(RepositoryError) as caught:
        validate_url(url, policy)
    assert message in str(caught.value)


@pytest.mark.parametrize(
    ("url", "normalised"),
    [
        ("HTTPS://GitHub.com/Org/Repo.git/", "https://github.com/Org/Repo.git"),
        ("https://token@github.com/org/repo", "https://token@github.com/org/repo"),
        ("ssh://git@GitHub.com:2222/org/repo.git", "ssh://git@github.com:2222/org/repo.git"),
        ("git+ssh://git@github.com/org/repo", "ssh://git@github.com/org/repo"),
        ("git@GitHub.com:org/repo.git", "git@github.com:org/repo.git"),
        ("https://[::1]:8443/org/repo", "https://[::1]:8443/org/repo"),
    ],
)
def test_accepted_urls_are_normalised(url: str, normalised: str) -> None:
    assert validate_url(url, STRICT) == normalised


def test_local_paths_and_file_urls_only_when_allowed(tmp_path: Path) -> None:
    allowed = replace(STRICT, allow_local_paths=True)
    assert validate_url(str(tmp_path / "a" / ".." / "b"), allowed) == str(tmp_path / "b")
    assert validate_url(f"FILE://{tmp_path}", allowed) == f"file://{tmp_path}"


def test_allowed_hosts_match_case_insensitively() -> None:
    policy = replace(STRICT, allowed_hosts=frozenset({"GitHub.com"}))
    assert validate_url("https://github.com/org/repo", policy) == "https://github.com/org/repo"


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://user:pa55@github.com/org/repo", "https://user:***@github.com/org/repo"),
        ("https://ghp_token@github.com/org/repo", "https://***@github.com/org/repo"),
        ("ssh://git@github.com/org/repo", "ssh://git@github.com/org/repo"),
        ("git@github.com:org/repo", "git@github.com:org/repo"),
        ("https://github.com/org/repo", "https://github.com/org/repo"),
    ],
)
def test_redact_url_hides_secrets_only(url: str, shown: str) -> None:
    assert redact_url(url) == shown


def test_checkout_reports_the_redacted_url(tmp_path: Path, upstream: tuple[Path, Path]) -> None:
    policy = WorkspacePolicy(allow_local_paths=True, cache_dir=tmp_path / "cache")
    with Workspace(policy).checkout(f"file://{upstream[1]}") as checkout:
        assert checkout.url == f"file://{upstream[1]}"
        assert (checkout.path / "README.md").is_file()


# ----- commit order on the tracked branch (CI uploads) -------------------------------------
def test_commit_on_branch_and_commit_order_come_from_the_fetched_mirror(
    policy: WorkspacePolicy, upstream: tuple[Path, Path]
) -> None:
    work, bare = upstream
    older = git(work, "rev-parse", "HEAD").strip()
    git(work, "checkout", "-q", "-b", "feature")
    unmerged = commit_all(work, "feat: not merged")
    git(work, "push", "-q", "origin", "feature")
    git(work, "checkout", "-q", "main")
    newer = commit_all(work, "feat: second")
    git(work, "push", "-q", "origin", "main")
    workspace = Workspace(policy)
    url = str(bare)
    assert workspace.commit_on_branch(url, older, "main") is True
    assert workspace.commit_on_branch(url, newer, "main") is True
    assert workspace.commit_on_branch(url, unmerged, "main") is False
    assert workspace.commit_on_branch(url, "ab" * 20, "main") is False
    assert workspace.commit_on_branch(url, "not-a-sha", "main") is False
    assert workspace.is_ancestor(url, older, newer) is True
    assert workspace.is_ancestor(url, newer, older) is False
    assert workspace.is_ancestor(url, "ab" * 20, newer) is None
    with pytest.raises(RepositoryError):
        workspace.commit_on_branch(url, older, "no-such-branch")
