"""Who calls the API: a bearer token (personal or a legacy team token), or a signed-in
browser session.

Reading is organisation-wide (any live token, any signed-in user), as for the pages. Writing
(register, scan, upload) needs a `write` token allowed on the repository's team
(dashboard/services/access/permissions.py `token_write_refusal`), or a user who maintains
that team. A revoked or expired token is refused with a 401 that says so.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.http import HttpRequest
from ninja.security import HttpBearer, SessionAuth

from dashboard.api.errors import ApiError
from dashboard.models import ApiToken, Team
from dashboard.services.access import api_tokens
from dashboard.services.access.permissions import can_manage_team, token_write_refusal


class BearerToken(HttpBearer):
    """`Authorization: Bearer ys_…`: a live API token."""

    def authenticate(self, request: HttpRequest, token: str) -> ApiToken | None:
        """The token, or None to try the next method (then 401); a token that no longer
        works is answered 401 at once, saying why and where to get a new one."""
        try:
            return api_tokens.authenticate(token)
        except api_tokens.TokenRefused as refused:
            details = {"reason": refused.reason, "on": refused.on or None}
            raise ApiError(401, "unauthenticated", refused.message, details) from None


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
        if (why := token_write_refusal(caller, team)) is not None:
            raise ApiError(403, "forbidden", why)
        return
    if not isinstance(caller, User) or not can_manage_team(caller, team):
        raise ApiError(403, "forbidden", f"only maintainers of {team.slug} may do this")
