"""Pull/merge request events and what reviews post back: parsing, refusals, the gate, the one
comment, and every code-host error (a fake host on loopback)."""

from __future__ import annotations

import logging
import uuid
from typing import Any

import pytest
from django.test import Client

from dashboard.domain.clone_urls import url_key
from dashboard.models import CodeHostConnection, Repository, ReviewScan, WebhookDelivery
from dashboard.services.access import secrets
from dashboard.services.reviews import review as reviews
from dashboard.services.reviews import summary
from dashboard.services.reviews.hosts import MARKER
from dashboard.services.webhooks.providers import PROVIDERS
from tests.factories import RepositoryFactory
from tests.fakehost import TOKEN, FakeHost, fake_host
from tests.webhooks import ENDPOINTS, SAMPLE_CLONE_URLS, body_of, payload, signed_headers

pytestmark = pytest.mark.django_db

SECRET = "s3cret-webhook"
HEAD = "1f3c4a5b6d7e8f90a1b2c3d4e5f60718293a4b5c"
SAMPLES = {
    "github": ("github-pull_request", "pull_request"),
    "gitlab": ("gitlab-merge_request", "Merge Request Hook"),
    "gitea": ("gitea-pull_request", "pull_request"),
}
LAY = {
    "rule_id": "LAY-001",
    "severity": "critical",
    "status": "fail",
    "path": "src/api/routes/notes.py",
    "line": 9,
    "message": "route imports a repository",
    "fingerprint": "f" * 32,
}


# ----- parsing ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("provider", "number", "host_repo", "head_ref"),
    [
        ("github", 42, "octo-org/payments-api", "feature/refunds"),
        ("gitlab", 7, "15", "feature/late-fees"),
        ("gitea", 3, "inventory/stock-api", "feature/reorder"),
    ],
)
def test_each_providers_documented_pull_request_payload_parses_to_one_event(
    provider: str, number: int, host_repo: str, head_ref: str
) -> None:
    sample, event = SAMPLES[provider]
    body = body_of(payload(sample))
    parsed = PROVIDERS[provider].parse(
        signed_headers(provider, body, SECRET, event=event), payload(sample), body
    )
    assert parsed.event == "pull_request"
    assert (parsed.action, parsed.number, parsed.after_sha) == ("opened", number, HEAD)
    assert (parsed.host_repo, parsed.ref, parsed.base_ref) == (host_repo, head_ref, "main")


def test_gitlab_update_counts_only_with_new_commits_and_gitea_sync_is_a_pull_request() -> None:
    data = payload("gitlab-merge_request")
    data["object_attributes"]["action"] = "update"
    parse = PROVIDERS["gitlab"].parse
    headers = signed_headers("gitlab", b"{}", SECRET, event="Merge Request Hook")
    assert parse(headers, data, b"{}").action == "update"  # a title edit: nothing to scan
    data["object_attributes"]["oldrev"] = "a" * 40
    assert parse(headers, data, b"{}").action == "synchronize"
    gitea = payload("gitea-pull_request")
    gitea["action"] = "synchronized"
    headers = signed_headers("gitea", b"{}", SECRET, event="pull_request_sync")
    parsed = PROVIDERS["gitea"].parse(headers, gitea, b"{}")
    assert (parsed.event, parsed.action) == ("pull_request", "synchronize")


