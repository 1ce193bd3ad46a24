"""Repositories added and edited in the Django admin go through the same rules as the form
and the API: the clone URL policy, one registration per repository (its `url_key`), a
webhook secret, a first scan, and the audit log."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client

from dashboard.domain.clone_urls import url_key
from dashboard.models import AuditEvent, Repository, Scan
from dashboard.services.access import secrets
from dashboard.services.repos.registration import update_repository
from tests.factories import RepositoryFactory, TeamFactory

pytestmark = pytest.mark.django_db

ADD = "/admin/dashboard/repository/add/"


def _admin(client: Client, personas: dict[str, Any]) -> Client:
    client.force_login(personas["admin"])
    return client


def _form(repository: Repository | None = None, **changes: object) -> dict[str, object]:
    """The admin form's fields, from `repository` (or blank), with `changes` applied."""
    data: dict[str, object] = {
        "team": "",
        "name": "",
        "clone_url": "",
        "default_branch": "main",
        "project_dir": "",
        "active": "on",
    }
    if repository is not None:
        data |= {
            "team": repository.team_id,
            "name": repository.name,
            "clone_url": repository.clone_url,
            "default_branch": repository.default_branch,
            "project_dir": repository.project_dir,
            "active": "on" if repository.active else "",
            "deep_scan": "on" if repository.deep_scan else "",
            "code_host": repository.code_host_id or "",
            "pr_gate": "on" if repository.pr_gate else "",
            "pr_comment": "on" if repository.pr_comment else "",
        }
    data |= changes
    return {key: value for key, value in data.items() if value != ""}


def _errors(response: Any) -> Any:
    """The admin form's errors, by field, from a response that showed the form again."""
    return response.context["adminform"].form.errors


def _change(repository: Repository) -> str:
    return f"/admin/dashboard/repository/{repository.pk}/change/"


def _registered(personas: dict[str, Any], url: str = "https://git.example.com/org/api.git") -> Any:
    repository = RepositoryFactory(team=personas["team"], clone_url=url, url_key=url_key(url))
    return repository


# ----- adding ---------------------------------------------------------------------------
def test_a_repository_added_in_the_admin_is_registered_like_one_from_the_form(
    client: Client, personas: dict[str, Any]
) -> None:
    client = _admin(client, personas)
    url = "https://user:hunter2@Git.Example.com/Org/Billing.git"
    response = client.post(
        ADD, _form(team=personas["team"].pk, name="billing", clone_url=url, project_dir="svc/")
    )
    assert response.status_code == 200, response.content.decode()[:2000]
    repository = Repository.objects.get()
    assert repository.url_key == "git.example.com/org/billing"
    assert repository.project_dir == "svc"
    assert secrets.decrypt(repository.webhook_secret_encrypted)  # a secret was made
    assert Scan.objects.filter(repository=repository, trigger=Scan.Trigger.MANUAL).count() == 1
    event = AuditEvent.objects.get(action="repository.registered")
    assert (event.actor, event.target_id, event.team) == (
        personas["admin"],
        repository.pk,
        personas["team"],
    )
    assert "hunter2" not in str(event.details)


def test_the_admin_shows_a_new_repositorys_webhook_secret_once(
    client: Client, personas: dict[str, Any]
) -> None:
    client = _admin(client, personas)
    url = "https://git.example.com/org/billing.git"
    response = client.post(ADD, _form(team=personas["team"].pk, clone_url=url))
    assert response.status_code == 200
    repository = Repository.objects.get()
    assert repository.name == "billing"  # named from the URL, as the form does
    secret = secrets.decrypt(repository.webhook_secret_encrypted)
    assert secret is not None
    assert secret in response.content.decode()  # the registration page, with its setup
    assert secret not in client.get(_change(repository)).content.decode()  # never again


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ext::sh -c touch% /tmp/pwned", "transport helpers"),
        ("--upload-pack=touch /tmp/pwned", ""),
        ("https://169.254.169.254/latest/meta-data", "address"),
    ],
)
def test_the_admin_refuses_a_clone_url_the_policy_refuses(
    client: Client, personas: dict[str, Any], settings: Any, url: str, message: str
) -> None:
    settings.ALLOW_INTERNAL_HOSTS = False
    client = _admin(client, personas)
    response = client.post(ADD, _form(team=personas["team"].pk, clone_url=url))
    assert response.status_code == 200  # the form again, with the error
    errors = _errors(response)
    assert "clone_url" in errors
    assert message in " ".join(errors["clone_url"]).lower()
    assert not Repository.objects.exists()
    assert not AuditEvent.objects.exists()


