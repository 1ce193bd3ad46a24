"""On-commit callbacks a test asserts on, without the page cache's own."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from dashboard.services.infra.page_versions import AfterCommit


def queued_work(callbacks: Sequence[Callable[..., Any]]) -> list[Callable[..., Any]]:
    """The callbacks other than the page cache's version bumps (tasks, mostly)."""
    return [cb for cb in callbacks if not isinstance(cb, AfterCommit)]
