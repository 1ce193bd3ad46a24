"""The workspace decides a host at fetch time, connects to the checked addresses only,
follows no redirect and never tells why a host could not be reached.

Every server is on loopback; names are resolved by injected resolvers (no DNS). A refused
host is proved untouched by a loopback server that records connections.
"""

from __future__ import annotations

import os
import socket
import stat
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import partial
from http.server import BaseHTTPRequestHandler, SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from scanners import netpolicy
from scanners.workspace import (
    UNREACHABLE_MESSAGE,
    RepositoryError,
    Workspace,
    WorkspacePolicy,
    _network_message,
    validate_url,
)
from tests.gitrepo import git, make_repo


@dataclass
class Server:
    """A loopback HTTP server: its address and the paths it was asked for."""

    host: str
    port: int
    paths: list[str] = field(default_factory=list)


@pytest.fixture
def serve() -> Iterator[object]:
    """Start loopback HTTP servers: `serve(handler_factory, host="127.0.0.1") -> Server`."""
    running: list[tuple[ThreadingHTTPServer, threading.Thread]] = []

    def start(handler: type[BaseHTTPRequestHandler], host: str = "127.0.0.1") -> Server:
        server = ThreadingHTTPServer((host, 0), handler)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        running.append((server, thread))
        return Server(host, server.server_port)

    yield start
    for server, thread in running:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def recorder(record: Server | None = None, *, location: str | None = None) -> type:
    """A handler recording each path in `record.paths`; answers 302 to `location` if set."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if record is not None:
                record.paths.append(self.path)
            self.send_response(302 if location else 404)
            if location:
                self.send_header("Location", location)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            """Quiet."""

    return Handler


def _recording_server(serve: object, host: str = "127.0.0.1") -> Server:
    record = Server(host, 0)
    started = serve(recorder(record), host)  # type: ignore[operator]
    record.port = started.port
    return record


def resolver_of(table: dict[str, Sequence[str]]) -> netpolicy.Resolver:
    """Answers from `table`; any other name fails as DNS would."""

    def resolve(host: str, port: int) -> Sequence[str]:
        if host not in table:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return table[host]

    return resolve


def _policy(tmp_path: Path, **overrides: object) -> WorkspacePolicy:
    settings: dict[str, object] = {
        "allowed_schemes": frozenset({"http", "https", "ssh"}),
        "allow_internal_hosts": False,
        "cache_dir": tmp_path / "cache",
        "clone_timeout_s": 30,
        **overrides,
    }
    return WorkspacePolicy(**settings)  # type: ignore[arg-type]


# ----- decided at fetch time -------------------------------------------------------------
@pytest.mark.parametrize("answer", ["127.0.0.1", "10.0.0.1", "::ffff:127.0.0.1"])
def test_a_name_resolving_inside_is_refused_at_fetch_and_never_contacted(
    tmp_path: Path, serve: object, answer: str
) -> None:
    target = _recording_server(serve)
    policy = _policy(tmp_path, resolver=resolver_of({"git.example": [answer]}))
    url = f"http://git.example:{target.port}/org/repo.git"
    assert validate_url(url, policy) == url  # the text alone looks public
    with pytest.raises(RepositoryError, match="resolves to an internal address"):
        Workspace(policy).sync(url)
    assert target.paths == []
    assert not list((tmp_path / "cache" / "mirrors").glob("*.git"))


def test_dns_rebinding_after_registration_is_refused_at_fetch(
    tmp_path: Path, serve: object
) -> None:
    target = _recording_server(serve)
    answers = iter([["140.82.112.3"], ["127.0.0.1"]])  # public first, loopback next

    def rebinding(host: str, port: int) -> Sequence[str]:
        return next(answers)

    policy = _policy(tmp_path, resolver=rebinding)
    url = f"http://rebind.example:{target.port}/org/repo.git"
    # Registration: the name resolves to a public address and is accepted.
    assert netpolicy.resolve_checked(
        "rebind.example", target.port, allow_internal=False, resolver=rebinding
    ) == ["140.82.112.3"]
    with pytest.raises(RepositoryError, match="resolves to an internal address"):
        Workspace(policy).sync(url)
    assert target.paths == []


def test_an_unresolvable_name_gives_the_generic_message(tmp_path: Path) -> None:
    policy = _policy(tmp_path, resolver=resolver_of({}))
    with pytest.raises(RepositoryError, match=r"^could not reach the repository host$"):
        Workspace(policy).sync("https://nowhere.example/org/repo.git")


# ----- pinned to the checked addresses ---------------------------------------------------
@pytest.fixture
def dumb_http_repo(tmp_path: Path, serve: object) -> Server:
    """A bare repository served over git's dumb HTTP protocol on 127.0.0.1."""
    work = make_repo(tmp_path / "work", {"README.md": "one\n"})
    root = tmp_path / "served"
    root.mkdir()
    git(tmp_path, "clone", "-q", "--bare", str(work), str(root / "repo.git"))
    git(root / "repo.git", "update-server-info")

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            """Quiet."""

    return serve(partial(Quiet, directory=str(root)))  # type: ignore[operator,no-any-return]


def test_git_connects_to_the_checked_address_not_its_own_lookup(
    tmp_path: Path, dumb_http_repo: Server
) -> None:
    # `git.example` exists only in the injected resolver: git reaches the server because
    # the workspace pins the name to the address it checked.
    policy = _policy(
        tmp_path, allow_internal_hosts=True, resolver=resolver_of({"git.example": ["127.0.0.1"]})
    )
    url = f"http://git.example:{dumb_http_repo.port}/repo.git"
    with Workspace(policy).checkout(url) as checkout:
        assert (checkout.path / "README.md").read_text() == "one\n"


