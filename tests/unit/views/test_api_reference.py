"""The API reference page (`/api/`): generated from the API's own OpenAPI document, for
signed-in users, in production as in development; and the schema reader behind it."""

from __future__ import annotations

import html as html_lib
import re
from typing import Any

import pytest
from django.test import Client

from dashboard.api.app import api, openapi_schema
from dashboard.api.reference import build, reference, type_of
from dashboard.views import api_reference as api_reference_view

pytestmark = pytest.mark.django_db


@pytest.fixture
def member(client: Client, personas: dict[str, Any]) -> Client:
    client.force_login(personas["member"])
    return client


def _operations() -> list[tuple[str, str, dict[str, Any]]]:
    """(method, path, operation) of every operation the API's schema declares."""
    return [
        (method.upper(), path, operation)
        for path, item in api.get_openapi_schema()["paths"].items()
        for method, operation in item.items()
    ]


def _text(html: str) -> str:
    return html_lib.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)))


def _article(html: str, anchor: str) -> str:
    start = html.index(f'<article class="api-operation" id="{anchor}">')
    return html[start : html.index("</article>", start)]


# ----- the page ---------------------------------------------------------------------------
@pytest.mark.parametrize("debug", [True, False])
def test_the_page_lists_every_operation_of_the_schema(
    member: Client, settings: Any, debug: bool
) -> None:
    settings.DEBUG = debug
    response = member.get("/api/")
    assert response.status_code == 200
    html = response.content.decode()
    operations = _operations()
    assert operations
    assert f"{len(operations)} operations under" in html
    for method, path, operation in operations:
        article = _text(_article(html, operation["operationId"]))
        assert f"{method} {path}" in article
        assert operation["summary"] in article
        for parameter in operation.get("parameters", ()):
            assert parameter["name"] in article
        for status in operation["responses"]:
            assert str(status) in article
        if "requestBody" in operation:
            assert "Request body" in article
        assert f'href="#{operation["operationId"]}"' in html  # the contents list


def test_each_operation_shows_its_parameters_body_and_responses(member: Client) -> None:
    html = member.get("/api/").content.decode()
    listing = _text(_article(html, "dashboard_api_routes_scans_list_scans"))
    assert "per_page query integer optional 20 1 to 100" in listing
    assert "Status (one of: queued, running, succeeded, failed, skipped) or null" in listing
    assert "200 OK ScanPage" in listing
    coverage = _article(html, "dashboard_api_routes_repositories_upload_coverage")
    assert "commit query string required 40 to 64 characters" in _text(coverage)
    assert "<code>application/xml</code>" in coverage
    assert "Cobertura coverage.xml" in coverage
    assert "413 Content Too Large ErrorOut" in _text(coverage)
    register = _text(_article(html, "dashboard_api_routes_repositories_register"))
    assert "Request body application/json : RepositoryIn (required)" in register
    assert "No parameters." in register


def test_operations_are_grouped_by_tag(member: Client) -> None:
    html = member.get("/api/").content.decode()
    for method, path, operation in _operations():
        tag = operation["tags"][0]
        section = html[html.index(f'id="tag-{tag}"') :]
        section = section[: section.index("</section>")]
        assert f'id="{operation["operationId"]}"' in section, (method, path, tag)


def test_the_page_explains_how_to_authenticate(member: Client) -> None:
    html = member.get("/api/").content.decode()
    section = html[html.index('id="authentication"') :]
    section = _text(section[: section.index("</section>")])
    assert "Authorization: Bearer ys_…" in section
    assert 'manage.py create_api_token TEAM_SLUG "GitHub Actions" [--write] [--days 90]' in section
    assert 'href="/tokens/"' in html
    assert "write token of the repository's team (for your own tokens: of a team you" in section
    for scheme in api.get_openapi_schema()["components"]["securitySchemes"]:
        assert scheme in section
    assert "http://testserver/api/v1/teams" in section
    # The API's own description, Markdown rendered.
    assert "<code>Authorization: Bearer &lt;token&gt;</code>" in html


def test_the_page_links_the_openapi_document_and_in_development_the_swagger_page(
    member: Client, settings: Any
) -> None:
    settings.DEBUG = False
    html = member.get("/api/").content.decode()
    assert 'href="/api/v1/openapi.json"' in html
    assert 'href="/api/v1/docs"' not in html
    settings.DEBUG = True
    assert 'href="/api/v1/docs"' in member.get("/api/").content.decode()


def test_the_page_loads_no_script_but_the_sites_own(member: Client) -> None:
    html = member.get("/api/").content.decode()
    scripts = re.findall(r"<script[^>]*>", html)
    assert scripts == ['<script src="/static/vendor/htmx.min.js" defer>']
    assert "cdn" not in html.lower()


