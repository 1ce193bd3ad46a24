"""Actions behind permissions: registration, scan now, waivers, attestations."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.test import Client
from django.utils import timezone

from dashboard.models import (
    Attestation,
    CheckResult,
    Repository,
    Rule,
    Scan,
    Waiver,
    WaiverRequest,
)
from dashboard.services.access import secrets
from tests.factories import RepositoryFactory, ScanFactory
from tests.gitrepo import make_repo

pytestmark = pytest.mark.django_db


def _login(client: Client, personas: dict[str, object], who: str) -> Client:
    client.force_login(personas[who])  # type: ignore[arg-type]
    return client


def _scanned_repository(team: object) -> Repository:
    repository = RepositoryFactory(team=team)
    scan = ScanFactory(repository=repository)
    rules = {
        r.rule_id: r for r in Rule.objects.filter(rule_id__in=["DEP-001", "DEP-002", "VER-005"])
    }
    CheckResult.objects.bulk_create(
        [
            CheckResult(scan=scan, rule=rules["DEP-001"], status="pass"),
            CheckResult(
                scan=scan,
                rule=rules["DEP-002"],
                status="fail",
                message="poetry.lock found",
                evidence=[{"path": "poetry.lock", "line": None, "message": "remove it"}],
            ),
            CheckResult(scan=scan, rule=rules["VER-005"], status="manual"),
        ]
    )
    repository.latest_scan = scan
    repository.save()
    from dashboard.services.scoring.scores import refresh_repository_score

    return refresh_repository_score(repository)


def test_maintainer_registers_a_repository_and_sees_the_secret_once(
    client: Client, personas: dict[str, object], tmp_path: Path
) -> None:
    source = make_repo(tmp_path / "billing", {"README.md": "# billing\n"})
    client = _login(client, personas, "maintainer")
    form = client.get("/repositories/new/")
    assert form.status_code == 200
    response = client.post(
        "/repositories/new/",
        {
            "team": personas["team"].pk,
            "clone_url": str(source),  # type: ignore[attr-defined]
            "default_branch": "main",
            "name": "",
            "project_dir": "",
        },
    )
    assert response.status_code == 200
    repository = Repository.objects.get(name="billing")
    secret = secrets.decrypt(repository.webhook_secret_encrypted)
    assert secret
    assert secret in response.content.decode()
    assert "/webhooks/github/" in response.content.decode()
    page = client.get(f"/repositories/{repository.pk}/").content.decode()
    assert secret not in page
    assert Scan.objects.filter(repository=repository, status="queued").count() == 1


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"clone_url": "--upload-pack=evil"}, "must not start with"),
        ({"clone_url": "ext::sh -c evil"}, "transport helpers"),
        ({"clone_url": ""}, "This field is required"),
        ({"clone_url": "https://git.example.com/a/b.git", "project_dir": "../up"}, "relative path"),
    ],
)
def test_registration_shows_inline_errors_and_stores_nothing(
    client: Client, personas: dict[str, object], data: dict[str, str], error: str
) -> None:
    client = _login(client, personas, "maintainer")
    payload = {"team": personas["team"].pk, "default_branch": "main", **data}  # type: ignore[attr-defined]
    response = client.post("/repositories/new/", payload)
    assert response.status_code == 200
    assert error in response.content.decode()
    assert not Repository.objects.exists()


def test_registration_rejects_a_team_the_user_does_not_maintain(
    client: Client, personas: dict[str, object]
) -> None:
    other = RepositoryFactory().team
    client = _login(client, personas, "maintainer")
    response = client.post(
        "/repositories/new/",
        {
            "team": other.pk,
            "clone_url": "https://git.example.com/x/y.git",
            "default_branch": "main",
        },
    )
    assert "Select a valid choice" in response.content.decode()
    assert Repository.objects.count() == 1


@pytest.mark.parametrize("who", ["member", "outsider"])
def test_non_maintainers_cannot_register(
    client: Client, personas: dict[str, object], who: str
) -> None:
    client = _login(client, personas, who)
    assert client.get("/repositories/new/").status_code == 403
    response = client.post(
        "/repositories/new/",
        {
            "team": personas["team"].pk,  # type: ignore[attr-defined]
            "clone_url": "https://x.example/a/b.git",
        },
    )
    assert response.status_code == 403
    assert not Repository.objects.exists()


@pytest.mark.parametrize("who", ["member", "outsider", "manager"])
def test_forbidden_actions_return_403_and_change_nothing(
    client: Client, personas: dict[str, object], who: str
) -> None:
    repository = _scanned_repository(personas["team"])
    waiver = Waiver.objects.create(
        repository=repository,
        rule=Rule.objects.get(rule_id="DEP-002"),
        reason="accepted for now",
        expires_at=timezone.now() + timedelta(days=3),
    )
    client = _login(client, personas, who)
    scans_before = Scan.objects.count()
    expiry = (timezone.now() + timedelta(days=10)).date().isoformat()
    responses = [
        client.post(f"/repositories/{repository.pk}/scan/"),
        client.post(f"/repositories/{repository.pk}/waivers/{waiver.pk}/revoke/"),
        client.post(
            f"/repositories/{repository.pk}/attestations/",
            {
                "att-rule": Rule.objects.get(rule_id="VER-005").pk,
                "att-evidence_url": "https://wiki.example.com/x",
                "att-days": 30,
            },
        ),
    ]
    if (
        who != "manager"
    ):  # managers grant waivers directly (tests/unit/views/test_waiver_requests.py)
        responses.append(
            client.post(
                f"/repositories/{repository.pk}/waivers/",
                {
                    "rule": Rule.objects.get(rule_id="DEP-002").pk,
                    "reason": "a good reason here",
                    "expires_on": expiry,
                },
            )
        )
    assert {r.status_code for r in responses} == {403}
    assert Scan.objects.count() == scans_before
    assert Waiver.objects.count() == 1
    assert not WaiverRequest.objects.exists()
    assert Waiver.objects.get().revoked_at is None
    assert not Attestation.objects.exists()


def test_maintainer_requests_a_waiver_and_the_score_changes_once_a_manager_approves(
    client: Client, personas: dict[str, object]
) -> None:
    """Maintainers used to grant waivers themselves; they now request one (issue 22)."""
    repository = _scanned_repository(personas["team"])
    assert (repository.level, round(repository.score or 0)) == ("bronze", 67)  # DEP-002 fails
    client = _login(client, personas, "maintainer")
    expiry = (timezone.now() + timedelta(days=30)).date().isoformat()
    response = client.post(
        f"/repositories/{repository.pk}/waivers/",
        {
            "rule": Rule.objects.get(rule_id="DEP-002").pk,
            "reason": "Migrating off Poetry next sprint",
            "expires_on": expiry,
        },
    )
    assert response.status_code == 302
    repository.refresh_from_db()
    assert repository.score == pytest.approx(66.67, abs=0.01)  # pending: not in force
    manager = Client()
    manager.force_login(personas["manager"])  # type: ignore[arg-type]
    pending = WaiverRequest.objects.get()
    assert manager.post(f"/waivers/requests/{pending.pk}/approve/").status_code == 302
    repository.refresh_from_db()
    assert repository.score == 100.0
    assert repository.level == "gold"
    page = client.get(f"/repositories/{repository.pk}/").content.decode()
    assert "Migrating off Poetry next sprint" in page
    assert "status-waived" in page


def test_waiver_form_errors_are_reported_and_nothing_is_stored(
    client: Client, personas: dict[str, object]
) -> None:
    repository = _scanned_repository(personas["team"])
    client = _login(client, personas, "maintainer")
    past = (timezone.now() - timedelta(days=1)).date().isoformat()
    response = client.post(
        f"/repositories/{repository.pk}/waivers/",
        {
            "rule": Rule.objects.get(rule_id="DEP-002").pk,
            "reason": "short",
            "expires_on": past,
        },
        follow=True,
    )
    assert "at least 10 characters" in response.content.decode()
    response = client.post(
        f"/repositories/{repository.pk}/waivers/",
        {
            "rule": Rule.objects.get(rule_id="DEP-002").pk,
            "reason": "long enough reason",
            "expires_on": past,
        },
        follow=True,
    )
    assert "the expiry must be in the future" in response.content.decode()
    assert not Waiver.objects.exists()
    assert not WaiverRequest.objects.exists()


def test_maintainer_attests_a_manual_rule(client: Client, personas: dict[str, object]) -> None:
    repository = _scanned_repository(personas["team"])
    client = _login(client, personas, "maintainer")
    response = client.post(
        f"/repositories/{repository.pk}/attestations/",
        {
            "att-rule": Rule.objects.get(rule_id="VER-005").pk,
            "att-evidence_url": "https://wiki.example.com/dependency-reviews",
            "att-days": 90,
        },
    )
    assert response.status_code == 302
    attestation = Attestation.objects.get()
    assert attestation.attested_by == personas["maintainer"]
    assert "dependency-reviews" in client.get(f"/repositories/{repository.pk}/").content.decode()


def test_maintainer_scan_now_queues_and_redirects_to_progress(
    client: Client, personas: dict[str, object]
) -> None:
    repository = _scanned_repository(personas["team"])
    client = _login(client, personas, "maintainer")
    response = client.post(f"/repositories/{repository.pk}/scan/")
    scan = Scan.objects.filter(repository=repository, status="queued").get()
    assert response["Location"] == f"/scans/{scan.pk}/"


def test_admin_may_act_on_any_team(client: Client, personas: dict[str, object]) -> None:
    repository = _scanned_repository(RepositoryFactory().team)
    client = _login(client, personas, "admin")
    assert client.post(f"/repositories/{repository.pk}/scan/").status_code == 302


def test_evidence_links_to_the_code_host(client: Client, personas: dict[str, object]) -> None:
    repository = _scanned_repository(personas["team"])
    Repository.objects.filter(pk=repository.pk).update(clone_url="git@github.com:acme/pay.git")
    client = _login(client, personas, "member")
    html = client.get(f"/repositories/{repository.pk}/").content.decode()
    sha = repository.latest_scan.commit_sha  # type: ignore[union-attr]
    assert f"https://github.com/acme/pay/blob/{sha}/poetry.lock" in html
