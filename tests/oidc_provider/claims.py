"""The claims the test provider signs: e-mail (verified) and the user's groups."""

from __future__ import annotations

from typing import Any, ClassVar

from oauth2_provider.oauth2_validators import OAuth2Validator


class GroupsClaimValidator(OAuth2Validator):  # type: ignore[misc]
    """Adds `email`, `email_verified`, `preferred_username` and `groups` (Django groups)."""

    oidc_claim_scope: ClassVar[dict[str, str]] = {
        **OAuth2Validator.oidc_claim_scope,
        "groups": "openid",
    }

    def get_additional_claims(self, request: Any) -> dict[str, Any]:
        user = request.user
        return {
            "email": user.email,
            "email_verified": True,
            "preferred_username": user.username,
            "groups": sorted(user.groups.values_list("name", flat=True)),
        }
