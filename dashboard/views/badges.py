"""Public SVG badges (no login): cached five minutes, revalidated by ETag."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.utils.cache import get_conditional_response
from django.views.decorators.http import require_GET

from dashboard.services.reporting import badges

MAX_AGE_S = 300


def _respond(request: HttpRequest, badge: badges.Badge) -> HttpResponseBase:
    response = HttpResponse(
        badge.svg,
        content_type="image/svg+xml; charset=utf-8",
        status=200 if badge.found else 404,
    )
    response["Cache-Control"] = f"public, max-age={MAX_AGE_S}"
    response["ETag"] = badge.etag
    if badge.found:
        return get_conditional_response(request, etag=badge.etag, response=response) or response
    return response


@require_GET
def repository(request: HttpRequest, repository_id: int) -> HttpResponseBase:
    """`/badges/<id>.svg`: an active repository's score and level."""
    return _respond(request, badges.repository_badge(repository_id))


@require_GET
def team(request: HttpRequest, slug: str) -> HttpResponseBase:
    """`/badges/teams/<slug>.svg`: a team's score and level."""
    return _respond(request, badges.team_badge(slug))
