"""Browser tests: Playwright driving Debian's chromium (never a downloaded browser)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in this thread; the ORM calls the tests make
# between browser steps are ordinary synchronous code.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """One headless chromium for the session."""
    if not Path(CHROMIUM).exists():
        message = "chromium is not installed: `apt-get install -y chromium` (.ci/run does it)"
        if os.environ.get("CI"):
            pytest.fail(message)  # CI must run the browser tests
        pytest.skip(message)  # a laptop without chromium still runs everything else
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser: object) -> Iterator[object]:
    """A fresh browser context and page; console errors (CSP violations…) fail the test."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})  # type: ignore[attr-defined]
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    context.close()
    assert errors == [], f"browser console errors: {errors}"


def sign_in(page: object, base_url: str, username: str, password: str) -> None:
    """Sign in through the real form."""
    page.goto(f"{base_url}/accounts/login/")  # type: ignore[attr-defined]
    page.fill("#id_username", username)  # type: ignore[attr-defined]
    page.fill("#id_password", password)  # type: ignore[attr-defined]
    page.click("main button[type=submit]")  # type: ignore[attr-defined]
    page.wait_for_url(f"{base_url}/")  # type: ignore[attr-defined]


@pytest.fixture(scope="session")
def oidc_provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """A real OpenID Connect provider (django-oauth-toolkit) in its own process on loopback."""
    from tests.oidc_provider.process import start_provider

    provider = start_provider(tmp_path_factory.mktemp("oidc-provider"))
    yield provider
    provider.stop()