def test_a_literal_address_is_neither_resolved_nor_pinned(
    tmp_path: Path, dumb_http_repo: Server
) -> None:
    def never(host: str, port: int) -> Sequence[str]:
        raise AssertionError(f"{host} is an address: nothing to resolve")

    policy = _policy(tmp_path, allow_internal_hosts=True, resolver=never)
    with Workspace(policy).checkout(f"http://127.0.0.1:{dumb_http_repo.port}/repo.git") as out:
        assert (out.path / "README.md").is_file()


@pytest.mark.parametrize(
    ("url", "pinned"),
    [
        ("git@git.example:org/repo.git", "-o HostName=140.82.112.3 -o HostKeyAlias=git.example"),
        (
            "ssh://git@git.example:2222/org/repo.git",
            "-o HostName=140.82.112.3 -o HostKeyAlias='[git.example]:2222'",
        ),
    ],
)
def test_ssh_is_pinned_to_the_checked_address_keeping_the_host_key_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, url: str, pinned: str
) -> None:
    # A stand-in for ssh records its arguments and fails: nothing is contacted.
    seen = tmp_path / "ssh-args"
    fake_ssh = tmp_path / "fake-ssh"
    fake_ssh.write_text(f'#!/bin/sh\necho "$@" > {seen}\necho "ssh: secret detail" >&2\nexit 255\n')
    fake_ssh.chmod(fake_ssh.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("GIT_SSH_COMMAND", str(fake_ssh))
    policy = _policy(tmp_path, resolver=resolver_of({"git.example": ["140.82.112.3"]}))
    with pytest.raises(RepositoryError) as caught:
        Workspace(policy).sync(url)
    assert seen.read_text().startswith(pinned.replace("'", ""))
    assert str(caught.value) == "git clone failed: could not reach the repository host"


def test_ssh_to_a_name_resolving_inside_is_refused_before_ssh_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ran = tmp_path / "ran"
    fake_ssh = tmp_path / "fake-ssh"
    fake_ssh.write_text(f"#!/bin/sh\ntouch {ran}\nexit 255\n")
    fake_ssh.chmod(fake_ssh.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("GIT_SSH_COMMAND", str(fake_ssh))
    policy = _policy(tmp_path, resolver=resolver_of({"git.example": ["192.168.1.10"]}))
    with pytest.raises(RepositoryError, match="resolves to an internal address"):
        Workspace(policy).sync("ssh://git@git.example/org/repo.git")
    assert not ran.exists()


# ----- no redirects, no port-scan details ------------------------------------------------
def test_a_redirect_to_another_host_is_not_followed(tmp_path: Path, serve: object) -> None:
    elsewhere = _recording_server(serve, "127.0.0.2")  # another (loopback) host
    redirecting = serve(  # type: ignore[operator]
        recorder(location=f"http://127.0.0.2:{elsewhere.port}/org/repo.git/info/refs")
    )
    policy = _policy(tmp_path, allow_internal_hosts=True)
    with pytest.raises(RepositoryError) as caught:
        Workspace(policy).sync(f"http://127.0.0.1:{redirecting.port}/org/repo.git")
    assert elsewhere.paths == []
    assert "redirect" in str(caught.value)
    assert "302" not in str(caught.value)


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def garbage_port() -> Iterator[int]:
    """A loopback port where something answers, but not HTTP."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.1)
    stop = threading.Event()

    def answer() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            with conn:
                conn.sendall(b"SSH-2.0-OpenSSH_9.6\r\n")

    thread = threading.Thread(target=answer, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join(timeout=5)
    server.close()


def test_unreachable_hosts_all_fail_with_the_same_generic_message(
    tmp_path: Path, garbage_port: int
) -> None:
    policy = _policy(tmp_path, allow_internal_hosts=True)
    messages = set()
    for port in (_closed_port(), garbage_port):
        for scheme in ("http", "https"):
            with pytest.raises(RepositoryError) as caught:
                Workspace(policy).sync(f"{scheme}://127.0.0.1:{port}/org/repo.git")
            messages.add(str(caught.value))
    assert messages == {"git clone failed: could not reach the repository host"}


def test_the_generic_message_does_not_hide_a_local_path_error(tmp_path: Path) -> None:
    policy = _policy(tmp_path, allow_local_paths=True)
    with pytest.raises(RepositoryError) as caught:
        Workspace(policy).sync(os.fspath(tmp_path / "missing"))
    assert "could not reach" not in str(caught.value)


@pytest.mark.parametrize(
    ("line", "shown"),
    [
        (
            "fatal: unable to access 'u': Failed to connect to h port 22: Connection refused",
            UNREACHABLE_MESSAGE,
        ),
        (
            "fatal: unable to access 'u': gnutls_handshake() failed: An unexpected TLS packet",
            UNREACHABLE_MESSAGE,
        ),
        ("fatal: unable to access 'u': Received HTTP/0.9 when not allowed", UNREACHABLE_MESSAGE),
        ("ssh: connect to host h port 22: No route to host", UNREACHABLE_MESSAGE),
        (
            "fatal: repository 'https://h/o/r.git/' not found",
            "repository not found, or access denied",
        ),
        (
            "fatal: Authentication failed for 'https://h/o/r.git/'",
            "repository not found, or access denied",
        ),
        (
            "fatal: remote error: upload-pack: not our ref 1234",
            "the ref was not found in the repository",
        ),
        (
            "fatal: write error: No space left on device",
            "fatal: write error: No space left on device",
        ),
    ],
)
def test_fetch_errors_are_summarised_without_connection_details(line: str, shown: str) -> None:
    assert _network_message(line) == shown
