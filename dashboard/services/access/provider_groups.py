"""The groups a single sign-on says a user is in, as the group mapping names them.

OpenID Connect: the `SSO_GROUPS_CLAIM` claim (userinfo and ID token together: Entra ID puts
groups in the token only, Keycloak in both). GitHub: the user's teams as `org/team-slug`
(scope read:org). GitLab: the user's groups by full path, e.g. `acme/payments` (scope
read_api). A code host that does not answer gives None, not "no groups": the sign-in still
works and the user keeps what the mapping gave them last time (a code host's bad minute
must not strip everyone's teams); the failure is logged.
"""

from __future__ import annotations

import logging
from typing import Any

from allauth.socialaccount.adapter import get_adapter
from allauth.socialaccount.models import SocialLogin
from requests import RequestException

logger = logging.getLogger(__name__)

GITHUB_API = "https://api.github.com"
TIMEOUT_S = 10
MAX_PAGES = 10  # 1,000 teams or groups: far more than anyone's


def claim_values(value: object) -> list[str]:
    """A group claim as a list of names: a list of strings, or one string."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [item for item in value if isinstance(item, str)]
    return []


def groups_of(sociallogin: SocialLogin, claim: str) -> set[str] | None:
    """The user's groups from the provider of `sociallogin` (None: it could not say)."""
    provider = sociallogin.account.provider
    if provider == "github":
        return _github_teams(sociallogin)
    if provider == "gitlab":
        return _gitlab_groups(sociallogin)
    data = sociallogin.account.extra_data or {}
    parts = [data.get("userinfo") or {}, data.get("id_token") or {}]
    return {name for part in parts for name in claim_values(part.get(claim))}


def _github_teams(sociallogin: SocialLogin) -> set[str] | None:
    headers = {"Authorization": f"token {sociallogin.token.token}"}
    teams = _paged(f"{GITHUB_API}/user/teams", headers, {})
    if teams is None:
        return None
    return {
        f"{team['organization']['login']}/{team['slug']}"
        for team in teams
        if isinstance(team.get("organization"), dict) and team.get("slug")
    }


def _gitlab_groups(sociallogin: SocialLogin) -> set[str] | None:
    base = sociallogin.token.app.settings.get("gitlab_url", "https://gitlab.com").rstrip("/")
    headers = {"Authorization": f"Bearer {sociallogin.token.token}"}
    params = {"min_access_level": "10", "all_available": "false"}
    groups = _paged(f"{base}/api/v4/groups", headers, params)
    if groups is None:
        return None
    return {group["full_path"] for group in groups if group.get("full_path")}


def _paged(
    url: str, headers: dict[str, str], params: dict[str, str]
) -> list[dict[str, Any]] | None:
    """Every item of a paginated JSON list (per_page 100); None if the host fails."""
    items: list[dict[str, Any]] = []
    with get_adapter().get_requests_session() as session:
        for page in range(1, MAX_PAGES + 1):
            try:
                response = session.get(
                    url,
                    headers=headers,
                    params={**params, "per_page": "100", "page": str(page)},
                    timeout=TIMEOUT_S,
                )
                response.raise_for_status()
                batch = response.json()
            except (RequestException, ValueError) as exc:
                logger.warning("could not read the user's groups from %s: %s", url, exc)
                return None
            if not isinstance(batch, list):
                logger.warning("unexpected answer for the user's groups from %s", url)
                return None
            items.extend(item for item in batch if isinstance(item, dict))
            if len(batch) < 100:
                break
    return items
