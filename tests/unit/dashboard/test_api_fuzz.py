"""Schemathesis against the API's own OpenAPI document, in-process (WSGI): never a 5xx.

Every operation gets generated (and schema-violating) requests from a write token of a team
with a repository and a scan, so the reads find data and the writes reach the services.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from dashboard.api.app import api

schema = schemathesis.openapi.from_dict(
    json.loads(json.dumps(api.get_openapi_schema(), default=str))
)
schema.app = get_wsgi_application()


@pytest.fixture
def _keep_test_connection() -> Iterator[None]:
    """As Django's test client does: a request must not close the test's transaction."""
    for signal in (signals.request_started, signals.request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (signals.request_started, signals.request_finished):
        signal.connect(close_old_connections)


@pytest.fixture
def bearer(db: None, settings: Any, _keep_test_connection: None) -> dict[str, str]:
    """A write token of team `alpha`, which has a repository with a finished scan."""
    from dashboard.services.access import api_tokens
    from tests.factories import RepositoryFactory, ScanFactory, TeamFactory

    settings.ALLOWED_HOSTS = ["*"]
    settings.ALLOW_LOCAL_REPOSITORIES = False
    team = TeamFactory(slug="alpha")
    ScanFactory(repository=RepositoryFactory(team=team))
    issued = api_tokens.issue(team, "fuzz", write=True)
    return {"Authorization": f"Bearer {issued.plaintext}"}


@pytest.mark.django_db
@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_api_never_answers_5xx(case: Any, bearer: dict[str, str]) -> None:
    case.call_and_validate(headers=bearer, checks=[not_a_server_error])