# ----- the webhook endpoint ------------------------------------------------------------------
@pytest.fixture
def client() -> Client:
    return Client(REMOTE_ADDR=f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.8")


def _connected(provider: str, api: str = "http://127.0.0.1:9", **fields: Any) -> Repository:
    host = CodeHostConnection.objects.create(
        name=f"{provider}-{uuid.uuid4().hex[:6]}",
        provider=provider,
        api_base_url=api,
        token_encrypted=secrets.encrypt(TOKEN),
    )
    url = SAMPLE_CLONE_URLS[provider]
    fields.setdefault("code_host", host)
    return RepositoryFactory(clone_url=url, url_key=url_key(url), **fields)


def _post(client: Client, provider: str, data: Any, secret: str = SECRET) -> Any:
    body = body_of(data)
    headers = signed_headers(provider, body, secret, event=SAMPLES[provider][1])
    return client.post(
        ENDPOINTS[provider], data=body, content_type="application/json", headers=headers
    )


@pytest.mark.parametrize("provider", ["github", "gitlab", "gitea"])
def test_a_signed_pull_request_event_queues_one_review_on_commit(
    client: Client, provider: str, django_capture_on_commit_callbacks: Any
) -> None:
    repository = _connected(provider)
    with django_capture_on_commit_callbacks() as callbacks:
        response = _post(client, provider, payload(SAMPLES[provider][0]))
    assert response.status_code == 202, response.json()
    assert response.json()["outcome"] == "review_requested"
    review = ReviewScan.objects.get()
    assert (review.repository, review.head_sha, review.status) == (repository, HEAD, "queued")
    assert len(callbacks) == 1  # the task is sent once the transaction commits
    delivery = WebhookDelivery.objects.get()
    assert (delivery.outcome, delivery.commit_sha, delivery.accepted) == (
        "review_requested",
        HEAD,
        True,
    )


@pytest.mark.parametrize(
    ("change", "detail"),
    [
        ({"action": "closed"}, "action 'closed' not reviewed"),
        ({"action": "labeled"}, "action 'labeled' not reviewed"),
    ],
)
def test_other_pull_request_actions_are_ignored(client: Client, change: Any, detail: str) -> None:
    _connected("github")
    response = _post(client, "github", payload("github-pull_request") | change)
    assert response.status_code == 202
    assert response.json()["outcome"] == "ignored"
    assert detail in response.json()["detail"]
    assert not ReviewScan.objects.exists()


def test_a_repository_without_a_code_host_connection_gets_no_review(client: Client) -> None:
    _connected("github", code_host=None)
    response = _post(client, "github", payload("github-pull_request"))
    assert response.status_code == 202
    assert "not connected to its code host" in response.json()["detail"]
    assert not ReviewScan.objects.exists()


def test_refusals_a_bad_head_a_missing_number_and_a_wrong_signature(client: Client) -> None:
    _connected("github")
    data = payload("github-pull_request")
    data["pull_request"]["head"]["sha"] = "not-a-sha"
    assert _post(client, "github", data).status_code == 400
    data = payload("github-pull_request")
    data["number"] = "42"
    response = _post(client, "github", data)
    assert response.status_code == 400
    assert "no number" in response.json()["detail"]
    assert (
        _post(client, "github", payload("github-pull_request"), secret="wrong").status_code == 401
    )
    assert not ReviewScan.objects.exists()


# ----- posting back ------------------------------------------------------------------------------
@pytest.fixture(params=["github", "gitlab", "gitea"])
def host(request: pytest.FixtureRequest) -> Any:
    with fake_host(request.param) as running:
        yield running


def _judged(host: FakeHost, **fields: Any) -> ReviewScan:
    """A review whose comparison is stored: running it only posts."""
    repository = fields.pop("repository", None) or _connected(
        host.provider,
        host.api_base_url,
        pr_gate=fields.pop("pr_gate", True),
        pr_comment=fields.pop("pr_comment", True),
    )
    values: dict[str, Any] = {
        "provider": host.provider,
        "number": 42,
        "host_repo": "15" if host.provider == "gitlab" else "octo-org/payments-api",
        "head_sha": HEAD,
        "base_sha": "b" * 40,
        "base_ref": "main",
        "status": ReviewScan.Status.SUCCEEDED,
        "score": 87.0,
        "level": "silver",
        "base_level": "silver",
        "new_findings": [LAY],
    }
    return ReviewScan.objects.create(repository=repository, **(values | fields))


def _posted(host: FakeHost) -> str:
    state = str(host.statuses[-1]["state"])
    return "failure" if state == "failed" else state


def test_the_gate_off_still_says_what_the_change_introduces(host: FakeHost) -> None:
    review = _judged(host, pr_gate=False)
    reviews.run_review(review.pk)
    assert _posted(host) == "success"
    description = host.statuses[-1]["description"]
    assert description == "score 87 (silver), 1 new failure: LAY-001 src/api/routes/notes.py:9"


def test_the_gate_fails_a_lower_level_and_passes_new_minor_warnings(host: FakeHost) -> None:
    lowered = _judged(host, new_findings=[], level="bronze", base_level="gold")
    reviews.run_review(lowered.pk)
    assert _posted(host) == "failure"
    assert "level gold -> bronze" in host.statuses[-1]["description"]
    minor = {**LAY, "rule_id": "DOC-002", "severity": "minor", "status": "warn"}
    warned = _judged(host, new_findings=[minor], number=43, repository=lowered.repository)
    reviews.run_review(warned.pk)
    assert _posted(host) == "success"


def test_a_long_description_is_cut_to_the_providers_140_characters(host: FakeHost) -> None:
    deep = {**LAY, "path": "src/" + "very_long_folder_name/" * 8 + "x.py"}
    review = _judged(host, new_findings=[deep])
    reviews.run_review(review.pk)
    review.refresh_from_db()
    assert review.state == "failure"
    assert len(host.statuses[-1]["description"]) == 140  # the fake host answers 422 above


def test_a_deleted_comment_is_found_by_its_marker_before_a_new_one_is_made(host: FakeHost) -> None:
    someone = host.add_comment("LGTM")
    ours = host.add_comment(f"{MARKER}\nan earlier summary")
    review = _judged(host, comment_id="999999")  # the stored id is gone: 404
    reviews.run_review(review.pk)
    review.refresh_from_db()
    assert review.comment_id == str(ours)
    assert set(host.comments) == {someone, ours}
    assert "LAY-001" in host.comments[ours]["body"]
    assert host.comments[someone]["body"] == "LGTM"


def test_a_later_review_of_the_same_request_updates_the_earlier_comment(host: FakeHost) -> None:
    first = _judged(host)
    reviews.run_review(first.pk)
    second = ReviewScan.objects.create(
        **{
            f.name: getattr(first, f.name)
            for f in ReviewScan._meta.fields
            if f.name not in ("id", "comment_id", "state", "queued_at")
        }
        | {"new_findings": [], "fixed_findings": [LAY]}
    )
    reviews.run_review(second.pk)
    second.refresh_from_db()
    assert len(host.comments) == 1
    assert second.comment_id == ReviewScan.objects.get(pk=first.pk).comment_id
    assert "**Fixed (1)**" in next(iter(host.comments.values()))["body"]
    assert [c.method for c in host.calls].count("POST") == 3  # two statuses, one comment


def test_without_pr_comment_only_the_status_is_posted(host: FakeHost) -> None:
    review = _judged(host, pr_comment=False)
    reviews.run_review(review.pk)
    assert len(host.statuses) == 1
    assert host.comments == {}


def test_a_refused_token_is_recorded_without_retrying_or_showing_the_token(
    host: FakeHost, caplog: pytest.LogCaptureFixture
) -> None:
    review = _judged(host)
    CodeHostConnection.objects.update(token_encrypted=secrets.encrypt("revoked-token"))
    with caplog.at_level(logging.INFO):
        assert reviews.run_review(review.pk) == "succeeded"
    review.refresh_from_db()
    assert "HTTP 401" in review.error
    assert review.state == ""
    assert host.statuses == []
    assert "revoked-token" not in review.error + caplog.text


def test_a_server_error_is_retried_and_the_retry_only_posts(host: FakeHost) -> None:
    review = _judged(host)
    host.fail("POST", r".*/statuses/[0-9a-f]{40}", 502)
    with pytest.raises(reviews.ReviewRetry, match="HTTP 502"):
        reviews.run_review(review.pk)
    review.refresh_from_db()
    assert review.state == ""
    reviews.run_review(review.pk)
    review.refresh_from_db()
    assert review.state == "failure"
    assert len(host.statuses) == 1
    reviews.run_review(review.pk)  # a redelivered message: already posted, nothing again
    assert len(host.statuses) == 1


def test_an_unreachable_host_is_transient_and_a_missing_token_posts_nothing() -> None:
    review = ReviewScan.objects.create(
        repository=_connected("github", "http://127.0.0.1:9"),
        provider="github",
        number=1,
        host_repo="o/r",
        head_sha=HEAD,
        status=ReviewScan.Status.SUCCEEDED,
    )
    with pytest.raises(reviews.ReviewRetry, match="cannot reach"):
        reviews.run_review(review.pk)
    CodeHostConnection.objects.update(token_encrypted="")
    assert reviews.run_review(review.pk) == "succeeded"
    review.refresh_from_db()
    assert "no code host connection" in review.error
    assert reviews.run_review(123456) == "gone"


def test_the_comment_links_each_rule_page_and_says_when_there_was_no_base() -> None:
    review = ReviewScan(
        repository_id=1,
        head_sha=HEAD,
        base_sha="",
        new_findings=[LAY],
        notes=[reviews.NO_BASE_NOTE],
    )
    text = summary.comment(review, "success")
    assert "[LAY-001](" in text
    assert "/rules/LAY-001/)" in text
    assert "`src/api/routes/notes.py:9`" in text
    assert "every finding counts as new" in text
    assert summary.describe(review).endswith("(base branch never scanned)")


def test_reviews_have_their_own_queue_apart_from_scans_and_nightly_rescans() -> None:
    from dashboard.celery import app
    from dashboard.services.infra import dispatch

    routes = app.conf.task_routes
    assert routes[dispatch.REVIEW_PULL_REQUEST] == {"queue": "reviews"}
    for name in (dispatch.SCAN_REPOSITORY, "dashboard.nightly_rescan"):
        assert name not in routes  # the default queue


# ----- code-host connections in the admin ------------------------------------------------------
def test_a_connection_is_added_in_the_admin_with_a_write_only_audited_token(
    client: Client, personas: dict[str, Any]
) -> None:
    from dashboard.models import AuditEvent

    client.force_login(personas["admin"])
    form = {"name": "GitHub", "provider": "github", "api_base_url": "https://api.github.com"}
    refused = client.post("/admin/dashboard/codehostconnection/add/", form)
    assert "Give the API token Yardstick posts with." in refused.content.decode()
    bad = client.post(
        "/admin/dashboard/codehostconnection/add/", form | {"api_base_url": "ftp://x", "token": "t"}
    )
    assert "use an" in bad.content.decode()
    assert not CodeHostConnection.objects.exists()
    added = client.post("/admin/dashboard/codehostconnection/add/", form | {"token": TOKEN})
    assert added.status_code == 302
    connection = CodeHostConnection.objects.get()
    assert secrets.decrypt(connection.token_encrypted) == TOKEN
    page = client.get(f"/admin/dashboard/codehostconnection/{connection.pk}/change/")
    assert TOKEN not in page.content.decode()
    assert connection.token_encrypted not in page.content.decode()
    kept = client.post(
        f"/admin/dashboard/codehostconnection/{connection.pk}/change/",
        form | {"name": "GitHub.com"},
    )
    assert kept.status_code == 302
    connection.refresh_from_db()
    assert secrets.decrypt(connection.token_encrypted) == TOKEN  # empty: the token is kept
    events = list(AuditEvent.objects.filter(action="codehost.changed").order_by("pk"))
    assert events[0].details["api_access"] == "set"
    assert events[1].details == {"created": False, "name": ["GitHub", "GitHub.com"]}
    assert all(TOKEN not in str(e.details) for e in events)
    client.post(f"/admin/dashboard/codehostconnection/{connection.pk}/delete/", {"post": "yes"})
    assert not CodeHostConnection.objects.exists()
    assert AuditEvent.objects.filter(action="codehost.changed").count() == 3
