"""Public SVG badges: content, caching headers, conditional GET, unknown and inactive."""

from __future__ import annotations

import defusedxml.ElementTree as ET
import pytest
from django.test import Client

from tests.factories import RepositoryFactory, ScanFactory, TeamFactory

pytestmark = pytest.mark.django_db
SVG = "{http://www.w3.org/2000/svg}"


def _texts(content: bytes) -> list[str]:
    root = ET.fromstring(content)
    assert root.tag == f"{SVG}svg"
    return [t.text or "" for t in root.iter(f"{SVG}text")]


def test_repository_badge_shows_score_and_level_without_login() -> None:
    repository = RepositoryFactory(score=87.46, level="silver", latest_scan=ScanFactory())
    response = Client().get(f"/badges/{repository.pk}.svg")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml; charset=utf-8"
    assert response["Cache-Control"] == "public, max-age=300"
    assert _texts(response.content) == ["yardstick", "87.5 silver"]
    assert b"#8c99a6" in response.content


def test_badge_answers_304_to_a_matching_etag() -> None:
    repository = RepositoryFactory(score=100.0, level="gold")
    client = Client()
    first = client.get(f"/badges/{repository.pk}.svg")
    assert _texts(first.content)[1] == "100 gold"
    etag = first["ETag"]
    again = client.get(f"/badges/{repository.pk}.svg", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again["ETag"] == etag
    repository.score, repository.level = 60.0, "bronze"
    repository.save()
    changed = client.get(f"/badges/{repository.pk}.svg", headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed["ETag"] != etag


def test_unscanned_repository_badge_says_so() -> None:
    repository = RepositoryFactory()
    assert _texts(Client().get(f"/badges/{repository.pk}.svg").content)[1] == "not scanned"


@pytest.mark.parametrize("active", [False, None])
def test_unknown_or_inactive_repository_is_a_404_badge(active: bool | None) -> None:
    pk = RepositoryFactory(active=False, score=90.0, level="gold").pk if active is False else 999
    response = Client().get(f"/badges/{pk}.svg")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("image/svg+xml")
    assert _texts(response.content)[1] == "not found"


def test_team_badge_uses_active_repositories() -> None:
    team = TeamFactory(slug="payments")
    RepositoryFactory(team=team, score=90.0, level="gold", latest_scan=ScanFactory())
    RepositoryFactory(team=team, score=70.0, level="bronze", latest_scan=ScanFactory())
    RepositoryFactory(team=team, score=0.0, level="none", active=False)
    response = Client().get("/badges/teams/payments.svg")
    assert response.status_code == 200
    assert _texts(response.content)[1] == "80 bronze"
    assert Client().get("/badges/teams/nobody.svg").status_code == 404
    TeamFactory(slug="empty")
    assert Client().get("/badges/teams/empty.svg").status_code == 404


def test_badge_width_fits_the_message() -> None:
    short = RepositoryFactory(score=5.0, level="none")
    long = RepositoryFactory(score=99.9, level="silver")
    width = {
        r.pk: int(ET.fromstring(Client().get(f"/badges/{r.pk}.svg").content).get("width", "0"))
        for r in (short, long)
    }
    assert width[long.pk] > width[short.pk]
