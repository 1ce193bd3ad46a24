"""What people do in Yardstick, in a real browser against a live server and a real worker."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import Group, User

from dashboard.models import Membership, Repository, Scan
from dashboard.services.access.permissions import MANAGERS_GROUP
from tests.conftest import WorkerHandle
from tests.e2e.conftest import SCREENSHOTS, sign_in
from tests.factories import MembershipFactory, TeamFactory, UserFactory
from tests.gitrepo import golden_repo
from tests.orgdata import build_org

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

PASSWORD = "correct horse battery staple"  # the factories' password


def _maintainer() -> User:
    team = TeamFactory(name="Payments", slug="payments")
    user = UserFactory(username="maya")
    MembershipFactory(user=user, team=team, role=Membership.Role.MAINTAINER)
    return user


@pytest.mark.remote_check  # the host is asked at once, as in production
def test_register_a_repository_and_watch_its_scan_finish(
    page: Any, live_server: Any, celery_worker_process: WorkerHandle, tmp_path: Path
) -> None:
    _maintainer()
    source = golden_repo(tmp_path / "notes-service")
    sign_in(page, live_server.url, "maya", PASSWORD)
    page.click("text=Register a repository")
    page.fill("#id_clone_url", "--upload-pack=touch /tmp/pwned")
    page.click("main button[type=submit]")
    assert "must not start with '-'" in page.inner_text(".field-error")
    page.fill("#id_clone_url", str(tmp_path / "not-pushed-yet"))
    page.click("main button[type=submit]")
    assert "The repository was not found" in page.inner_text(".field-error")
    page.fill("#id_clone_url", str(source))
    page.click("main button[type=submit]")
    secret = page.inner_text("#webhook-secret")
    assert len(secret) > 30
    page.click("text=follow its progress")
    # The progress panel swaps itself in place until the worker is done, then the page reloads.
    page.wait_for_selector("text=What needs attention", timeout=120_000)
    assert "succeeded" in page.inner_text("#scan-progress")
    scan = Scan.objects.get(repository__name="notes-service")
    assert scan.status == Scan.Status.SUCCEEDED


def test_open_evidence_sort_filter_and_waive(page: Any, live_server: Any) -> None:
    user = _maintainer()
    build_org(teams=3, repositories=3, days=6)
    repository = Repository.objects.exclude(latest_scan=None).first()
    assert repository
    Repository.objects.filter(pk=repository.pk).update(team=Membership.objects.get(user=user).team)
    sign_in(page, live_server.url, "maya", PASSWORD)

    # Sort the teams table by name: swapped in place, URL bookmarkable.
    page.click("#teams-table >> text=Team")
    page.wait_for_url(re.compile(r"sort=name"))
    names = page.locator("#teams-table tbody tr td:nth-child(2)").all_inner_texts()
    assert names == sorted(names)
    page.fill("input[name=q]", names[-1])
    page.wait_for_function("() => document.querySelectorAll('#teams-table tbody tr').length === 1")

    # A failed rule's evidence on the repository page, then the rule page.
    page.goto(f"{live_server.url}/repositories/{repository.pk}/")
    # The actions sit together at the right of the page head, not mid-header.
    head = page.locator(".page-head").bounding_box()
    actions = page.locator(".page-actions").bounding_box()
    assert head
    assert actions
    assert abs((head["x"] + head["width"]) - (actions["x"] + actions["width"])) < 2
    assert page.locator(".page-actions >> text=Scan now").is_visible()
    # The summary stays at the top of the window while the results scroll by.
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    summary = page.locator("#summary").bounding_box()
    assert summary
    assert abs(summary["y"]) < 2
    page.evaluate("window.scrollTo(0, 0)")
    page.click("nav.tabs >> text=Failing")
    page.wait_for_selector("#results .result-fail")
    assert "src/main.py:3" in page.inner_text("#results .result-fail >> nth=0")
    score_before = page.inner_text(".stat-value >> nth=0")

    # Request a waiver on the first failing rule: pending, the score stays; once a manager
    # approves it on the pending approvals page, the score rises.
    page.fill("#id_reason", "Accepted until the platform migration lands")
    page.click("text=Request waiver")
    page.wait_for_selector(".message")
    assert "success" in (page.get_attribute(".message", "class") or ""), page.inner_text(
        ".messages"
    )
    assert "Pending" in page.inner_text("#governance")
    assert page.inner_text(".stat-value >> nth=0") == score_before
    manager = UserFactory(username="manon")
    manager.groups.add(Group.objects.get_or_create(name=MANAGERS_GROUP)[0])
    page.context.clear_cookies()
    sign_in(page, live_server.url, "manon", PASSWORD)
    page.goto(f"{live_server.url}/waivers/requests/")
    page.click("#waiver-requests >> text=Approve")
    page.wait_for_selector(".message.success")
    assert "No waiver request awaits your decision." in page.inner_text("#waiver-requests")
    page.goto(f"{live_server.url}/repositories/{repository.pk}/")
    score_after = page.inner_text(".stat-value >> nth=0")
    assert float(score_after) > float(score_before)

    page.click("#results .result-fail a >> nth=0")
    page.wait_for_selector("text=How to fix")
    assert "The standard" in page.content()


def test_screenshots_of_the_main_pages(
    page: Any, live_server: Any, settings: Any, tmp_path: Path
) -> None:
    """README screenshots, taken from the demo data (real repositories, real scans)."""
    from io import StringIO

    from django.contrib.auth.models import Group
    from django.core.management import call_command

    from dashboard.models import Team

    settings.VAR_DIR = tmp_path / "var"
    # Six teams and a year, as the full demo, with twelve of its stories rather than 24
    # repositories: the pages look the same at half the build time.
    call_command("demo", "--teams", "6", "--repos", "12", stdout=StringIO())
    viewer = UserFactory(username="screens")
    viewer.groups.add(Group.objects.get_or_create(name="managers")[0])
    team = Team.objects.order_by("name").first()
    repository = (
        Repository.objects.exclude(latest_scan=None).filter(level__in=["", "bronze"]).first()
    )
    assert team
    assert repository
    sign_in(page, live_server.url, "screens", PASSWORD)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for name, url in [
        ("overview", "/"),
        ("team", f"/teams/{team.slug}/"),
        ("repository", f"/repositories/{repository.pk}/?status=fail"),
        ("rule", "/rules/LAY-001/"),
    ]:
        page.goto(f"{live_server.url}{url}", wait_until="networkidle")  # htmx panels too
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=False)
        assert path.stat().st_size > 10_000
    # The same overview at phone width: still readable, nothing cut off sideways.
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/", wait_until="networkidle")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390 + 1
    page.screenshot(path=str(SCREENSHOTS / "overview-phone.png"))
