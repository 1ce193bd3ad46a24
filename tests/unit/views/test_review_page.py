"""The review scan page: new and fixed findings of a pull request, every state, few queries."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from dashboard.models import ReviewScan
from tests.factories import RepositoryFactory

pytestmark = pytest.mark.django_db

LAY = {
    "rule_id": "LAY-001",
    "severity": "critical",
    "status": "fail",
    "path": "src/api/routes/notes.py",
    "line": 9,
    "message": "route imports a repository",
    "fingerprint": "f" * 32,
}


def _review(personas: dict[str, Any], **fields: Any) -> ReviewScan:
    values: dict[str, Any] = {
        "provider": "github",
        "number": 42,
        "host_repo": "o/r",
        "head_sha": "1" * 40,
        "base_sha": "2" * 40,
        "status": ReviewScan.Status.SUCCEEDED,
        "score": 87.0,
        "level": "silver",
        "new_findings": [LAY],
        "state": "failure",
    }
    repository = RepositoryFactory(team=personas["team"])
    return ReviewScan.objects.create(repository=repository, **(values | fields))


def _url(review: ReviewScan) -> str:
    return f"/repositories/{review.repository_id}/reviews/{review.pk}/"


def test_the_page_lists_new_findings_with_links_to_their_rules(
    client: Client, personas: dict[str, Any], django_assert_max_num_queries: Any
) -> None:
    review = _review(personas)
    client.force_login(personas["outsider"])  # reading is organisation-wide
    client.get(_url(review))
    with django_assert_max_num_queries(3):  # session, user, the review with its team
        response = client.get(_url(review))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Review of #42" in html
    assert '<a href="/rules/LAY-001/">LAY-001</a>' in html
    assert "src/api/routes/notes.py:9" in html
    assert "The change fixes no finding." in html
    assert "status posted: <strong>failure</strong>" in html


@pytest.mark.parametrize(
    ("fields", "text"),
    [
        ({"status": "queued", "new_findings": []}, "has not run yet"),
        ({"status": "failed", "error": "ref not found"}, "The review scan failed: ref not found"),
        ({"new_findings": [], "base_sha": ""}, "The change adds no finding."),
        ({"new_findings": [], "base_sha": ""}, "the base branch has no scan yet"),
    ],
)
def test_every_state_says_what_happened(
    client: Client, personas: dict[str, Any], fields: dict[str, Any], text: str
) -> None:
    review = _review(personas, **fields)
    client.force_login(personas["member"])
    assert text in client.get(_url(review)).content.decode()


def test_another_repositorys_id_and_anonymous_visitors_are_refused(
    client: Client, personas: dict[str, Any]
) -> None:
    review = _review(personas)
    assert client.get(_url(review)).status_code == 302  # to sign in
    client.force_login(personas["member"])
    other = RepositoryFactory(team=personas["team"])
    assert client.get(f"/repositories/{other.pk}/reviews/{review.pk}/").status_code == 404
    assert client.post(_url(review)).status_code == 405
