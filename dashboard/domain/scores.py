"""One definition of levels, "in force", and team and organisation scores.

- **Level rank**: none 0, bronze 1, silver 2, gold 3 (`level_rank`, in SQL); any other stored
  value ranks as none.
- **In force** (waivers, attestations) at an instant `at`: created at or before `at`, expiring
  after it, and not revoked at or before it (`in_force`; `Waiver.objects.in_force(at)`). A
  ratchet is in force once created (`ratchet_in_force`).
- **A repository's score and level** are its latest succeeded scan's results with the
  governance in force now (`services/scoring/scores.py`: `score_scan`), stored on the repository
  (`Repository.score`, `.level`) whenever a scan finishes or governance changes.
- **A scored repository** is active and has a succeeded scan (`SCORED`, `scored()`).
- **A team's score** is the mean of its scored repositories' stored scores (those with a
  score), rounded to 2 decimals; None when none has one. The daily roll-ups use the same rule
  over the day's rows (`team_score`).
- **A team's level** is the lowest level its scored repositories reach ("none" as soon as one
  reaches none); "" (not scanned) when it has no scored repository.
- **The organisation's** score and level: the same rules over every scored repository.

Where copies disagreed before: the overview and the team page showed the unrounded mean, the
API, the CSV and the roll-ups rounded it to 2 decimals (kept: rounded); the overview showed a
team without a scanned repository at "none", the API and the CSV at "" (kept: "").
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from statistics import fmean
from typing import Any, Protocol

from django.db.models import Avg, Case, Count, IntegerField, Min, Q, QuerySet, Value, When

LEVELS = ("none", "bronze", "silver", "gold")
NOT_SCANNED = ""
# In Python: "" (not scanned) ranks as none, like any unknown value (`rank_of`).
LEVEL_RANK = {NOT_SCANNED: 0} | {name: rank for rank, name in enumerate(LEVELS)}


def in_force(at: datetime, prefix: str = "") -> Q:
    """Waivers or attestations (rows under `prefix`) in force at `at`."""
    return Q(**{f"{prefix}created_at__lte": at, f"{prefix}expires_at__gt": at}) & (
        Q(**{f"{prefix}revoked_at__isnull": True}) | Q(**{f"{prefix}revoked_at__gt": at})
    )


def ratchet_in_force(at: datetime, prefix: str = "") -> Q:
    """Ratchets in force at `at`: set before it."""
    return Q(**{f"{prefix}created_at__lte": at})


def level_rank(field: str = "level") -> Case:
    """An SQL expression ranking a level column: none 0, bronze 1, silver 2, gold 3."""
    return Case(
        *(When(**{field: name}, then=Value(rank)) for rank, name in enumerate(LEVELS)),
        default=Value(0),
        output_field=IntegerField(),
    )


def rank_of(level: str | None) -> int:
    """The rank of a level name (anything unknown ranks as none)."""
    return LEVEL_RANK.get(level or NOT_SCANNED, 0)


def level_of_rank(rank: int | None) -> str:
    """The level of a rank; "" (not scanned) for None."""
    return NOT_SCANNED if rank is None else LEVELS[rank]


def scored(prefix: str = "") -> Q:
    """Repositories (under `prefix`) that count towards a team: active, with a succeeded scan."""
    return Q(**{f"{prefix}active": True, f"{prefix}latest_scan__isnull": False})


def round_score(value: float | None) -> float | None:
    """A team or organisation score as shown: 2 decimals."""
    return None if value is None else round(value, 2)


def team_score(scores: Iterable[float | None]) -> float | None:
    """The mean of the scores that exist, rounded (None when there is none)."""
    known = [s for s in scores if s is not None]
    return round_score(fmean(known)) if known else None


def with_team_scores[T: QuerySet[Any]](teams: T) -> T:
    """Annotate teams with `repository_count` (active), `scanned_count`, `mean_score` (raw
    SQL mean, for sorting) and `level_rank` (None when no repository is scanned)."""
    mine = scored("repositories__")
    return teams.annotate(
        repository_count=Count("repositories", filter=Q(repositories__active=True)),
        scanned_count=Count("repositories", filter=mine),
        mean_score=Avg("repositories__score", filter=mine),
        level_rank=Min(level_rank("repositories__level"), filter=mine),
    )


@dataclass(frozen=True, slots=True)
class TeamScore:
    """A team's figures, as every page, export, API operation and badge shows them."""

    score: float | None
    level: str
    repositories: int
    scanned: int


def team_score_of(team: Any) -> TeamScore:
    """The figures of a team annotated by `with_team_scores`."""
    return TeamScore(
        round_score(team.mean_score),
        level_of_rank(team.level_rank),
        team.repository_count,
        team.scanned_count,
    )


@dataclass(frozen=True, slots=True)
class OrganisationScore:
    """Headline figures: every level count adds up to `repositories`."""

    repositories: int
    scanned: int
    score: float | None
    level: str
    levels: dict[str, int] = field(default_factory=dict)  # gold..none, and "" not scanned

    @property
    def not_scanned(self) -> int:
        """Active repositories without a succeeded scan."""
        return self.repositories - self.scanned


class JudgedScan(Protocol):
    """What `score_change_cause` reads of a scan (`dashboard.models.Scan`)."""

    commit_sha: str
    standard_version: str


def score_change_cause(before: JudgedScan, after: JudgedScan) -> str:
    """Why the score moved between two consecutive finished scans of one repository.

    `standard`: same commit, another version of the standard; `code`: another commit under
    the same version; `both`; or `rescan` when neither changed (governance, engine).
    """
    same_commit = bool(before.commit_sha) and before.commit_sha == after.commit_sha
    same_standard = before.standard_version == after.standard_version
    if same_commit and not same_standard:
        return "standard"
    if not same_commit and same_standard:
        return "code"
    if not same_commit and not same_standard:
        return "both"
    return "rescan"