def test_the_admin_refuses_a_repository_registered_under_another_spelling(
    client: Client, personas: dict[str, Any]
) -> None:
    existing = _registered(personas)
    other = TeamFactory(name="Search")
    client = _admin(client, personas)
    response = client.post(ADD, _form(team=other.pk, clone_url="git@git.example.com:org/api"))
    assert response.status_code == 200
    errors = " ".join(_errors(response)["clone_url"])
    assert existing.name in errors
    assert "Payments" in errors
    assert Repository.objects.count() == 1


def test_the_admin_refuses_a_bad_branch_and_an_escaping_project_folder(
    client: Client, personas: dict[str, Any]
) -> None:
    client = _admin(client, personas)
    url = "https://git.example.com/org/billing.git"
    response = client.post(
        ADD,
        _form(team=personas["team"].pk, clone_url=url, default_branch="--evil", project_dir="../x"),
    )
    errors = _errors(response)
    assert set(errors) >= {"default_branch", "project_dir"}
    assert not Repository.objects.exists()


# ----- editing --------------------------------------------------------------------------
def test_a_clone_url_changed_in_the_admin_moves_the_webhook_key_and_is_audited(
    client: Client, personas: dict[str, Any]
) -> None:
    repository = _registered(personas)
    client = _admin(client, personas)
    new_url = "https://bot:s3cr3t@git.example.com/org/api-v2.git"
    response = client.post(_change(repository), _form(repository, clone_url=new_url))
    assert response.status_code == 302, response.content.decode()[:2000]
    repository.refresh_from_db()
    assert repository.clone_url == new_url
    assert repository.url_key == "git.example.com/org/api-v2"
    event = AuditEvent.objects.get(action="repository.changed")
    assert event.actor == personas["admin"]
    assert event.team == personas["team"]
    assert event.details == {
        "clone_url": [
            "https://git.example.com/org/api.git",
            "https://bot:***@git.example.com/org/api-v2.git",
        ]
    }
    assert "s3cr3t" not in str(AuditEvent.objects.values())


def test_a_repository_moved_to_another_team_names_both_teams(
    client: Client, personas: dict[str, Any]
) -> None:
    repository = _registered(personas)
    search = TeamFactory(name="Search")
    client = _admin(client, personas)
    response = client.post(
        _change(repository), _form(repository, team=search.pk, active="", deep_scan="on")
    )
    assert response.status_code == 302
    event = AuditEvent.objects.get(action="repository.changed")
    assert event.team == search
    assert event.details == {
        "team": ["Payments", "Search"],
        "active": [True, False],
        "deep_scan": [False, True],
    }


def test_an_admin_save_without_changes_records_nothing(
    client: Client, personas: dict[str, Any]
) -> None:
    repository = _registered(personas)
    client = _admin(client, personas)
    assert client.post(_change(repository), _form(repository)).status_code == 302
    assert not AuditEvent.objects.exists()


def test_an_edit_to_a_url_already_registered_is_refused_and_changes_nothing(
    client: Client, personas: dict[str, Any]
) -> None:
    first = _registered(personas)
    second = _registered(personas, "https://git.example.com/org/web.git")
    client = _admin(client, personas)
    response = client.post(
        _change(second), _form(second, clone_url="ssh://git@git.example.com/org/api")
    )
    assert response.status_code == 200
    assert first.name in " ".join(_errors(response)["clone_url"])
    second.refresh_from_db()
    assert second.url_key == "git.example.com/org/web"
    assert not AuditEvent.objects.exists()


def test_keeping_the_same_repository_under_another_spelling_is_allowed(
    client: Client, personas: dict[str, Any]
) -> None:
    repository = _registered(personas)
    client = _admin(client, personas)
    response = client.post(
        _change(repository), _form(repository, clone_url="git@git.example.com:org/api.git")
    )
    assert response.status_code == 302
    repository.refresh_from_db()
    assert repository.url_key == "git.example.com/org/api"
    assert AuditEvent.objects.get(action="repository.changed").details["clone_url"][1] == (
        "git@git.example.com:org/api.git"
    )


def test_an_edit_keeps_the_score_a_scan_stored_meanwhile(personas: dict[str, Any]) -> None:
    repository = _registered(personas)
    edited = Repository.objects.get(pk=repository.pk)  # the admin's copy, loaded first
    Repository.objects.filter(pk=repository.pk).update(score=87.5, level="silver")  # a scan
    edited.name = "api-renamed"
    update_repository(personas["admin"], edited)
    repository.refresh_from_db()
    assert (repository.name, repository.score, repository.level) == ("api-renamed", 87.5, "silver")


def test_only_administrators_may_edit_a_repository(personas: dict[str, Any]) -> None:
    repository = _registered(personas)
    repository.clone_url = "https://git.example.com/org/elsewhere.git"
    with pytest.raises(PermissionDenied):
        update_repository(personas["maintainer"], repository)
    assert Repository.objects.get(pk=repository.pk).url_key == "git.example.com/org/api"
    assert not AuditEvent.objects.exists()
