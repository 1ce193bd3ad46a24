"""The client's address: the one definition every rate limit, lockout and audit record uses.

Without a trusted proxy it is the TCP peer (`REMOTE_ADDR`); headers a client can write
(`X-Forwarded-For`, ...) are ignored. Behind a reverse proxy that every request goes through,
`TRUSTED_PROXY_HEADER` names the header that proxy sets. For a list header such as
`X-Forwarded-For`, each proxy appends the address it received the request from, so only the
entries appended by our own proxies can be believed: the client is the entry
`TRUSTED_PROXY_COUNT` places from the right, and anything further left is the client's own
text. A request without the header (it did not come through the proxy) falls back to the peer.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def parse_ip(value: str | None) -> str | None:
    """`value` as a normalised IP address, or None when it is not one."""
    try:
        return str(ipaddress.ip_address((value or "").strip()))
    except ValueError:
        return None


def client_ip(request: HttpRequest) -> str | None:
    """The request's client address as configured above; None when it is not a valid IP."""
    meta_key: str | None = getattr(settings, "TRUSTED_PROXY_META_KEY", None)
    if meta_key:
        header = str(request.META.get(meta_key, "")).strip()
        if header:
            hops = [entry.strip() for entry in header.split(",")]
            count: int = getattr(settings, "TRUSTED_PROXY_COUNT", 1)
            # Fewer entries than trusted proxies: a proxy did not append; believe none of them.
            return parse_ip(hops[-count]) if len(hops) >= count else None
    return parse_ip(request.META.get("REMOTE_ADDR"))
