"""The dispatch seam: services name tasks; every name they use is a registered task."""

from __future__ import annotations

import pytest

from dashboard.services.infra import dispatch


@pytest.mark.parametrize("name", dispatch.SENT_BY_SERVICES)
def test_every_task_name_services_send_is_registered(name: str) -> None:
    task = dispatch.task(name)
    assert task.name == name


def test_the_seam_hands_back_the_tasks_module_object_so_stand_ins_apply() -> None:
    from dashboard import tasks

    # `shared_task` gives the module a proxy; a test's stand-in set on it lands on the task.
    assert dispatch.task(dispatch.SCAN_REPOSITORY) is tasks.scan_repository._get_current_object()


def test_an_unknown_name_is_a_bug_not_a_retry() -> None:
    with pytest.raises(KeyError):
        dispatch.task("dashboard.no_such_task")
