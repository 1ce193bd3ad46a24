"""The demo organisation: teams, people and the repositories' stories.

A profile tells one repository's year: what it starts with (a base project, a shape and the
defects present at its first commit), then events in order, spread over the year: `+key`
introduces a defect, `-key` fixes it, `migration` adds an Alembic revision, `edit_migration`
edits the newest one after the fact, `lock` refreshes uv.lock, `feature` is an ordinary change.
The first eight profiles cover the spectrum the demo promises; the rest are variations.
"""

from __future__ import annotations

from dataclasses import dataclass

TEAMS: tuple[tuple[str, str], ...] = (
    ("Payments", "Card payments, refunds and the ledger."),
    ("Identity", "Sign-in, accounts and permissions."),
    ("Catalog", "Products, prices and search."),
    ("Logistics", "Orders, shipping and tracking."),
    ("Data Platform", "Pipelines, reporting and exports."),
    ("Growth", "Notifications, campaigns and onboarding."),
    ("Mobile Backend", "APIs for the mobile apps."),
    ("Internal Tools", "Back-office services."),
)

PEOPLE: tuple[str, ...] = (
    "Ada Lovelace",
    "Grace Hopper",
    "Alan Turing",
    "Katherine Johnson",
    "Edsger Dijkstra",
    "Barbara Liskov",
    "Donald Knuth",
    "Margaret Hamilton",
    "Ken Thompson",
    "Frances Allen",
    "Dennis Ritchie",
    "Radia Perlman",
    "John Backus",
    "Hedy Lamarr",
    "Guido van Rossum",
    "Sophie Wilson",
    "Niklaus Wirth",
    "Adele Goldberg",
    "Tim Berners-Lee",
    "Annie Easley",
    "Leslie Lamport",
    "Shafi Goldwasser",
    "Linus Torvalds",
    "Jean Sammet",
)


@dataclass(frozen=True, slots=True)
class Profile:
    """One demo repository's base, shape, starting defects, events and commit style."""

    name: str
    story: str
    events: tuple[str, ...]
    start: frozenset[str] = frozenset()
    base: str = "model"  # "model" (the golden FastAPI project) or "flask"
    shape: str = "src"  # "src", "app", "monorepo" or "poetry"
    style: str = "conventional"  # "conventional", "mixed", "casual" or "adopting"

    @property
    def project_dir(self) -> str:
        """The folder to register as the project (monorepos keep it in `backend/`)."""
        return "backend" if self.shape == "monorepo" else ""


def _p(name: str, story: str, events: str, start: str = "", **kw: str) -> Profile:
    return Profile(name, story, tuple(events.split()), frozenset(start.split()), **kw)


PROFILES: tuple[Profile, ...] = (
    _p(
        "ledger-api",
        "The model citizen: closes its last gaps and reaches Gold.",
        "feature -no_precommit migration -no_docs feature -no_env lock feature lock",
        "no_precommit no_docs no_env",
    ),
    _p(
        "storefront-app",
        "An app/-layout project: the engine finds its package in app/ and judges it the same.",
        "feature -no_tests lock feature -lint lock",
        "no_tests lint",
        shape="app",
    ),
    _p(
        "platform-monorepo",
        "A monorepo whose API lives in backend/.",
        "-no_ci feature -no_docker lock feature lock",
        "no_ci no_docker no_docs",
        shape="monorepo",
    ),
    _p(
        "billing-poetry",
        "Still on Poetry: fails DEP-002 however clean the code is.",
        "feature -no_tests feature feature",
        "no_tests",
        shape="poetry",
        style="mixed",
    ),
    _p(
        "legacy-flask",
        "A Flask service, not FastAPI: fails FW-001.",
        "feature +requirements feature",
        "",
        base="flask",
        style="casual",
    ),
    _p(
        "orders-api",
        "Routes that started talking to the database directly.",
        "feature lock +route_db feature lock +print",
        style="mixed",
    ),
    _p(
        "notifier",
        "Partner credentials committed to the repository.",
        "feature lock +secret feature lock",
        "no_docs",
    ),
    _p(
        "reports-service",
        "A half-written module that does not parse.",
        "-no_tests feature lock +broken_syntax",
        "no_tests no_docs",
        style="adopting",
    ),
    _p(
        "accounts-api",
        "Steady improvement, one gap a month.",
        "-no_ci -no_tests -no_docker -no_precommit lock -no_docs lock",
        "no_ci no_tests no_docker no_precommit no_docs",
        style="adopting",
    ),
    _p(
        "search-indexer",
        "Slow decay: shortcuts pile up under deadline pressure.",
        "feature +no_precommit +lint migration +stale_lock +no_docs",
        style="mixed",
    ),
    _p(
        "shipping-api",
        "A migration edited after it shipped.",
        "migration feature edit_migration lock feature lock",
        style="conventional",
    ),
    _p(
        "tracking-service",
        "Recovering after a bad quarter.",
        "+no_tests +lint -lint -no_tests lock -no_ci lock",
        "no_ci",
        style="adopting",
    ),
    _p(
        "exports-worker",
        "Never had tests or CI; nobody owns it.",
        "feature feature",
        "no_tests no_ci no_docker no_precommit",
        style="casual",
    ),
    _p(
        "campaigns-api",
        "Gold last spring, slipping since.",
        "lock +no_env +print +stale_lock feature",
    ),
    _p(
        "mobile-gateway",
        "App layout, improving.",
        "-no_docker -no_ci lock feature lock",
        "no_docker no_ci",
        shape="app",
        style="adopting",
    ),
    _p(
        "admin-console",
        "A Poetry monolith moving slowly.",
        "-no_ci feature +requirements",
        "no_ci no_docs",
        shape="poetry",
        style="casual",
    ),
    _p(
        "pricing-engine",
        "Solid and quiet.",
        "lock feature lock feature lock",
        "no_env",
    ),
    _p(
        "returns-api",
        "Fixed the direct database access in routes.",
        "feature -route_db migration lock -print lock",
        "route_db print",
        style="mixed",
    ),
    _p(
        "events-monorepo",
        "A second monorepo, losing its docs and hooks.",
        "lock +no_docs +no_precommit feature",
        shape="monorepo",
    ),
    _p(
        "onboarding-flask",
        "Another Flask service, with a committed secret.",
        "feature +secret",
        base="flask",
        style="casual",
    ),
    _p(
        "inventory-api",
        "Migrations edited twice; everything else fine.",
        "migration edit_migration feature lock edit_migration lock",
    ),
    _p(
        "sessions-api",
        "Removed a leaked token and rotated it.",
        "-secret lock feature lock",
        "secret",
    ),
    _p(
        "analytics-api",
        "Lint debt paid off, tests still missing.",
        "-lint -print lock feature",
        "lint print no_tests",
        style="mixed",
    ),
    _p(
        "webhooks-relay",
        "Stale lock left behind after a dependency bump.",
        "feature +stale_lock feature",
    ),
)


def profiles(count: int) -> list[Profile]:
    """`count` profiles: the catalogue in order, then numbered variations of it."""
    out = []
    for i in range(count):
        base = PROFILES[i % len(PROFILES)]
        if i >= len(PROFILES):
            base = Profile(
                f"{base.name}-{i // len(PROFILES) + 1}",
                base.story,
                base.events,
                base.start,
                base.base,
                base.shape,
                base.style,
            )
        out.append(base)
    return out
