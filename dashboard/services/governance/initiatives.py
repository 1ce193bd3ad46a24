"""Initiatives: managers set a goal for some teams or repositories and a date; then close it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from dashboard.models import Initiative, Repository, Rule, Team
from dashboard.services.access.permissions import is_manager

MAX_RULES = 50


class InitiativeError(ValueError):
    """Invalid initiative input; `field` names the input."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True, slots=True)
class Goal:
    """What an initiative asks for, and of whom."""

    name: str
    goal: str
    start_date: date
    target_date: date
    target_level: str = ""
    rules: tuple[Rule, ...] = ()
    teams: tuple[Team, ...] = ()
    repositories: tuple[Repository, ...] = ()
    description: str = ""
    owner: User | None = None


def require_manager(user: User) -> None:
    """Raise PermissionDenied (403) unless the user is a manager or an admin."""
    if not is_manager(user):
        raise PermissionDenied("only managers may run initiatives")


def _check(goal: Goal) -> None:
    if not goal.name.strip():
        raise InitiativeError("name", "give the initiative a name")
    if goal.target_date <= goal.start_date:
        raise InitiativeError("target_date", "the target date must come after the start")
    if goal.goal == Initiative.Goal.LEVEL and goal.target_level not in Initiative.Level.values:
        raise InitiativeError("target_level", "choose the level to reach")
    if goal.goal == Initiative.Goal.RULES and not goal.rules:
        raise InitiativeError("rules", "choose at least one rule")
    if goal.goal not in Initiative.Goal.values:
        raise InitiativeError("goal", "a goal is a level or a set of rules")
    if len(goal.rules) > MAX_RULES:
        raise InitiativeError("rules", f"at most {MAX_RULES} rules")
    if not goal.teams and not goal.repositories:
        raise InitiativeError("teams", "choose at least one team or repository")


@transaction.atomic
def create_initiative(user: User, goal: Goal) -> Initiative:
    """A manager starts an initiative; its owner defaults to them."""
    require_manager(user)
    _check(goal)
    initiative = Initiative.objects.create(
        name=goal.name.strip()[:200],
        description=goal.description.strip()[:4000],
        goal=goal.goal,
        target_level=goal.target_level if goal.goal == Initiative.Goal.LEVEL else "",
        start_date=goal.start_date,
        target_date=goal.target_date,
        owner=goal.owner or user,
        created_by=user,
    )
    if goal.goal == Initiative.Goal.RULES:
        initiative.rules.set(goal.rules)
    initiative.teams.set(goal.teams)
    initiative.repositories.set(goal.repositories)
    return initiative


@transaction.atomic
def close_initiative(user: User, initiative: Initiative) -> Initiative:
    """End an initiative now (managers); closing twice changes nothing."""
    require_manager(user)
    if initiative.closed_at is None:
        initiative.closed_at = timezone.now()
        initiative.save(update_fields=["closed_at"])
    return initiative
