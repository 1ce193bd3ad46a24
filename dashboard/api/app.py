"""The JSON API (`/api/v1/`): django-ninja, OpenAPI docs in development only."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI

from dashboard.api import errors
from dashboard.api.auth import AUTH
from dashboard.api.parser import StrictParser
from dashboard.api.routes import catalogue, repositories, scans


def development_only(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """The OpenAPI document and its docs page exist only while DEBUG is on."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not settings.DEBUG:
            raise Http404("API docs are served in development only")
        return view(request, *args, **kwargs)

    return wrapper


api = NinjaAPI(
    title="Yardstick API",
    version="1",
    description=(
        "Scorecards, repositories, scans and results. Authenticate with "
        "`Authorization: Bearer <token>` (per-team tokens: `manage.py create_api_token`) "
        "or a browser session. Reading is organisation-wide; writing needs a write token "
        "of the repository's team, or a maintainer of that team."
    ),
    urls_namespace="api",
    auth=AUTH,
    docs_url="/docs",
    openapi_url="/openapi.json",
    docs_decorator=development_only,
    parser=StrictParser(),
)
errors.install(api)
api.add_router("", catalogue.router)
api.add_router("", repositories.router)
api.add_router("", scans.router)
