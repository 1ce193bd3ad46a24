"""A real Celery worker consumes tasks through the configured broker and writes to the DB."""

from __future__ import annotations

import pytest

from dashboard.models import WorkerHeartbeat
from dashboard.observability.context import reset_request_id, set_request_id
from dashboard.tasks import heartbeat
from tests.conftest import WorkerHandle, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_worker_executes_task_sent_through_the_broker(
    celery_worker_process: WorkerHandle,
) -> None:
    token = set_request_id("corr-worker-1")
    try:
        heartbeat.apply_async(args=["integration-worker"], queue=celery_worker_process.queue)
    finally:
        reset_request_id(token)

    def written() -> bool:
        return WorkerHeartbeat.objects.filter(worker="integration-worker").exists()

    assert wait_for(written, timeout=60), celery_worker_process.log.read_text()[-3000:]
    beat = WorkerHeartbeat.objects.get(worker="integration-worker")
    # The correlation id of the sender travelled with the task into the worker's context.
    assert beat.request_id == "corr-worker-1"
    assert "corr-worker-1" in celery_worker_process.log.read_text()
