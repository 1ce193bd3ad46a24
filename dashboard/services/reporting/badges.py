"""Shields-style SVG badges: `yardstick | 87.5 gold`, for READMEs and wikis."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from xml.sax.saxutils import escape  # escaping, not parsing  # nosec B406

from dashboard.models import Repository, Team
from dashboard.selectors.scores import team_scores

LABEL = "yardstick"
COLOURS = {
    "gold": "#c9a227",
    "silver": "#8c99a6",
    "bronze": "#b0703b",
    "none": "#e05d44",
    "": "#9f9f9f",
}
# Verdana 11px averages about 6.5 px per character; shields.io pads each side by 6 px.
CHAR_PX, PAD_PX = 6.5, 6

_TEMPLATE = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="20" role="img" '
    'aria-label="{label}: {message}"><title>{label}: {message}</title>'
    '<linearGradient id="s" x2="0" y2="100%"><stop offset="0" stop-color="#bbb" '
    'stop-opacity=".1"/><stop offset="1" stop-opacity=".1"/></linearGradient>'
    '<clipPath id="r"><rect width="{width}" height="20" rx="3" fill="#fff"/></clipPath>'
    '<g clip-path="url(#r)"><rect width="{left}" height="20" fill="#555"/>'
    '<rect x="{left}" width="{right}" height="20" fill="{colour}"/>'
    '<rect width="{width}" height="20" fill="url(#s)"/></g>'
    '<g fill="#fff" text-anchor="middle" font-family="Verdana,Geneva,DejaVu Sans,sans-serif" '
    'font-size="11"><text x="{label_x}" y="14">{label}</text>'
    '<text x="{message_x}" y="14">{message}</text></g></svg>'
)


@dataclass(frozen=True, slots=True)
class Badge:
    """A rendered badge and its validator."""

    svg: str
    found: bool = True

    @property
    def etag(self) -> str:
        """A strong ETag: the content's hash."""
        return '"' + hashlib.sha256(self.svg.encode()).hexdigest()[:32] + '"'


def _width(text: str) -> int:
    return round(len(text) * CHAR_PX) + 2 * PAD_PX


def render(message: str, level: str, label: str = LABEL) -> str:
    """The SVG of a two-part badge."""
    left, right = _width(label), _width(message)
    return _TEMPLATE.format(
        width=left + right,
        left=left,
        right=right,
        colour=COLOURS.get(level, COLOURS[""]),
        label=escape(label),
        message=escape(message),
        label_x=left / 2,
        message_x=left + right / 2,
    )


def _message(score: float | None, level: str) -> str:
    if score is None:
        return "not scanned"
    return f"{score:.1f} {level or 'none'}".replace(".0 ", " ")


def not_found() -> Badge:
    """The badge for an unknown or inactive repository or team."""
    return Badge(render("not found", ""), found=False)


def repository_badge(repository_id: int) -> Badge:
    """An active repository's score and level."""
    row = Repository.objects.filter(pk=repository_id, active=True).values("score", "level").first()
    if row is None:
        return not_found()
    level = row["level"] if row["score"] is not None else ""
    return Badge(render(_message(row["score"], level), level))


def team_badge(slug: str) -> Badge:
    """A team's score and level (dashboard/domain/scores.py)."""
    team_id = Team.objects.filter(slug=slug).values_list("pk", flat=True).first()
    figures = team_scores([team_id]).get(team_id) if team_id is not None else None
    if figures is None or not figures.repositories:
        return not_found()
    level = figures.level if figures.score is not None else ""
    return Badge(render(_message(figures.score, level), level))
