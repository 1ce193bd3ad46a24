"""Hostile input at every page, CSV export, form, webhook and upload: a 4xx, never a 5xx.

`dashboard.http.badinput` refuses NUL, lone surrogates and bytes that are not UTF-8 in the
path, the query string, header values and form fields before any view runs (finding 11: a
NUL reached PostgreSQL and gave 500s). Every GET URL pattern is fired with hostile query
strings; hypothesis adds arbitrary text (surrogates included) to one of them. The webhooks
and the CI report upload get NaN, lone surrogates, NUL, deep nesting and duplicate keys in
their JSON (read by `scanners.strict_json`, findings 6 and 7). The API's own operations are
fuzzed by schemathesis in test_api_fuzz.py.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dashboard.models import Repository, Rule, Scan
from dashboard.services.access import api_tokens
from dashboard.urls import urlpatterns
from scanners import strict_json
from scanners.engine import scan as run_engine
from scanners.formats import render_json
from tests.factories import RepositoryFactory, ScanFactory, TeamFactory, UserFactory
from tests.gitrepo import golden_repo
from tests.webhooks import signed_headers

pytestmark = pytest.mark.django_db

HOSTILE_QUERIES = {
    "nul": "?q=%00&status=%00&team=%00&page=%00&repository=%00&level=%00",
    "nul-in-name": "?q%00=x",
    "encoded-surrogate": "?q=%ED%A0%80&team=%ED%A0%80",
    "not-utf8": "?q=%FF%FE",
    "plus-nul": "?q=a+%00+b",
}


@pytest.fixture
def world() -> dict[str, Any]:
    """A team with a repository and a finished scan, a rule, and a signed-in admin."""
    team = TeamFactory(slug="alpha")
    repository = RepositoryFactory(team=team)
    scan = ScanFactory(repository=repository, status=Scan.Status.SUCCEEDED)
    client = Client()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    rule = Rule.objects.order_by("pk").first()
    return {
        "client": client,
        "slug": team.slug,
        "repository": repository.pk,
        "scan": scan.pk,
        "rule_id": rule.rule_id if rule else "DEP-001",
    }


def get_paths(world: dict[str, Any]) -> list[str]:
    """Every URL pattern of the site (not the admin's, not the API's), filled with real ids."""
    paths = []
    for pattern in urlpatterns:
        if isinstance(pattern, URLResolver) or not isinstance(pattern, URLPattern):
            continue
        route = str(pattern.pattern)
        for name in ("<int:pk>", "<int:repository_id>"):
            owner = "scan" if route.startswith("scans/") else "repository"
            route = route.replace(name, str(world[owner]))
        for name in (
            "<int:ratchet_pk>",
            "<int:waiver_pk>",
            "<int:attestation_pk>",
            "<int:review_pk>",
        ):
            route = route.replace(name, "1")
        route = route.replace("<slug:slug>", world["slug"])
        route = route.replace("<str:rule_id>", world["rule_id"])
        # Password reset links and single sign-on (unconfigured here: 404, never a 500).
        route = route.replace("<uidb64>", "MQ").replace("<token>", "set-password")
        route = route.replace("<slug:provider_id>", "oidc")
        paths.append("/" + route)
    return paths


def test_every_page_is_reached_by_the_suite(world: dict[str, Any]) -> None:
    paths = get_paths(world)
    assert len(paths) >= 40
    assert all("<" not in path for path in paths)
    for path in paths:
        assert world["client"].get(path).status_code < 500, path


@pytest.mark.parametrize("query", HOSTILE_QUERIES.values(), ids=HOSTILE_QUERIES.keys())
def test_hostile_query_strings_are_400_on_every_page(world: dict[str, Any], query: str) -> None:
    for path in get_paths(world):
        response = world["client"].get(path + query)
        assert response.status_code == 400, (path, response.status_code)
        assert response["Content-Type"].startswith("text/plain")
        assert b"the query string contains" in response.content


@pytest.mark.parametrize(
    "path",
    [
        "/repositories/?q=%00",
        "/teams/alpha/?q=%00",
        "/rules/{rule_id}/?status=%00",
        "/audit/?q=%00",
        "/exports/results.csv?team=%00",
        "/exports/history.csv?team=%00",
        "/exports/audit.csv?q=%00",
        "/rules/%00/",
        "/exports/rules/%00.csv",
        "/rules/DEP-001%00/",
    ],
)
def test_nul_in_the_url_is_a_400_before_any_view(world: dict[str, Any], path: str) -> None:
    """Finding 11: these were 500s on PostgreSQL (NUL cannot be compared with text)."""
    response = world["client"].get(path.format(rule_id=world["rule_id"]))
    assert response.status_code == 400
    assert b"contains a NUL character" in response.content


@pytest.mark.parametrize(
    ("path", "where"),
    [
        ("/rules/%ED%A0%80/", "the path"),
        ("/rules/%FF/", "the path"),
        ("/teams/%C3%28/", "the path"),
        ("/repositories/?q=%ED%A0%80", "the query string"),
    ],
)
def test_bytes_that_are_not_utf8_are_a_400(world: dict[str, Any], path: str, where: str) -> None:
    response = world["client"].get(path)
    assert response.status_code == 400
    assert f"{where} contains bytes that are not UTF-8".encode() in response.content


@pytest.mark.parametrize("value", ["a\x00b", "x\ud800y"], ids=["nul", "surrogate"])
def test_hostile_header_values_are_a_400(world: dict[str, Any], value: str) -> None:
    response = world["client"].get("/repositories/", headers={"X-Anything": value})
    assert response.status_code == 400
    assert b"the X-Anything header contains" in response.content


@pytest.mark.parametrize("body", [b"username=a%00b&password=x", b"username=%ED%A0%80&password=x"])
def test_hostile_urlencoded_form_fields_are_a_400(body: bytes) -> None:
    response = Client().post(
        "/accounts/login/", body, content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 400
    assert b"a form field contains" in response.content


def test_hostile_multipart_form_fields_are_a_400() -> None:
    response = Client().post("/accounts/login/", {"username": "a\x00b", "password": "x"})
    assert response.status_code == 400
    assert b"a form field contains a NUL character" in response.content


def test_under_the_api_the_refusal_is_the_api_error_body(world: dict[str, Any]) -> None:
    for path in ("/api/v1/repositories?search=%00", "/api/v1/rules/%ED%A0%80"):
        response = world["client"].get(path)
        assert response.status_code == 400
        body = response.json()
        assert set(body) == {"code", "message", "details"}
        assert body["code"] == "bad_request"


@pytest.mark.parametrize(
    "path",
    ["/audit/?page=%C2%B2", "/audit/?page=" + "9" * 5000, "/exports/history.csv?days=%C2%B2"],
)
def test_digits_int_cannot_read_are_not_a_5xx(world: dict[str, Any], path: str) -> None:
    """`"²".isdigit()` is True and `int("²")` raises (hypothesis found it on /audit/)."""
    assert world["client"].get(path).status_code in {200, 400}


def test_ordinary_unicode_passes(world: dict[str, Any]) -> None:
    response = world["client"].get("/repositories/?q=%C3%A9t%C3%A9+%E2%9C%93")
    assert response.status_code == 200


ANY_TEXT = st.text(st.characters(exclude_categories=()), max_size=12)
PAGES = ["/repositories/", "/teams/alpha/", "/audit/", "/exports/results.csv", "/rules/"]


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    page=st.sampled_from(PAGES),
    key=st.sampled_from(["q", "team", "status", "page", "repository", "sort", "level"]),
    value=ANY_TEXT,
)
def test_any_query_text_is_never_a_5xx(
    world: dict[str, Any], page: str, key: str, value: str
) -> None:
    encoded = quote(value.encode("utf-8", "surrogatepass"), safe="")
    response = world["client"].get(f"{page}?{key}={encoded}")
    assert response.status_code < 500, (page, key, value)
    unusable = "\x00" in value or any(0xD800 <= ord(c) <= 0xDFFF for c in value)
    if unusable:
        assert response.status_code == 400


# ----- JSON bodies: the webhooks and the CI report upload -----------------------------------
SECRET = "s3cret-webhook"  # what RepositoryFactory stores
PLACEHOLDER = '"@@hostile@@"'
HOSTILE_JSON = st.one_of(
    ANY_TEXT.map(json.dumps),  # lone surrogates and NUL arrive as \\ud800 and \\u0000 escapes
    st.sampled_from(["NaN", "Infinity", "-Infinity", "1e999", "9" * 5000, '"\\u0000"']),
    st.integers(1, 3000).map(lambda depth: "[" * depth + "]" * depth),
    st.just('{"k": 1, "k": 2}'),
)


def _unusable(token: str) -> bool:
    try:
        strict_json.loads(token)
    except strict_json.JSONInputError:
        return True
    return False


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(field=st.sampled_from(["ref", "after", "extra"]), token=HOSTILE_JSON)
def test_signed_webhooks_with_hostile_json_are_never_a_5xx(
    world: dict[str, Any], field: str, token: str
) -> None:
    template = {"ref": "refs/heads/main", "after": "a" * 40, "extra": "x"}
    body = json.dumps(template | {field: "@@hostile@@"}).replace(PLACEHOLDER, token).encode()
    response = Client().post(
        f"/webhooks/generic/{world['repository']}/",
        data=body,
        content_type="application/json",
        headers=signed_headers("generic", body, SECRET),
    )
    assert response.status_code < 500, (token, response.content)
    if _unusable(token):
        assert response.status_code == 400
        assert response.json()["outcome"] == "rejected"


@pytest.fixture(scope="module")
def golden_source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real git repository the reports are of (uploads name a commit on its branch)."""
    return golden_repo(tmp_path_factory.mktemp("r") / "g")


