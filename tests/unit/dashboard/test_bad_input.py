"""Bad input on every entry point: the registration form, the JSON API, the webhooks.

Malformed, oversized, wrongly typed and injection-shaped input gets a clear 4xx (the HTML
form: its errors shown inline) and stores nothing: no repository, no scan.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from django.db import DataError
from django.test import Client

from dashboard.api.routes import catalogue
from dashboard.models import Membership, Repository, Scan, WebhookDelivery
from dashboard.services.access import api_tokens
from tests.factories import MembershipFactory, RepositoryFactory, TeamFactory, UserFactory
from tests.webhooks import ENDPOINTS, SAMPLE_CLONE_URLS, body_of, payload, signed_headers

pytestmark = pytest.mark.django_db

SECRET = "s3cret-webhook"  # what RepositoryFactory stores
HUGE_ID = "9" * 30  # beyond any database integer

INJECTION_URLS = [
    ("--upload-pack=touch /tmp/pwned", "must not start with '-'"),
    ("-oProxyCommand=touch /tmp/pwned", "must not start with '-'"),
    ("ext::sh -c touch% /tmp/pwned", "transport helpers"),
    ("fd::17", "transport helpers"),
    ("file:///etc/passwd", "file://"),
    ("/srv/git/repo.git", "local paths are not allowed"),
    ("https://169.254.169.254/latest/meta-data", "internal address"),
    ("https://127.0.0.1/org/repo.git", "internal address"),
    ("https://localhost/org/repo.git", "internal address"),
    ("git@10.0.0.5:org/repo.git", "internal address"),
    ("https://[::1/x", "malformed repository URL"),
    ("x[::1]", "invalid host"),
    ("https://git.example.com/a\nb.git", "whitespace or control"),
    ("ssh://-oProxyCommand=x/y", "invalid host"),
    ("https://example.com:99999/x", "malformed repository URL"),
]


@pytest.fixture(autouse=True)
def _production_url_policy(settings: Any) -> None:
    """As in production: no local repositories, no internal addresses."""
    settings.ALLOW_LOCAL_REPOSITORIES = False
    settings.ALLOW_INTERNAL_HOSTS = False


def _nothing_stored() -> None:
    assert not Repository.objects.exists()
    assert not Scan.objects.exists()


# ----- the registration form --------------------------------------------------------------
@pytest.fixture
def maintainer_client() -> tuple[Client, Any]:
    team = TeamFactory(slug="alpha")
    user = UserFactory()
    MembershipFactory(user=user, team=team, role=Membership.Role.MAINTAINER)
    client = Client()
    client.force_login(user)
    return client, team


def _form(owner: Any, **fields: Any) -> dict[str, Any]:
    return {
        "team": owner.pk,
        "clone_url": "https://git.example.com/a/b.git",
        "default_branch": "main",
        "name": "",
        "project_dir": "",
        **fields,
    }


@pytest.mark.parametrize(("url", "message"), INJECTION_URLS)
def test_form_refuses_injection_shaped_urls(
    maintainer_client: tuple[Client, Any], url: str, message: str
) -> None:
    client, team = maintainer_client
    response = client.post("/repositories/new/", _form(team, clone_url=url))
    assert response.status_code == 200  # the form again, with the error inline
    assert message.replace("'", "&#x27;") in response.content.decode()
    _nothing_stored()


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"clone_url": "https://git.example.com/" + "a" * 600}, "at most 500 characters"),
        ({"name": "n" * 201}, "at most 200 characters"),
        ({"default_branch": "b" * 201}, "at most 200 characters"),
        ({"project_dir": "p" * 301}, "at most 300 characters"),
        ({"team": "not-a-number"}, "Select a valid choice"),
        ({"team": HUGE_ID}, "Select a valid choice"),
        ({"team": ""}, "Choose the team the repository belongs to."),
        ({"default_branch": "$(touch x)"}, "not a valid branch name"),
        ({"project_dir": "../../etc"}, "relative path"),
    ],
    ids=[
        "long-url",
        "long-name",
        "long-branch",
        "long-dir",
        "team-type",
        "team-overflow",
        "team-missing",
        "shell-branch",
        "dir-escape",
    ],
)
def test_form_refuses_oversized_and_wrongly_typed_fields(
    maintainer_client: tuple[Client, Any], fields: dict[str, str], message: str
) -> None:
    client, team = maintainer_client
    response = client.post("/repositories/new/", _form(team, **fields))
    assert response.status_code == 200
    assert message in response.content.decode()
    _nothing_stored()


@pytest.mark.parametrize(
    "fields",
    [{"default_branch": "main\x00evil"}, {"clone_url": "https://git.example.com/a\x00b"}],
    ids=["nul-branch", "nul-url"],
)
def test_form_fields_with_nul_are_refused_before_the_form(
    maintainer_client: tuple[Client, Any], fields: dict[str, str]
) -> None:
    """One layer (dashboard.http.badinput) refuses NUL in any form field, for every form."""
    client, team = maintainer_client
    response = client.post("/repositories/new/", _form(team, **fields))
    assert response.status_code == 400
    assert b"a form field contains a NUL character" in response.content
    _nothing_stored()


# ----- the JSON API -----------------------------------------------------------------------
@pytest.fixture
def api_client() -> Client:
    team = TeamFactory(slug="alpha")
    issued = api_tokens.issue(team, "ci", write=True)
    return Client(HTTP_AUTHORIZATION=f"Bearer {issued.plaintext}", enforce_csrf_checks=True)


def _register(client: Client, body: Any, *, raw: bool = False) -> Any:
    data = body if raw else json.dumps(body)
    return client.post("/api/v1/repositories", data, content_type="application/json")


@pytest.mark.parametrize(("url", "message"), INJECTION_URLS)
def test_api_refuses_injection_shaped_urls(api_client: Client, url: str, message: str) -> None:
    response = _register(api_client, {"team": "alpha", "clone_url": url})
    assert response.status_code == 422, response.content
    body = response.json()
    assert body["code"] == "validation_error"
    assert message in body["message"]
    assert [d["field"] for d in body["details"]] == ["clone_url"]
    _nothing_stored()


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"team": "alpha", "clone_url": "https://h.example.com/" + "a" * 600}, 422),
        ({"team": "alpha" * 100, "clone_url": "https://h.example.com/a.git"}, 422),
        ({"team": 7, "clone_url": "https://h.example.com/a.git"}, 422),
        ({"team": "alpha", "clone_url": ["https://h.example.com/a.git"]}, 422),
        ({"team": "alpha", "clone_url": {"$ne": ""}}, 422),
        ({"team": "alpha", "clone_url": None}, 422),
        ({"team": "alpha", "clone_url": "https://h.example.com/a.git", "default_branch": 5}, 422),
        ({"team": "alpha", "clone_url": "https://h.example.com/a.git", "project_dir": []}, 422),
        ({"team": "alpha", "clone_url": "https://h.example.com/a.git", "name": "x" * 201}, 422),
        ({"team": "alpha' OR 1=1 --", "clone_url": "https://h.example.com/a.git"}, 422),
        ([{"team": "alpha"}], 422),
        ("just a string", 422),
        (None, 422),
    ],
    ids=[
        "long-url",
        "long-team",
        "team-int",
        "url-list",
        "url-object",
        "url-null",
        "branch-int",
        "dir-list",
        "long-name",
        "sql-team",
        "array-body",
        "string-body",
        "null-body",
    ],
)
def test_api_refuses_wrongly_typed_or_oversized_fields(
    api_client: Client, body: Any, status: int
) -> None:
    response = _register(api_client, body)
    assert response.status_code == status, response.content
    assert set(response.json()) == {"code", "message", "details"}
    _nothing_stored()


@pytest.mark.parametrize(
    "raw",
    [
        b'{"team": "alpha", ',
        b"\xff\xfe\x00garbage",
        b"[" * 100_000 + b"]" * 100_000,  # nesting deep enough to overflow a recursive parser
        b"",
    ],
    ids=["truncated", "binary", "deep", "empty"],
)
def test_api_refuses_malformed_json_with_4xx(api_client: Client, raw: bytes) -> None:
    response = _register(api_client, raw, raw=True)
    assert 400 <= response.status_code < 500, response.content
    _nothing_stored()


def test_api_refuses_an_oversized_body(api_client: Client) -> None:
    body = {"team": "alpha", "clone_url": "https://h.example.com/a.git", "pad": "x" * 5_000_000}
    response = _register(api_client, body)
    assert response.status_code == 413
    assert response.json()["code"] == "too_large"
    _nothing_stored()


@pytest.mark.parametrize(
    "path",
    [
        f"/api/v1/repositories/{HUGE_ID}",
        f"/api/v1/repositories/-{HUGE_ID}",
        "/api/v1/repositories/abc",
        f"/api/v1/scans/{HUGE_ID}",
        "/api/v1/repositories?page=abc",
        "/api/v1/repositories?per_page=-1",
        f"/api/v1/repositories?page={HUGE_ID}",
        "/api/v1/repositories?active=maybe",
        "/api/v1/repositories?search=%00",
        "/api/v1/repositories?team=" + "t" * 1000,
        # Foreign keys are not range-checked by Django: these were 500s (schemathesis, sometimes).
        f"/api/v1/scans?repository={HUGE_ID}",
        f"/api/v1/results?scan={HUGE_ID}",
        f"/api/v1/results?repository={HUGE_ID}",
        "/api/v1/scans?repository=-1",
    ],
)
def test_api_reads_with_bad_parameters_are_4xx_not_5xx(api_client: Client, path: str) -> None:
    response = api_client.get(path)
    assert 400 <= response.status_code < 500, (path, response.status_code, response.content)


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/teams/a%00b",
        "/api/v1/rules/DEP%00",
        "/api/v1/rules?section=%00&severity=%00&search=%00",
        "/api/v1/teams?search=%00",
        "/api/v1/results?rule=%00&section=%00&status=%00",
    ],
)
def test_api_reads_with_nul_are_4xx_on_every_database(api_client: Client, path: str) -> None:
    response = api_client.get(path)
    assert 400 <= response.status_code < 500, (path, response.status_code, response.content)


def test_api_registration_with_nul_in_the_team_is_4xx(api_client: Client) -> None:
    # PostgreSQL cannot compare text with NUL: this was a 500 there (schemathesis found it).
    response = _register(api_client, {"team": "al\x00pha", "clone_url": "https://h.example/a.git"})
    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"
    _nothing_stored()


@pytest.mark.parametrize(
    ("raw", "message", "field"),
    [
        (
            b'{"team": "al\\ud800pha", "clone_url": "https://h.example/a.git"}',
            "lone surrogate",
            "team",
        ),
        (b'{"team": "alpha", "clone_url": "https://h.example/a.git", "name": NaN}', "NaN", ""),
        (
            b'{"team": "beta", "team": "alpha", "clone_url": "https://h.example/a.git"}',
            "duplicate key 'team'",
            "team",
        ),
        (b'{"team": "alpha", "x": ' + b"[" * 65 + b"]" * 65 + b"}", "nested deeper", ""),
    ],
    ids=["surrogate", "nan", "duplicate-key", "deep"],
)
def test_api_bodies_are_read_strictly(
    api_client: Client, raw: bytes, message: str, field: str
) -> None:
    """Finding 6: what json.loads lets through is a 422 naming the field, for every body."""
    response = _register(api_client, raw, raw=True)
    assert response.status_code == 422, response.content
    answer = response.json()
    assert answer["code"] == "validation_error"
    assert message in answer["message"]
    assert answer["details"][0]["field"] == field
    _nothing_stored()


@pytest.mark.parametrize("error", [DataError("invalid byte sequence"), OverflowError("too big")])
def test_a_value_the_database_refuses_is_a_422_not_a_500(
    api_client: Client, monkeypatch: pytest.MonkeyPatch, error: Exception
) -> None:
    """The backstop behind the schemas' checks: whatever input still reaches the database and
    is refused there (NUL in PostgreSQL text, an integer beyond bigint) is the caller's error."""

    def refused(*args: object, **kwargs: object) -> None:
        raise error

    monkeypatch.setattr(catalogue, "_teams", refused)
    response = api_client.get("/api/v1/teams")
    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"


