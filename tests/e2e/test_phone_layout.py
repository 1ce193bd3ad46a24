"""Phone layout (390 px): no page is wider than the screen, and the menu opens."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone

from dashboard.models import (
    AuditEvent,
    CheckResult,
    Initiative,
    Repository,
    RepositoryTransfer,
    Rule,
    Team,
    WaiverRequest,
)
from dashboard.services.access import api_tokens, audit
from tests.e2e.conftest import sign_in
from tests.factories import AttestationFactory, UserFactory, WaiverFactory
from tests.orgdata import build_org

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

PASSWORD = "correct horse battery staple"  # the factories' password
PHONE = {"width": 390, "height": 844}
LONG_PATH = "src/payments_service/adapters/outbound/very_long_module_name_for_testing_wrap.py"


def _organisation() -> dict[str, str]:
    """Every page of the main navigation non-empty; returns the URLs to visit by name."""
    teams = build_org(teams=3, repositories=3, days=8)
    team = teams[0]
    Team.objects.filter(pk=team.pk).update(name="Payments and Settlements Platform")
    repository = Repository.objects.filter(team=team).exclude(latest_scan=None).first()
    assert repository is not None
    assert repository.latest_scan_id is not None
    Repository.objects.filter(pk=repository.pk).update(
        name="payments-settlement-reconciliation-service"
    )
    # Long unbroken evidence paths and messages, as real scans produce.
    CheckResult.objects.filter(scan_id=repository.latest_scan_id).update(
        message=f"{LONG_PATH} has no docstring",
        evidence=[{"path": LONG_PATH, "line": 123, "message": "missing"}],
    )
    rules = list(Rule.objects.filter(retired=False).order_by("rule_id")[:2])
    assert len(rules) == 2
    WaiverFactory(repository=repository, rule=rules[0])
    AttestationFactory(repository=repository, rule=rules[1])
    today = timezone.now().date()
    initiative = Initiative.objects.create(
        name="Everyone at Bronze before the audit",
        goal="level",
        target_level="bronze",
        start_date=today - timedelta(days=6),
        target_date=today + timedelta(days=30),
    )
    initiative.teams.set(Team.objects.all())
    with transaction.atomic():
        audit.record(
            AuditEvent.Action("waiver.granted"),
            actor="ada",
            target_label=f"{repository.name} {rules[0].rule_id}",
            team=team,
            details={"reason": "Legacy service, migration planned for next quarter."},
        )
    ada = UserFactory(username="ada", is_superuser=True, is_staff=True)
    # The team page's live cards: an archived repository, and one offered by another team.
    archived = Repository.objects.filter(team=team).exclude(pk=repository.pk).first()
    assert archived is not None
    Repository.objects.filter(pk=archived.pk).update(active=False)
    offered = Repository.objects.exclude(team=team).first()
    assert offered is not None
    RepositoryTransfer.objects.create(repository=offered, from_team=offered.team, to_team=team)
    api_tokens.issue(team, "Deploys from the payments pipeline", write=True, owner=ada)
    WaiverRequest.objects.create(
        repository=repository,
        rule=Rule.objects.get(rule_id="DEP-002", standard__key="python-backend"),
        reason=f"Generated code under {LONG_PATH} is replaced next quarter.",
        expires_at=timezone.now() + timedelta(days=60),
        requested_by=UserFactory(username="a-maintainer-with-a-rather-long-user-name"),
    )
    return {
        "overview": "/",
        "team": f"/teams/{team.slug}/",
        "team notifications": f"/teams/{team.slug}/notifications/",
        "repositories": "/repositories/",
        "repository": f"/repositories/{repository.pk}/",
        "repository settings": f"/repositories/{repository.pk}/settings/",
        "repository, failing": f"/repositories/{repository.pk}/?status=fail",
        "scan": f"/scans/{repository.latest_scan_id}/",
        "rules": "/rules/",
        "rule": f"/rules/{rules[0].rule_id}/",
        "initiatives": "/initiatives/",
        "initiative": f"/initiatives/{initiative.pk}/",
        "new initiative": "/initiatives/new/",
        "audit log": "/audit/",
        "register": "/repositories/new/",
        "api tokens": "/tokens/",
        "pending approvals": "/waivers/requests/",
    }


# The elements that stick out past the right edge, deepest first: what to fix.
OFFENDERS = """(limit) => {
  const scrolls = (el) => getComputedStyle(el).overflowX !== 'visible';
  const out = [...document.querySelectorAll('body *')].filter((el) => {
    const box = el.getBoundingClientRect();
    if (Math.max(box.right, box.left + el.scrollWidth) <= limit + 0.5) return false;
    for (let up = el.parentElement; up; up = up.parentElement) if (scrolls(up)) return false;
    return true;
  });
  return out.filter((el) => !out.some((other) => other !== el && el.contains(other)))
    .slice(0, 4)
    .map((el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
      + (typeof el.className === 'string' && el.className
        ? '.' + el.className.trim().split(/ +/).join('.') : '')
      + ' ' + Math.round(el.getBoundingClientRect().left + el.scrollWidth) + 'px');
}"""


def _width(page: Any) -> int:
    return int(page.evaluate("document.documentElement.scrollWidth"))


def test_no_page_is_wider_than_a_phone(page: Any, live_server: Any) -> None:
    urls = _organisation()
    sign_in(page, live_server.url, "ada", PASSWORD)
    page.set_viewport_size(PHONE)
    # Every link of the main navigation too, links added later included.
    nav = page.eval_on_selector_all("nav[aria-label=Main] a", "links => links.map(a => a.href)")
    for href in nav:
        path = href.removeprefix(live_server.url)
        if path not in urls.values():
            urls[f"menu: {path}"] = path
    assert "/admin/" in urls.values()  # the superuser's links are among them
    too_wide: dict[str, str] = {}
    for name, url in urls.items():
        response = page.goto(f"{live_server.url}{url}", wait_until="networkidle")
        assert response is not None, (name, url)
        assert response.status == 200, (name, url, response.status)
        if (width := _width(page)) > PHONE["width"]:
            too_wide[name] = f"{width} px: {page.evaluate(OFFENDERS, PHONE['width'])}"
    report = "\n".join(f"{name}: {why}" for name, why in too_wide.items())
    assert not too_wide, f"pages wider than {PHONE['width']} px:\n{report}"


EMPTY_EXTRA = ("/initiatives/new/", "/waivers/requests/")


def test_empty_pages_fit_a_phone_too(page: Any, live_server: Any) -> None:
    """A new installation: no team, no repository, no initiative, no event (the register form
    is refused without a team to register for, so it is not among them)."""
    UserFactory(username="ada", is_superuser=True, is_staff=True)
    sign_in(page, live_server.url, "ada", PASSWORD)
    page.set_viewport_size(PHONE)
    nav = page.eval_on_selector_all("nav[aria-label=Main] a", "links => links.map(a => a.href)")
    too_wide: dict[str, str] = {}
    for url in [*nav, *(f"{live_server.url}{path}" for path in EMPTY_EXTRA)]:
        response = page.goto(url, wait_until="networkidle")
        assert response is not None, url
        assert response.status == 200, (url, response.status)
        if (width := _width(page)) > PHONE["width"]:
            too_wide[url] = f"{width} px: {page.evaluate(OFFENDERS, PHONE['width'])}"
    assert len(nav) >= 6
    assert not too_wide, too_wide


def test_the_menu_collapses_on_a_phone_and_opens(page: Any, live_server: Any) -> None:
    UserFactory(username="ada", is_superuser=True, is_staff=True)
    sign_in(page, live_server.url, "ada", PASSWORD)
    links = page.locator("nav[aria-label=Main] a")
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/")
    assert links.count() >= 6  # the audit log and the admin links show for a superuser
    assert not any(link.is_visible() for link in links.all())
    assert _width(page) <= PHONE["width"]
    page.click("text=Menu")
    assert all(link.is_visible() for link in links.all())
    assert _width(page) <= PHONE["width"]
    page.click("nav[aria-label=Main] >> text=Rules")
    page.wait_for_url(f"{live_server.url}/rules/")
    assert not links.first.is_visible()  # closed again on the next page

    # At desktop width there is no menu button: the links show as they always did.
    page.set_viewport_size({"width": 1280, "height": 900})
    assert not page.locator("text=Menu").is_visible()
    assert all(link.is_visible() for link in links.all())
    top = {round(link.bounding_box()["y"]) for link in links.all()}
    assert len(top) == 1  # one row
