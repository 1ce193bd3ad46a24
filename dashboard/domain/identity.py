"""The identity provider's group mapping, as a language: parsed once, resolved per sign-in.

`SSO_GROUP_MAPPING` is a JSON object from a provider group (an OpenID Connect group claim
value, a GitHub team as `org/team-slug`, a GitLab group's full path) to one grant or a list:
`"team-slug:member"`, `"team-slug:maintainer"`, `"manager"` or `"admin"`. For example
`{"payments-devs": "payments:member", "payments-leads": ["payments:maintainer"],
"eng-managers": "manager"}`. Django-free: the configuration validates it at start-up, so a
malformed mapping stops the process naming the variable (dashboard/config.py).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

TEAM_ROLES = ("member", "maintainer")  # weakest first: a user in two groups gets the stronger
ORG_ROLES = ("manager", "admin")
SLUG = re.compile(r"[-a-zA-Z0-9_]+")


class MappingError(ValueError):
    """The mapping is malformed; the message names the offending entry."""


@dataclass(frozen=True)
class Grant:
    """One right a group gives: a team role (`team` set) or an organisation role."""

    role: str
    team: str = ""


@dataclass(frozen=True)
class Roles:
    """What a user's groups give them: a role per team slug, and the organisation roles."""

    teams: Mapping[str, str] = field(default_factory=dict)
    manager: bool = False
    admin: bool = False


GroupMapping = Mapping[str, tuple[Grant, ...]]


def parse_grant(text: str) -> Grant:
    """`"slug:role"`, `"manager"` or `"admin"`."""
    value = text.strip()
    if value in ORG_ROLES:
        return Grant(role=value)
    team, sep, role = value.partition(":")
    if not sep or not SLUG.fullmatch(team) or role not in TEAM_ROLES:
        raise MappingError(
            f"{text!r} is not a grant: use 'team-slug:member', 'team-slug:maintainer', "
            "'manager' or 'admin'"
        )
    return Grant(role=role, team=team)


def parse_mapping(text: str) -> GroupMapping:
    """The mapping from its JSON text (empty: no mapping, sign-in grants nothing)."""
    if not text.strip():
        return {}
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise MappingError(f"not JSON ({exc.msg} at character {exc.pos})") from None
    if not isinstance(raw, dict):
        raise MappingError('a JSON object is expected, e.g. {"eng-managers": "manager"}')
    mapping: dict[str, tuple[Grant, ...]] = {}
    for group, value in raw.items():
        values = value if isinstance(value, list) else [value]
        if not values or not all(isinstance(item, str) for item in values):
            raise MappingError(f"group {group!r}: a grant or a list of grants (strings)")
        try:
            mapping[group] = tuple(parse_grant(item) for item in values)
        except MappingError as exc:
            raise MappingError(f"group {group!r}: {exc}") from None
    return mapping


def resolve(mapping: GroupMapping, groups: Iterable[str]) -> Roles:
    """What `groups` give under `mapping`: the strongest role per team; unknown groups none."""
    teams: dict[str, str] = {}
    org: set[str] = set()
    for group in set(groups):
        for grant in mapping.get(group, ()):
            if not grant.team:
                org.add(grant.role)
            elif TEAM_ROLES.index(grant.role) >= TEAM_ROLES.index(teams.get(grant.team, "member")):
                teams[grant.team] = grant.role
    return Roles(teams=teams, manager="manager" in org, admin="admin" in org)


def email_domain_allowed(email: str, allowed: Iterable[str]) -> bool:
    """Whether `email` is at one of the `allowed` domains (exactly, case-insensitively; none
    configured: every address). Subdomains must be listed: `a.example.com` is not `example.com`."""
    domains = {domain.strip().lower().lstrip("@") for domain in allowed if domain.strip()}
    if not domains:
        return True
    local, sep, domain = email.strip().lower().rpartition("@")
    return bool(sep and local) and domain in domains