def test_the_page_needs_sign_in_and_answers_get_only(client: Client, member: Client) -> None:
    response = Client().get("/api/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert member.post("/api/").status_code == 405


def test_the_page_costs_only_the_sessions_queries(
    member: Client, django_assert_max_num_queries: Any
) -> None:
    member.get("/api/")  # the reference is built once per process, not per request
    with django_assert_max_num_queries(3):
        assert member.get("/api/").status_code == 200


def test_an_api_without_operations_says_so(member: Client, monkeypatch: Any) -> None:
    monkeypatch.setattr(api_reference_view, "reference", lambda: build({}))
    html = member.get("/api/").content.decode()
    assert "The API has no operations." in html
    assert "0 operations under" in html


def test_schema_text_is_escaped(member: Client, monkeypatch: Any) -> None:
    """The page renders the schema's text as a safe Markdown subset, never as raw HTML."""
    hostile = {
        "info": {"title": "<b>T</b>", "version": "1", "description": "<script>x()</script>"},
        "paths": {
            "/x": {
                "get": {
                    "operationId": "x",
                    "summary": "<img src=x>",
                    "description": "`<code>` and <i>",
                    "parameters": [{"name": "<p>", "in": "query", "schema": {"type": "string"}}],
                    "responses": {"200": {"description": "<em>ok</em>"}},
                }
            }
        },
    }
    monkeypatch.setattr(api_reference_view, "reference", lambda: build(hostile))
    html = member.get("/api/").content.decode()
    for raw in ("<script>x()", "<img src=x>", "<b>T</b>", "<i>", "<p></code>", "<em>ok"):
        assert raw not in html
    assert "&lt;script&gt;x()&lt;/script&gt;" in html


# ----- the schema reader --------------------------------------------------------------------
def test_the_reference_is_built_once_per_process() -> None:
    assert reference() is reference()
    assert openapi_schema() is openapi_schema()
    assert len(reference().operations) == len(_operations())


def test_build_groups_by_first_tag_in_order_and_keeps_untagged_operations() -> None:
    schema = {
        "info": {"title": "T", "version": "2", "description": "d"},
        "paths": {
            "/b": {
                "post": {"operationId": "b-post", "tags": ["beta", "alpha"], "responses": {}},
                "get": {"operationId": "b-get", "tags": ["beta"], "responses": {}},
            },
            "/a": {"get": {"operationId": "a-get", "tags": ["alpha"], "responses": {}}},
            "/n": {"delete": {"responses": {"204": {"description": "No Content"}}}},
        },
        "components": {"securitySchemes": {"Key": {"type": "apiKey", "in": "header", "name": "X"}}},
    }
    result = build(schema)
    assert [(t.name, [o.anchor for o in t.operations]) for t in result.tags] == [
        ("beta", ["b-get", "b-post"]),  # GET before POST within a path
        ("alpha", ["a-get"]),
        ("other", ["delete-/n"]),
    ]
    assert [(s.name, s.kind) for s in result.security] == [("Key", "header X")]
    assert result.operations[-1].responses[0].status == "204"
    assert result.operations[-1].body is None


def test_build_of_an_empty_document() -> None:
    result = build({})
    assert (result.title, result.tags, result.security, result.operations) == ("", (), (), ())


def test_build_reads_parameters_and_bodies() -> None:
    schema = {
        "paths": {
            "/p": {
                "put": {
                    "parameters": [
                        {
                            "name": "a",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "integer", "minimum": 1},
                        },
                        {
                            "name": "b",
                            "in": "query",
                            "schema": {"type": "boolean", "default": False},
                        },
                        {
                            "name": "c",
                            "in": "header",
                            "description": "why",
                            "schema": {"maxLength": 9, "type": "string"},
                        },
                    ],
                    "requestBody": {"content": {"text/csv": {"schema": {"type": "string"}}}},
                    "responses": {
                        "404": {"description": "Not Found"},
                        "200": {"description": "OK"},
                    },
                }
            }
        }
    }
    operation = build(schema).operations[0]
    assert [
        (p.name, p.location, p.required, p.type, p.default, p.limits, p.description)
        for p in operation.parameters
    ] == [
        ("a", "path", True, "integer", "", "at least 1", ""),
        ("b", "query", False, "boolean", "false", "", ""),
        ("c", "header", False, "string", "", "at most 9 characters", "why"),
    ]
    assert operation.body is not None
    assert (operation.body.content_type, operation.body.schema, operation.body.required) == (
        "text/csv",
        "string",
        False,
    )
    assert [r.status for r in operation.responses] == ["200", "404"]


@pytest.mark.parametrize(
    ("schema", "expected"),
    [
        ({"$ref": "#/components/schemas/TeamOut"}, "TeamOut"),
        ({"$ref": "#/components/schemas/Level"}, "Level (one of: bronze, silver)"),
        ({"type": "array", "items": {"$ref": "#/components/schemas/TeamOut"}}, "array of TeamOut"),
        ({"anyOf": [{"type": "integer"}, {"type": "null"}]}, "integer or null"),
        ({"type": "string", "format": "date-time"}, "string (date-time)"),
        ({"enum": ["a", "b"]}, "one of: a, b"),
        ({"type": ["string", "null"]}, "string or null"),
        ({}, "any"),
    ],
)
def test_type_of(schema: dict[str, Any], expected: str) -> None:
    components = {"Level": {"enum": ["bronze", "silver"]}, "TeamOut": {"type": "object"}}
    assert type_of(schema, components) == expected
