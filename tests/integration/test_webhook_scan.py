"""Acceptance: a push signed like GitHub's leads, through a real worker, to a scan of it."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.test import Client

from dashboard.models import Scan, WebhookDelivery
from dashboard.services.access import secrets
from dashboard.services.repos.registration import register_repository
from tests.conftest import WorkerHandle, wait_for
from tests.factories import TeamFactory
from tests.gitrepo import commit_all, golden_repo, write_files
from tests.webhooks import body_of, payload, signed_headers

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _done(repository_id: int) -> bool:
    return not Scan.objects.filter(
        repository_id=repository_id, status__in=(Scan.Status.QUEUED, Scan.Status.RUNNING)
    ).exists()


def test_github_push_leads_to_a_scan_of_the_pushed_commit(
    celery_worker_process: WorkerHandle, tmp_path: Path
) -> None:
    source = golden_repo(tmp_path / "golden")
    registered = register_repository(TeamFactory(), str(source))
    repository = registered.repository
    log = celery_worker_process.log
    assert wait_for(lambda: _done(repository.pk), timeout=120), log.read_text()[-3000:]
    first = Scan.objects.get(pk=registered.scan.pk)
    assert first.status == Scan.Status.SUCCEEDED, first.error

    write_files(source, {"NOTES.md": "A new commit on the default branch.\n"})
    pushed = commit_all(source, "docs: notes")
    data = payload("github-push")
    data["after"] = pushed
    data["repository"].update(clone_url=str(source), ssh_url=str(source), html_url=str(source))
    body = body_of(data)
    secret = secrets.decrypt(repository.webhook_secret_encrypted)
    assert secret == registered.webhook_secret
    response = Client(REMOTE_ADDR="10.99.0.1").post(
        "/webhooks/github/",
        data=body,
        content_type="application/json",
        headers=signed_headers("github", body, secret),
    )
    assert response.status_code == 202, response.json()
    scan_id = response.json()["scan_id"]
    assert wait_for(lambda: Scan.objects.get(pk=scan_id).is_finished, timeout=120), log.read_text()[
        -3000:
    ]
    scan = Scan.objects.get(pk=scan_id)
    assert scan.status == Scan.Status.SUCCEEDED, scan.error
    assert (scan.trigger, scan.commit_sha) == (Scan.Trigger.WEBHOOK, pushed)
    assert scan.commit_sha != first.commit_sha
    assert scan.results.count() == first.results.count()
    delivery = WebhookDelivery.objects.get(scan=scan)
    assert delivery.outcome == WebhookDelivery.Outcome.SCAN_REQUESTED
