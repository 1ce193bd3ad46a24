"""A user's groups as each provider says them: OpenID Connect claims, GitHub teams and GitLab
groups read from a code host's API (a loopback server here), and a failing host."""

from __future__ import annotations

import json
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from allauth.socialaccount.models import SocialAccount, SocialApp, SocialLogin, SocialToken

from dashboard.services.access import provider_groups
from tests.loopback import serving

GITHUB_TEAMS = [{"slug": f"team-{n}", "organization": {"login": "acme"}} for n in range(100)] + [
    {"slug": "payments", "organization": {"login": "acme"}},
    {"slug": "orphan"},
]
GITLAB_GROUPS = [{"full_path": "acme/payments"}, {"full_path": "acme"}, {"name": "no path"}]


class CodeHost:
    """What the fake code host was asked, and whether it fails."""

    def __init__(self) -> None:
        self.url = ""
        self.requests: list[tuple[str, dict[str, list[str]], str]] = []
        self.failing = False


@pytest.fixture
def code_host() -> Iterator[CodeHost]:
    host = CodeHost()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            query = parse_qs(parts.query)
            host.requests.append((parts.path, query, self.headers.get("Authorization", "")))
            page = int(query.get("page", ["1"])[0])
            items = GITHUB_TEAMS if parts.path == "/user/teams" else GITLAB_GROUPS
            body = json.dumps(items[(page - 1) * 100 : page * 100]).encode()
            self.send_response(500 if host.failing else 200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            """Quiet."""

    with serving(Handler) as url:
        host.url = url
        yield host


def _login(provider: str, *, extra_data: Any = None, settings: Any = None) -> SocialLogin:
    app = SocialApp(provider=provider, client_id="c", secret="s", settings=settings or {})
    account = SocialAccount(provider=provider, uid="1", extra_data=extra_data or {})
    token = SocialToken(app=app, account=account, token="user-token")  # a test token
    return SocialLogin(account=account, token=token)


def test_oidc_groups_come_from_userinfo_and_the_id_token_together() -> None:
    login = _login(
        "oidc",
        extra_data={
            "userinfo": {"groups": ["payments-devs"], "roles": ["x"]},
            "id_token": {"groups": ["eng-managers", "payments-devs"]},
        },
    )
    assert provider_groups.groups_of(login, "groups") == {"payments-devs", "eng-managers"}
    assert provider_groups.groups_of(login, "roles") == {"x"}
    assert provider_groups.groups_of(_login("oidc"), "groups") == set()


def test_github_teams_are_org_slash_slug_over_every_page(
    code_host: CodeHost, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(provider_groups, "GITHUB_API", code_host.url)
    groups = provider_groups.groups_of(_login("github"), "groups")
    assert groups is not None
    assert len(groups) == 101
    assert "acme/payments" in groups
    assert [(path, q["page"]) for path, q, _ in code_host.requests] == [
        ("/user/teams", ["1"]),
        ("/user/teams", ["2"]),
    ]
    assert {auth for _, _, auth in code_host.requests} == {"token user-token"}


def test_gitlab_groups_are_full_paths_from_the_configured_instance(code_host: CodeHost) -> None:
    login = _login("gitlab", settings={"gitlab_url": code_host.url + "/"})
    assert provider_groups.groups_of(login, "groups") == {"acme/payments", "acme"}
    [(path, query, auth)] = code_host.requests
    assert path == "/api/v4/groups"
    assert query["min_access_level"] == ["10"]
    assert auth == "Bearer user-token"


def test_a_failing_code_host_says_nothing_rather_than_no_groups(
    code_host: CodeHost, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    code_host.failing = True
    monkeypatch.setattr(provider_groups, "GITHUB_API", code_host.url)
    assert provider_groups.groups_of(_login("github"), "groups") is None
    login = _login("gitlab", settings={"gitlab_url": code_host.url})
    assert provider_groups.groups_of(login, "groups") is None
    assert "could not read the user's groups" in caplog.text
