"""The correlation id of the work in progress (a request, or a task started by one)."""

from __future__ import annotations

import re
import uuid
from contextvars import ContextVar, Token

_REQUEST_ID: ContextVar[str] = ContextVar("request_id", default="-")
_CLIENT_ADDRESS: ContextVar[str | None] = ContextVar("client_address", default=None)
_VALID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def get_request_id() -> str:
    """The current correlation id, or '-' outside any request or task."""
    return _REQUEST_ID.get()


def set_request_id(value: str) -> Token[str]:
    """Make `value` the current correlation id; returns a token for `reset_request_id`."""
    return _REQUEST_ID.set(value)


def reset_request_id(token: Token[str]) -> None:
    """Restore the correlation id that was current before `set_request_id`."""
    _REQUEST_ID.reset(token)


def get_client_address() -> str | None:
    """The source IP of the request in progress (the audit log records it), or None."""
    return _CLIENT_ADDRESS.get()


def set_client_address(value: str | None) -> Token[str | None]:
    """Make `value` the current request's source IP; returns a token to reset it."""
    return _CLIENT_ADDRESS.set(value)


def reset_client_address(token: Token[str | None]) -> None:
    """Restore the source IP that was current before `set_client_address`."""
    _CLIENT_ADDRESS.reset(token)


def accept_or_generate(candidate: str | None) -> str:
    """A client-supplied id when it is safe to log and echo, else a fresh one."""
    if candidate and _VALID.match(candidate):
        return candidate
    return uuid.uuid4().hex
