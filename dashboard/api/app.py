"""The JSON API (`/api/v1/`): django-ninja.

Its OpenAPI document (`/api/v1/openapi.json`) is served to any caller the API accepts (a
token or a signed-in session), in production too: client generators need it. The Swagger
page (`/api/v1/docs`) exists only while DEBUG is on: it loads its script from a CDN, which
the CSP and an offline network forbid. Signed-in users read the server-rendered reference at
`/api/` (dashboard/api/reference.py) instead.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache, partial, wraps
from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_safe
from ninja import NinjaAPI
from ninja.openapi.views import openapi_json

from dashboard.api import errors
from dashboard.api.auth import AUTH
from dashboard.api.parser import StrictParser
from dashboard.api.routes import catalogue, repositories, scans


def development_only(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A page that exists only while DEBUG is on (404 otherwise)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not settings.DEBUG:
            raise Http404("API docs are served in development only")
        return view(request, *args, **kwargs)

    return wrapper


def for_callers(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """The OpenAPI document, for the callers the API itself accepts, from the per-process copy
    (ninja's own view would rebuild it on every request); 401 in the API's error body for
    anyone else. GET and HEAD only (405 otherwise)."""

    @require_safe
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            accepted = any(method(request) is not None for method in AUTH)
        except errors.ApiError as exc:  # a token revoked or expired: say so, as the API does
            return JsonResponse(errors.body(exc.code, exc.message, exc.details), status=exc.status)
        if not accepted:
            refusal = errors.body("unauthenticated", "a token or a signed-in session is required")
            return JsonResponse(refusal, status=401)
        return JsonResponse(openapi_schema())

    return wrapper


def docs_access(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """ninja's `docs_decorator`, given each of its two views: the OpenAPI document goes to
    the API's callers, anything else (the Swagger page) is development only."""
    if isinstance(view, partial) and view.func is openapi_json:
        return for_callers(view)
    return development_only(view)


api = NinjaAPI(
    title="Yardstick API",
    version="1",
    description=(
        "Scorecards, repositories, scans and results. Authenticate with "
        "`Authorization: Bearer <token>` (personal tokens: the dashboard's API tokens page; "
        "team tokens: `manage.py create_api_token`) or a browser session. Reading is "
        "organisation-wide; writing needs a write token allowed on the repository's team "
        "(its owner maintains that team), or a maintainer of that team. Tokens expire; an "
        "expired or revoked token is answered 401 with the reason."
    ),
    urls_namespace="api",
    auth=AUTH,
    docs_url="/docs",
    openapi_url="/openapi.json",
    docs_decorator=docs_access,
    parser=StrictParser(),
)
errors.install(api)
api.add_router("", catalogue.router)
api.add_router("", repositories.router)
api.add_router("", scans.router)


@cache
def openapi_schema() -> dict[str, Any]:
    """The API's OpenAPI document as served (JSON types: response codes are strings), built
    once per process: it depends on the code alone, and building it takes a fifth of a second.
    Callers must not change it."""
    document: dict[str, Any] = json.loads(json.dumps(api.get_openapi_schema(), default=str))
    return document