def test_results_export_with_an_overflowing_repository_id_is_400(client: Client) -> None:
    client.force_login(UserFactory())
    response = client.get(f"/exports/results.csv?repository={HUGE_ID}")
    assert response.status_code == 400
    assert b"repository must be a repository id" in response.content


def test_api_scan_request_for_an_overflowing_id_is_404(api_client: Client) -> None:
    response = api_client.post(
        f"/api/v1/repositories/{HUGE_ID}/scans", "{}", content_type="application/json"
    )
    assert response.status_code == 404
    assert not Scan.objects.exists()


# ----- webhooks ---------------------------------------------------------------------------
@pytest.fixture
def hook_client() -> Client:
    return Client(REMOTE_ADDR=f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.9")


def _signed(client: Client, provider: str, body: bytes, **headers: str) -> Any:
    signed = signed_headers(provider, body, SECRET) | headers
    return client.post(
        ENDPOINTS[provider], data=body, content_type="application/json", headers=signed
    )


def _registered(provider: str = "github") -> Repository:
    from dashboard.domain.clone_urls import url_key

    url = SAMPLE_CLONE_URLS[provider]
    return RepositoryFactory(clone_url=url, url_key=url_key(url))


@pytest.mark.parametrize(
    "changes",
    [
        {"ref": 123, "after": ["x"]},
        {"after": {"$gt": ""}},
        {"ref": "refs/heads/main\x00evil"},
        {"after": "0" * 39 + "g"},
        {"after": "--upload-pack=touch /tmp/pwned"},
        {"repository": "not-an-object"},
        {"repository": {"clone_url": ["a", "b"], "ssh_url": 5}},
    ],
    ids=["types", "object-sha", "nul-ref", "bad-sha", "option-sha", "repo-string", "url-types"],
)
def test_webhook_payload_with_wrong_types_queues_nothing(
    hook_client: Client, changes: dict[str, Any]
) -> None:
    _registered()
    data = payload("github-push") | changes
    response = _signed(hook_client, "github", body_of(data))
    assert 400 <= response.status_code < 500 or response.json()["outcome"] == "ignored"
    assert not Scan.objects.exists()


@pytest.mark.parametrize("text", ["\x00", "\ud800", "low\udfff"], ids=["nul", "high", "low"])
@pytest.mark.parametrize("field", ["ref", "after", "pusher"])
def test_webhook_unusable_text_is_a_recorded_400(
    hook_client: Client, caplog: pytest.LogCaptureFixture, text: str, field: str
) -> None:
    """Finding 7: a verified delivery with a NUL or a lone surrogate in any field is refused
    (400) and recorded for its repository, without a traceback; it used to be a 500."""
    repository = _registered()
    data = payload("github-push")
    data[field] = f"refs/heads/main{text}" if field != "pusher" else {"name": f"x{text}"}
    response = _signed(hook_client, "github", body_of(data), **{"X-GitHub-Delivery": "d-1"})
    assert response.status_code == 400, response.content
    assert f"the payload's /{field}" in response.json()["detail"]
    delivery = WebhookDelivery.objects.get()
    assert (delivery.repository, delivery.outcome, delivery.status_code) == (
        repository,
        "rejected",
        400,
    )
    assert delivery.delivery_id == "d-1"
    stored = {"ref": delivery.ref, "after": delivery.commit_sha, "pusher": "\\"}[field]
    assert "\\" in stored  # shown escaped, not dropped
    assert not Scan.objects.exists()
    assert not [r for r in caplog.records if r.exc_info]


def test_webhook_with_deeply_nested_json_is_400(hook_client: Client) -> None:
    _registered()
    response = _signed(hook_client, "github", b"[" * 200_000 + b"]" * 200_000)
    assert response.status_code == 400
    assert "nested deeper than 64 levels" in response.json()["detail"]
    assert not WebhookDelivery.objects.exists()  # unverifiable: counted and logged only
    assert not Scan.objects.exists()


def test_generic_webhook_for_an_overflowing_id_is_401_like_any_unknown_id(
    hook_client: Client,
) -> None:
    body = body_of({"ref": "refs/heads/main", "after": "a" * 40})
    response = hook_client.post(
        f"/webhooks/generic/{HUGE_ID}/",
        data=body,
        content_type="application/json",
        headers={"X-Yardstick-Token": SECRET},
    )
    assert response.status_code == 401
    assert not Scan.objects.exists()


def test_webhook_headers_with_injection_shapes_are_refused(hook_client: Client) -> None:
    _registered()
    body = body_of(payload("github-push"))
    response = _signed(
        hook_client,
        "github",
        body,
        **{"X-Hub-Signature-256": "sha256=' OR 1=1 --", "X-GitHub-Delivery": "x" * 5000},
    )
    assert response.status_code == 401
    assert not Scan.objects.exists()


def test_internal_git_server_is_allowed_when_settings_say_so(settings: Any) -> None:
    from dashboard.domain.clone_urls import clean_clone_url

    settings.ALLOW_INTERNAL_HOSTS = True
    assert clean_clone_url("https://10.0.0.5/org/repo.git") == "https://10.0.0.5/org/repo.git"
