"""A signed-in user opens the API reference from beside their name, in production mode: the
page renders under the strict CSP (no console error), its contents link to each operation."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import sign_in
from tests.factories import UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

PASSWORD = "correct horse battery staple"  # the factories' password


def test_the_api_reference_from_the_user_area(page: Any, live_server: Any, settings: Any) -> None:
    settings.DEBUG = False
    UserFactory(username="milo")
    sign_in(page, live_server.url, "milo", PASSWORD)
    page.click("form.signout >> text=API docs")
    page.wait_for_url(f"{live_server.url}/api/")
    assert page.is_visible("#authentication >> text=Authorization: Bearer ys_…")
    page.click('nav[aria-label="Operations"] >> text="/api/v1/results"')
    page.wait_for_url(f"{live_server.url}/api/#dashboard_api_routes_scans_list_results")
    assert page.is_visible("#dashboard_api_routes_scans_list_results >> text=effective_status")
