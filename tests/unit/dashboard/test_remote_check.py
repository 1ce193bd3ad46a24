"""Registration asks the clone URL's host at once (`git ls-remote`, hardened like a fetch) and
says why it refuses. Local repositories and loopback servers only; refused addresses are
refused before git starts (asserted)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from dashboard.models import AuditEvent, Repository
from dashboard.services.access import api_tokens
from dashboard.services.repos.registration import RegistrationError, register_repository
from scanners import netpolicy
from scanners import workspace as workspace_module
from scanners.workspace import _check_message
from tests.factories import TeamFactory
from tests.gitrepo import git, make_repo

pytestmark = [pytest.mark.django_db, pytest.mark.remote_check]


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A loopback port that accepts connections and never says a word."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join()
    for connection in held:
        connection.close()
    server.close()


@pytest.fixture
def no_git(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """Fail if git (the only thing that would send a packet) is started; returns its calls."""
    started: list[list[str]] = []

    def refuse(argv: list[str], *args: Any, **kwargs: Any) -> None:
        started.append(argv)
        raise AssertionError(f"git was started: {argv}")

    monkeypatch.setattr(workspace_module.subprocess, "Popen", refuse)
    return started


def _refusal(url: str, **kwargs: Any) -> RegistrationError:
    with pytest.raises(RegistrationError) as caught:
        register_repository(TeamFactory(), url, **kwargs)
    assert not Repository.objects.exists()
    assert not AuditEvent.objects.exists()
    return caught.value


def test_a_reachable_repository_with_its_branch_is_registered(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "svc", {"README.md": "# svc\n"})
    registered = register_repository(TeamFactory(), str(repo), default_branch="main")
    assert Repository.objects.get() == registered.repository


def test_a_missing_repository_is_refused_as_not_found(tmp_path: Path) -> None:
    error = _refusal(str(tmp_path / "no-such-repository"))
    assert error.field == "clone_url"
    assert error.message.startswith("The repository was not found: repository not found")


def test_a_missing_branch_is_refused_naming_the_branches(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "svc", {"README.md": "# svc\n"})
    git(repo, "branch", "develop")
    error = _refusal(str(repo), default_branch="trunk")
    assert error.field == "default_branch"
    assert error.message == "The repository has no branch 'trunk' (its branches: develop, main)."


def test_an_empty_repository_is_refused(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    git(tmp_path / "empty", "init", "-q", "-b", "main")
    error = _refusal(str(tmp_path / "empty"))
    assert error.message == "The repository has no branch yet: push one, then register it."


def test_a_host_that_never_answers_is_refused_after_the_timeout(
    settings: Any, silent_port: int
) -> None:
    settings.REGISTRATION_CHECK_TIMEOUT_S = 1
    started = time.monotonic()
    error = _refusal(f"https://127.0.0.1:{silent_port}/org/repo.git")
    assert time.monotonic() - started < 5  # killed at the timeout, not git's own
    assert error.field == "clone_url"
    assert error.message == (
        "The repository host did not answer in time: the repository host did not answer within 1s."
    )


def test_a_closed_port_is_refused_as_unreachable() -> None:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()  # nothing listens there now
    error = _refusal(f"https://127.0.0.1:{port}/org/repo.git")
    assert error.message == (
        "The repository host could not be reached: could not reach the repository host."
    )


def test_a_name_resolving_to_an_internal_address_is_refused_before_git_starts(
    settings: Any, monkeypatch: pytest.MonkeyPatch, no_git: list[list[str]]
) -> None:
    settings.ALLOW_INTERNAL_HOSTS = False
    asked: list[str] = []

    def resolve(host: str, port: int) -> list[str]:
        asked.append(host)
        return ["10.1.2.3"]

    monkeypatch.setattr(netpolicy, "system_resolver", resolve)
    error = _refusal("https://git.example.com/org/repo.git")
    assert asked == ["git.example.com"]  # the check resolved the name itself…
    assert no_git == []  # …and git never ran
    assert error.message == (
        "This address is refused by Yardstick's network policy: "
        "host 'git.example.com' resolves to an internal address."
    )


def test_an_internal_address_is_refused_by_its_text_before_git_starts(
    settings: Any, no_git: list[list[str]]
) -> None:
    settings.ALLOW_INTERNAL_HOSTS = False
    error = _refusal("https://169.254.169.254/latest/meta-data.git")
    assert "internal address '169.254.169.254' is not allowed here" in error.message
    assert no_git == []


def test_the_setting_turns_the_check_off(settings: Any, no_git: list[list[str]]) -> None:
    settings.REGISTRATION_CHECK_REMOTE = False
    register_repository(TeamFactory(), "https://git.example.com/org/repo.git")
    assert Repository.objects.count() == 1
    assert no_git == []


@pytest.mark.parametrize(
    ("stderr", "said"),
    [
        (
            "fatal: could not read Username for 'https://h': terminal prompts disabled",
            "the host asks for credentials",
        ),
        ("git@h: Permission denied (publickey).\nfatal: Could not read", "asks for credentials"),
        ("remote: Repository not found.\nfatal: repository 'https://h/x/' not found", "not found"),
        ("fatal: unable to access 'https://h/x/': The requested URL returned error: 404", "not f"),
        ("Host key verification failed.\nfatal: Could not read from remote", "ssh key is not"),
        ("fatal: unable to access 'https://h/': Failed to connect to h port 443", "could not r"),
        ("fatal: unable to access 'https://h/': SSL certificate problem", "could not reach"),
    ],
)
def test_git_s_answer_becomes_a_reason_without_the_connection_details(
    stderr: str, said: str
) -> None:
    message = _check_message(stderr)
    assert said in message
    assert "443" not in message
    assert "SSL" not in message


def test_the_api_answers_the_refusal_on_its_field(tmp_path: Path) -> None:
    team = TeamFactory(slug="alpha")
    token = api_tokens.issue(team, "ci", write=True).plaintext
    response = Client().post(
        "/api/v1/repositories",
        {"team": "alpha", "clone_url": str(tmp_path / "missing")},
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 422, response.content
    [detail] = response.json()["details"]
    assert detail["field"] == "clone_url"
    assert detail["message"].startswith("The repository was not found")
    assert not Repository.objects.exists()
