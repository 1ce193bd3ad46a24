"""Who calls the API: a team's bearer token, or a signed-in browser session.

Reading is organisation-wide (any token, any signed-in user), as for the pages. Writing
(register, scan, upload) needs a `write` token of the repository's team, or a user who
maintains that team.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.http import HttpRequest
from ninja.security import HttpBearer, SessionAuth

from dashboard.api.errors import ApiError
from dashboard.models import ApiToken, Team
from dashboard.services.access import api_tokens
from dashboard.services.access.permissions import can_manage_team


class BearerToken(HttpBearer):
    """`Authorization: Bearer ys_…`: a live API token."""

    def authenticate(self, request: HttpRequest, token: str) -> ApiToken | None:
        """The token, or None to try the next method (then 401)."""
        return api_tokens.authenticate(token)


class BrowserSession(SessionAuth):
    """The signed-in user's session, with Django's CSRF check on unsafe methods.

    Without a signed-in user it declines at once, so a bad or missing token is answered
    401 rather than a CSRF failure.
    """

    def __call__(self, request: HttpRequest) -> Any:
        """The user, or None."""
        if not request.user.is_authenticated:
            return None
        return super().__call__(request)


AUTH = [BearerToken(), BrowserSession()]


def require_write(request: HttpRequest, team: Team) -> None:
    """403 unless the caller may change `team`'s repositories."""
    caller = request.auth  # type: ignore[attr-defined]
    if isinstance(caller, ApiToken):
        if not caller.can_write:
            raise ApiError(403, "forbidden", "this token is read-only")
        if caller.team_id != team.pk:
            raise ApiError(403, "forbidden", f"this token belongs to another team than {team.slug}")
        return
    if not isinstance(caller, User) or not can_manage_team(caller, team):
        raise ApiError(403, "forbidden", f"only maintainers of {team.slug} may do this")