@pytest.fixture(scope="module")
def report_text(golden_source: Path) -> str:
    """A real `yardstick scan --format json` report, its first message a placeholder."""
    document = json.loads(render_json(run_engine(golden_source)))
    document["results"][0]["message"] = "@@hostile@@"
    return json.dumps(document)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(token=HOSTILE_JSON)
def test_report_uploads_with_hostile_json_are_never_a_5xx(
    world: dict[str, Any], report_text: str, token: str, golden_source: Path, settings: Any
) -> None:
    settings.ALLOW_LOCAL_REPOSITORIES = True
    settings.VAR_DIR = golden_source.parent / "var"
    Repository.objects.filter(pk=world["repository"]).update(clone_url=str(golden_source))
    team = Repository.objects.get(pk=world["repository"]).team
    writer = Client(
        HTTP_AUTHORIZATION=f"Bearer {api_tokens.issue(team, 'ci', write=True).plaintext}"
    )
    response = writer.post(
        f"/api/v1/repositories/{world['repository']}/reports",
        data=report_text.replace(PLACEHOLDER, token).encode(),
        content_type="application/json",
    )
    assert response.status_code < 500, (token, response.content)
    assert set(response.json()) >= {"code", "message"} or response.status_code == 202
    if _unusable(token):
        assert response.status_code == 422
