"""Registering repositories: validation, duplicates, secrets, first scan."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

import pytest

from dashboard.domain.clone_urls import url_key
from dashboard.models import Repository, Scan
from dashboard.services.access import secrets
from dashboard.services.repos.registration import RegistrationError, register_repository
from tests.factories import RepositoryFactory, TeamFactory
from tests.gitrepo import make_repo
from tests.oncommit import queued_work

pytestmark = pytest.mark.django_db

CaptureCallbacks = Callable[..., AbstractContextManager[list[Callable[[], object]]]]


@pytest.mark.parametrize(
    ("url", "key"),
    [
        ("https://github.com/Org/Repo.git", "github.com/org/repo"),
        ("https://user:token@github.com/org/repo/", "github.com/org/repo"),
        ("git@github.com:org/repo.git", "github.com/org/repo"),
        ("ssh://git@github.com:22/org/repo", "github.com/org/repo"),
        ("/srv/git/Repo.git", "file:/srv/git/repo"),
        ("file:///srv/git/repo", "file:/srv/git/repo"),
    ],
)
def test_url_key_unifies_spellings_of_one_repository(url: str, key: str) -> None:
    assert url_key(url) == key


def test_register_stores_encrypted_secret_and_queues_a_scan_after_commit(
    tmp_path: Path, django_capture_on_commit_callbacks: CaptureCallbacks
) -> None:
    repo = make_repo(tmp_path / "svc", {"README.md": "# svc\n"})
    team = TeamFactory()
    with django_capture_on_commit_callbacks() as callbacks:
        registered = register_repository(team, str(repo), default_branch="main")
    stored = Repository.objects.get(pk=registered.repository.pk)
    assert stored.name == "svc"
    assert registered.webhook_secret not in stored.webhook_secret_encrypted
    assert secrets.decrypt(stored.webhook_secret_encrypted) == registered.webhook_secret
    assert registered.scan.status == Scan.Status.QUEUED
    assert len(queued_work(callbacks)) == 1  # the enqueue waits for the commit


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("--upload-pack=touch /tmp/pwned", "must not start with '-'"),
        ("ext::sh -c touch% /tmp/pwned", "transport helpers"),
        ("ftp://example.com/repo.git", "scheme"),
        ("", "empty repository URL"),
        ("https://example.com/repo\n.git", "whitespace or control characters"),
    ],
)
def test_register_rejects_dangerous_or_malformed_urls(url: str, message: str) -> None:
    with pytest.raises(RegistrationError) as info:
        register_repository(TeamFactory(), url)
    assert info.value.field == "clone_url"
    assert message in info.value.message
    assert not Repository.objects.exists()


def test_register_rejects_local_paths_when_settings_do_not_allow_them(settings: object) -> None:
    settings.ALLOW_LOCAL_REPOSITORIES = False  # type: ignore[attr-defined]
    with pytest.raises(RegistrationError, match="local paths are not allowed"):
        register_repository(TeamFactory(), "/srv/git/repo")


def test_register_rejects_duplicate_url_in_another_spelling() -> None:
    existing = RepositoryFactory(
        name="payments-api",
        clone_url="https://github.com/org/payments-api.git",
        url_key="github.com/org/payments-api",
    )
    with pytest.raises(RegistrationError) as info:
        register_repository(TeamFactory(), "git@github.com:Org/payments-api")
    assert f"already registered as 'payments-api' by team {existing.team.name!r}" in str(info.value)
    assert Repository.objects.count() == 1


@pytest.mark.parametrize(
    ("field", "kwargs"),
    [
        ("project_dir", {"project_dir": "../outside"}),
        ("project_dir", {"project_dir": "/etc"}),
        ("default_branch", {"default_branch": "--force"}),
        ("default_branch", {"default_branch": "a..b"}),
    ],
)
def test_register_rejects_bad_branch_or_project_dir(field: str, kwargs: dict[str, str]) -> None:
    with pytest.raises(RegistrationError) as info:
        register_repository(TeamFactory(), "https://git.example.com/org/x.git", **kwargs)
    assert info.value.field == field
    assert not Repository.objects.exists()
