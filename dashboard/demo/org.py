"""The demo's people: sign-in accounts, teams, members and their roles."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from django.contrib.auth.models import Group, User
from django.db import transaction
from django.utils.text import slugify

from dashboard.demo.catalog import PEOPLE, TEAMS
from dashboard.demo.marker import Marker, write_marker
from dashboard.models import Membership, Team
from dashboard.services.access.accounts import ensure_admin
from dashboard.services.access.permissions import MANAGERS_GROUP

PEOPLE_PER_TEAM = 3


class DemoConflict(Exception):
    """Existing, non-demo data is in the way (a team or account with a demo name)."""


@dataclass
class Org:
    """What `build_org` made: teams in order, each team's people, and one-time passwords."""

    teams: list[Team]
    people: dict[int, list[str]]  # team pk -> display names
    passwords: dict[str, str] = field(default_factory=dict)  # username -> password


def username(display_name: str) -> str:
    """`Ada Lovelace` -> `ada.lovelace`."""
    return ".".join(slugify(part) for part in display_name.split())


def _new_user(marker: Marker, name: str, password: str | None, **extra: object) -> User:
    if User.objects.filter(username=name).exists():
        raise DemoConflict(f"an account named {name!r} already exists and is not demo data")
    user = User.objects.create_user(username=name, password=password, **extra)  # type: ignore[arg-type]
    marker.users.append(name)
    write_marker(marker)
    return user


@transaction.atomic
def build_org(marker: Marker, team_count: int) -> Org:
    """Create the teams, their members and the demo sign-in accounts."""
    chosen = TEAMS[: max(1, min(team_count, len(TEAMS)))]
    teams = []
    for name, description in chosen:
        slug = slugify(name)
        if Team.objects.filter(slug=slug).exists() or Team.objects.filter(name=name).exists():
            raise DemoConflict(f"a team named {name!r} already exists and is not demo data")
        teams.append(Team.objects.create(name=name, slug=slug, description=description))
        marker.teams.append(slug)
    write_marker(marker)
    org = Org(teams, {})
    for index, team in enumerate(teams):
        names = [PEOPLE[(index * PEOPLE_PER_TEAM + k) % len(PEOPLE)] for k in range(3)]
        org.people[team.pk] = names
        for k, display in enumerate(names):
            first, _, last = display.partition(" ")
            user = _new_user(
                marker, f"demo.{username(display)}", None, first_name=first, last_name=last
            )
            role = Membership.Role.MAINTAINER if k == 0 else Membership.Role.MEMBER
            Membership.objects.create(user=user, team=team, role=role)
    _accounts(marker, org)
    return org


def _accounts(marker: Marker, org: Org) -> None:
    # The superuser is an operator's account: created when missing, never removed by --reset.
    admin_password = ensure_admin()
    if admin_password:
        org.passwords["admin"] = admin_password
    password = secrets.token_urlsafe(12)
    manager = _new_user(marker, "manager", password, first_name="Morgan", last_name="Manager")
    manager.groups.add(Group.objects.get_or_create(name=MANAGERS_GROUP)[0])
    org.passwords["manager"] = password
    password = secrets.token_urlsafe(12)
    maintainer = _new_user(
        marker, "maintainer", password, first_name="Mika", last_name="Maintainer"
    )
    Membership.objects.create(user=maintainer, team=org.teams[0], role=Membership.Role.MAINTAINER)
    org.passwords["maintainer"] = password
