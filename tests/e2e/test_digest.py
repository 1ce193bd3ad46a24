"""A manager turns the organisation's weekly digest on in the browser and previews it."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Group

from dashboard.models import DigestSubscription
from dashboard.services.access.permissions import MANAGERS_GROUP
from dashboard.services.notify import weekly
from dashboard.services.notify.subscriptions import Scope
from tests.e2e.conftest import sign_in
from tests.factories import UserFactory
from tests.orgdata import build_org

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

PASSWORD = "correct horse battery staple"  # the factories' password


def test_turn_the_digest_on_and_preview_it(page: Any, live_server: Any) -> None:
    build_org(teams=2, repositories=2, days=9)
    manager = UserFactory(username="manon")
    manager.groups.add(Group.objects.get_or_create(name=MANAGERS_GROUP)[0])

    sign_in(page, live_server.url, "manon", PASSWORD)
    page.click("nav >> text=Digest")
    page.click("#digest-scopes button:has-text('Turn on')")

    page.wait_for_selector("text=The weekly digest of the organisation is on.")
    assert DigestSubscription.objects.get(user=manager).enabled
    assert page.inner_text("#digest-scopes button") == "Turn off"
    page.click("#digest-scopes >> text=Preview")

    page.wait_for_selector("#digest-body")
    digest = weekly.render(Scope())
    assert page.inner_text("#digest-subject") == digest.mail_subject
    assert page.inner_text("#digest-body").strip() == digest.body.strip()
    assert digest.attachment_name in page.inner_text("#digest-attachment")
