"""Waiver request pages: the repository page's request (or grant) form and the requests'
status, the "Pending approvals" page with its decisions, refusals and query counts."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from dashboard.models import AuditEvent, CheckResult, Repository, Rule, Waiver, WaiverRequest
from dashboard.services.governance import waiver_requests as requests
from dashboard.services.scoring.scores import refresh_repository_score
from tests.factories import RepositoryFactory, ScanFactory

pytestmark = pytest.mark.django_db

REASON = "Migrating off Poetry next sprint"


def _client(personas: dict[str, Any], who: str) -> Client:
    client = Client()
    client.force_login(personas[who])
    return client


@pytest.fixture
def repo(personas: dict[str, Any]) -> Repository:
    """Scanned: DEP-002 and DEP-003 fail, so the waiver form offers them."""
    repository = RepositoryFactory(team=personas["team"], name="billing")
    scan = ScanFactory(repository=repository)
    CheckResult.objects.bulk_create(
        CheckResult(scan=scan, rule=_rule(rule_id), status="fail")
        for rule_id in ("DEP-002", "DEP-003")
    )
    repository.latest_scan = scan
    repository.save()
    return refresh_repository_score(repository)


def _rule(rule_id: str = "DEP-002") -> Rule:
    return Rule.objects.get(rule_id=rule_id, standard__key="python-backend")


def _ask(personas: dict[str, Any], repo: Repository, rule_id: str = "DEP-002") -> WaiverRequest:
    later = timezone.now() + timedelta(days=30)
    return requests.request_waiver(personas["maintainer"], repo, _rule(rule_id), REASON, later)


def _post_waiver(client: Client, repo: Repository, **overrides: Any) -> Any:
    data = {
        "rule": _rule().pk,
        "reason": REASON,
        "expires_on": (timezone.now() + timedelta(days=30)).date().isoformat(),
        **overrides,
    }
    return client.post(f"/repositories/{repo.pk}/waivers/", data, follow=True)


def test_a_maintainer_sees_a_request_form_and_a_manager_a_grant_form(
    personas: dict[str, Any], repo: Repository
) -> None:
    page = _client(personas, "maintainer").get(f"/repositories/{repo.pk}/").content.decode()
    assert "Request a waiver" in page
    assert "It counts once someone else approves it" in page
    assert "Grant waiver" not in page
    for who in ("manager", "admin"):
        page = _client(personas, who).get(f"/repositories/{repo.pk}/").content.decode()
        assert "Grant a waiver" in page, who
        assert "Request a waiver" not in page, who
    page = _client(personas, "member").get(f"/repositories/{repo.pk}/").content.decode()
    assert "Request a waiver" not in page
    assert "Grant a waiver" not in page


def test_a_maintainers_request_is_pending_and_shown_with_its_status(
    personas: dict[str, Any], repo: Repository
) -> None:
    maintainer = _client(personas, "maintainer")
    page = _post_waiver(maintainer, repo).content.decode()
    assert "Waiver of DEP-002 requested: it counts once someone else approves it." in page
    request = WaiverRequest.objects.get()
    assert request.status == "pending"
    assert not Waiver.objects.exists()
    assert f'id="waiver-request-{request.pk}"' in page
    assert "Pending" in page
    assert f"/waivers/requests/{request.pk}/withdraw/" in page

    requests.reject(personas["manager"], request, "Fix it this sprint instead")
    page = maintainer.get(f"/repositories/{repo.pk}/").content.decode()
    assert "Rejected</span> by manon: Fix it this sprint instead" in page
    assert f"/waivers/requests/{request.pk}/withdraw/" not in page


def test_a_manager_grants_directly_from_the_repository_page(
    personas: dict[str, Any], repo: Repository
) -> None:
    page = _post_waiver(_client(personas, "manager"), repo).content.decode()
    assert "Waiver of DEP-002 granted." in page
    assert Waiver.objects.get().approved_by == personas["manager"]
    assert not WaiverRequest.objects.exists()
    assert AuditEvent.objects.get().action == "waiver.granted"


def test_a_refused_request_says_why_and_stores_nothing(
    personas: dict[str, Any], repo: Repository
) -> None:
    maintainer = _client(personas, "maintainer")
    _post_waiver(maintainer, repo)
    page = _post_waiver(maintainer, repo).content.decode()
    assert "a waiver of DEP-002 already awaits a decision" in page
    past = (timezone.now() - timedelta(days=1)).date().isoformat()
    page = _post_waiver(maintainer, repo, expires_on=past).content.decode()
    assert "the expiry must be in the future" in page
    assert WaiverRequest.objects.count() == 1


# ----- the pending approvals page ---------------------------------------------------------
def test_approvers_see_what_awaits_them_and_requesters_their_own(
    personas: dict[str, Any], repo: Repository
) -> None:
    request = _ask(personas, repo)
    page = _client(personas, "manager").get("/waivers/requests/").content.decode()
    assert f'id="request-{request.pk}"' in page
    assert f"/waivers/requests/{request.pk}/approve/" in page
    assert f"/waivers/requests/{request.pk}/reject/" in page
    assert REASON in page
    assert "Requested by maya" in page

    own = _client(personas, "maintainer").get("/waivers/requests/").content.decode()
    assert f"/waivers/requests/{request.pk}/approve/" not in own
    assert "No waiver request awaits your decision." in own
    assert "Your pending requests" in own
    assert f"/waivers/requests/{request.pk}/withdraw/" in own

    member = _client(personas, "member").get("/waivers/requests/").content.decode()
    assert "No waiver request awaits your decision." in member
    assert "Requests appear here for managers and admins." in member
    assert "Your pending requests" not in member


def test_with_the_maintainers_policy_another_maintainer_sees_and_decides(
    personas: dict[str, Any], repo: Repository, settings: Any
) -> None:
    from dashboard.models import Membership
    from tests.factories import MembershipFactory, UserFactory

    settings.WAIVER_APPROVERS = "maintainers"
    colleague = UserFactory(username="mo")
    MembershipFactory(user=colleague, team=personas["team"], role=Membership.Role.MAINTAINER)
    request = _ask(personas, repo)
    client = Client()
    client.force_login(colleague)
    page = client.get("/waivers/requests/").content.decode()
    assert "or another maintainer of the repository's team" in page
    assert f"/waivers/requests/{request.pk}/approve/" in page
    assert client.post(f"/waivers/requests/{request.pk}/approve/").status_code == 302
    assert Waiver.objects.get().approved_by == colleague
    # Another team's maintainer sees nothing to decide.
    other = _client(personas, "outsider").get("/waivers/requests/").content.decode()
    assert "No waiver request awaits your decision." in other


def test_approving_puts_the_waiver_in_force(personas: dict[str, Any], repo: Repository) -> None:
    request = _ask(personas, repo)
    response = _client(personas, "manager").post(
        f"/waivers/requests/{request.pk}/approve/", {"note": "ok for a sprint"}, follow=True
    )
    page = response.content.decode()
    assert "Waiver of DEP-002 on billing approved." in page
    assert "No waiver request awaits your decision." in page
    waiver = Waiver.objects.in_force().get()
    assert waiver.approved_by == personas["manager"]
    assert WaiverRequest.objects.get().decision_reason == "ok for a sprint"


def test_the_requester_is_refused_with_a_clear_message(
    personas: dict[str, Any], repo: Repository, settings: Any
) -> None:
    settings.WAIVER_APPROVERS = "maintainers"
    request = _ask(personas, repo)
    maintainer = _client(personas, "maintainer")
    for action in ("approve", "reject"):
        response = maintainer.post(
            f"/waivers/requests/{request.pk}/{action}/", {"reason": "my own request, fine"}
        )
        assert response.status_code == 403
        assert (
            "you requested this waiver: someone else must approve or reject it"
            in response.content.decode()
        )
    assert WaiverRequest.objects.get().status == "pending"
    assert not Waiver.objects.exists()


def test_rejecting_without_a_reason_keeps_the_text_and_says_why(
    personas: dict[str, Any], repo: Repository
) -> None:
    request = _ask(personas, repo)
    manager = _client(personas, "manager")
    response = manager.post(f"/waivers/requests/{request.pk}/reject/", {"reason": "nope"})
    assert response.status_code == 400
    page = response.content.decode()
    assert f'id="request-{request.pk}-error"' in page
    assert "say why it is rejected (at least 10 characters)" in page
    assert ">nope</textarea>" in page
    assert WaiverRequest.objects.get().status == "pending"

    response = manager.post(
        f"/waivers/requests/{request.pk}/reject/",
        {"reason": "Fix it this sprint instead"},
        follow=True,
    )
    assert "Waiver of DEP-002 on billing rejected." in response.content.decode()
    assert WaiverRequest.objects.get().status == "rejected"


def test_a_request_decided_meanwhile_is_reported_on_top(
    personas: dict[str, Any], repo: Repository
) -> None:
    request = _ask(personas, repo)
    requests.approve(personas["admin"], request)
    response = _client(personas, "manager").post(f"/waivers/requests/{request.pk}/approve/")
    assert response.status_code == 400
    assert 'id="decision-error"' in response.content.decode()
    assert "this request was already approved" in response.content.decode()
    assert Waiver.objects.count() == 1


def test_unknown_requests_are_404(personas: dict[str, Any]) -> None:
    manager = _client(personas, "manager")
    for action in ("approve", "reject", "withdraw"):
        assert manager.post(f"/waivers/requests/999/{action}/").status_code == 404


def test_the_requester_withdraws_from_the_repository_page(
    personas: dict[str, Any], repo: Repository
) -> None:
    request = _ask(personas, repo)
    assert _client(personas, "manager").post(
        f"/waivers/requests/{request.pk}/withdraw/"
    ).status_code == (403)
    response = _client(personas, "maintainer").post(
        f"/waivers/requests/{request.pk}/withdraw/", follow=True
    )
    assert "Request to waive DEP-002 withdrawn." in response.content.decode()
    assert "Withdrawn" in response.content.decode()
    assert WaiverRequest.objects.get().status == "withdrawn"


def test_the_waiver_register_links_approvers_to_their_pending_requests(
    personas: dict[str, Any], repo: Repository
) -> None:
    _ask(personas, repo)
    _ask(personas, repo, "DEP-003")
    manager = _client(personas, "manager").get("/waivers/").content.decode()
    assert '<a href="/waivers/requests/">2 waiver requests await your decision</a>' in manager
    member = _client(personas, "member").get("/waivers/").content.decode()
    assert 'id="pending-approvals"' not in member
    assert 'href="/waivers/requests/">Pending approvals</a>' in member


def _count(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


def test_the_approvals_page_reads_a_fixed_number_of_queries(
    personas: dict[str, Any], django_assert_max_num_queries: Any
) -> None:
    manager, maintainer = _client(personas, "manager"), _client(personas, "maintainer")
    _ask(personas, RepositoryFactory(team=personas["team"]))
    small = (_count(manager, "/waivers/requests/"), _count(maintainer, "/waivers/requests/"))
    for _ in range(5):
        repository = RepositoryFactory(team=personas["team"])
        _ask(personas, repository)
        _ask(personas, repository, "DEP-003")
    large = (_count(manager, "/waivers/requests/"), _count(maintainer, "/waivers/requests/"))
    assert small == large
    with django_assert_max_num_queries(8):
        assert manager.get("/waivers/requests/").content.decode().count("Approve</button>") == 11


def test_an_approval_shows_at_once_on_a_members_cached_page(
    personas: dict[str, Any], repo: Repository
) -> None:
    member = _client(personas, "member")
    request = _ask(personas, repo)
    url = f"/repositories/{repo.pk}/"
    page = member.get(url).content.decode()  # cached for members: no forms, no requests
    assert REASON not in page
    assert "Request a waiver" not in page
    requests.approve(personas["manager"], request)
    assert REASON in member.get(url).content.decode()
