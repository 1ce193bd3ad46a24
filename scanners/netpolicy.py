"""Which network addresses Yardstick may connect to: one policy for every outbound path.

Clone URLs, mirror fetches, notification webhooks and outgoing webhooks all reach hosts named
by untrusted input. A check on the host *text* is not enough: git and curl percent-decode
the host, resolvers read `/etc/hosts` and DNS, and a name may resolve differently later
(DNS rebinding). So this module

- decodes the host as a client would (`decode_host`): brackets, case, trailing dot, IDNA;
  a host with `%` escapes is refused outright;
- reads every literal form of an address (`literal_address`), including the shorthand
  `inet_aton` accepts (`2130706433`, `0x7f.1`, `127.1`);
- judges an address (`is_public`) after unwrapping the IPv4 address inside IPv4-mapped,
  IPv4-compatible (`::127.0.0.1`), NAT64, 6to4 and Teredo IPv6 forms;
- resolves a name (`resolve_checked`) and refuses it if ANY of its addresses is not public,
  returning the checked addresses so the caller connects to exactly those
  (`connect_checked`, or git's `http.curloptResolve`).

`allow_internal=True` (development, or an on-premises git server) skips the address check,
never the decoding. The resolver is injectable: tests map names to addresses without DNS.
This module never imports Django.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Sequence

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
#: `(host, port) -> addresses`; raises `OSError` (e.g. `socket.gaierror`) when it cannot.
Resolver = Callable[[str, int], Sequence[str]]

#: Names that always mean this machine or a private network, whatever a resolver says.
_INTERNAL_SUFFIXES = (".localhost", ".internal", ".local", ".localdomain", ".home.arpa")
_INTERNAL_NAMES = frozenset({"localhost", "localhost.localdomain"})
_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
_CGNAT = ipaddress.ip_network("100.64.0.0/10")
UNREACHABLE = "could not reach the host"


class HostRefused(ValueError):
    """The host may not be contacted (or cannot be read); the message is safe to show."""


def system_resolver(host: str, port: int) -> list[str]:
    """The addresses `getaddrinfo` gives for `host` (what a client would connect to)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def decode_host(host: str) -> str:
    """The host as a client reads it: no brackets, lower case, no trailing dot, IDNA (ASCII).

    Raises `HostRefused` for an empty host, percent escapes, option-like or bracket-bearing
    text, and names IDNA cannot encode.
    """
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if "%" in host:
        raise HostRefused("percent-encoded (%) characters are not allowed in a host name")
    host = host.lower().rstrip(".")
    if not host or host.startswith("-") or any(c in host for c in "[]@/\\ \t\r\n\x00"):
        raise HostRefused("invalid host name")
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            raise HostRefused("invalid international host name") from None
    return host


def literal_address(host: str) -> Address | None:
    """The address a decoded host spells, in any form a client accepts; None for a name."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    if host and all(c in "0123456789abcdefx." for c in host) and host[0].isdigit():
        try:  # inet_aton's shorthand: 2130706433, 0x7f.1, 127.1, 0177.0.0.1
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None


def _embedded_ipv4(address: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """IPv4 addresses an IPv6 address carries (mapped, compatible, NAT64, 6to4, Teredo)."""
    found: list[ipaddress.IPv4Address] = []
    if address.ipv4_mapped is not None:
        found.append(address.ipv4_mapped)
    if address.sixtofour is not None:
        found.append(address.sixtofour)
    if address.teredo is not None:
        found.extend(address.teredo)
    packed = int(address)
    if packed >> 32 == 0 and packed > 1:  # IPv4-compatible ::a.b.c.d (`::` and `::1` aside)
        found.append(ipaddress.IPv4Address(packed & 0xFFFFFFFF))
    if any(address in network for network in _NAT64):
        found.append(ipaddress.IPv4Address(packed & 0xFFFFFFFF))
    return found


def _plainly_public(address: Address) -> bool:
    return not (
        not address.is_global
        or address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or (isinstance(address, ipaddress.IPv4Address) and address in _CGNAT)
        or (isinstance(address, ipaddress.IPv6Address) and address.is_site_local)
    )


def is_public(address: Address) -> bool:
    """Whether `address`, and every IPv4 address it embeds, is globally reachable unicast."""
    if isinstance(address, ipaddress.IPv6Address):
        address = ipaddress.IPv6Address(int(address))  # drop any scope id
        embedded = _embedded_ipv4(address)
        if address.ipv4_mapped is not None:
            return _plainly_public(address.ipv4_mapped)
        if address in _NAT64[0]:  # DNS64 on an IPv6-only network: the IPv4 address decides
            return _plainly_public(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
        if not all(_plainly_public(v4) for v4 in embedded):
            return False
    return _plainly_public(address)


def internal_by_name(host: str) -> bool:
    """Whether a decoded host is a name that always means an internal machine."""
    return host in _INTERNAL_NAMES or host.endswith(_INTERNAL_SUFFIXES)


def check_host_text(host: str, *, allow_internal: bool) -> str:
    """Decode `host` and refuse it if its text alone says it is internal; return it decoded.

    For registration, where no resolution is needed: `resolve_checked` decides at connect
    time.
    """
    decoded = decode_host(host)
    if allow_internal:
        return decoded
    address = literal_address(decoded)
    if internal_by_name(decoded) or (address is not None and not is_public(address)):
        raise HostRefused(f"internal address {decoded!r} is not allowed here")
    return decoded


def resolve_checked(
    host: str, port: int, *, allow_internal: bool, resolver: Resolver | None = None
) -> list[str]:
    """The addresses to connect to for `host`, each one checked; `HostRefused` otherwise.

    A literal address is not resolved. A name is refused if ANY address it resolves to is
    not public (a resolver may answer differently on the next call), and when it resolves
    to none. Callers must connect to the returned addresses, not resolve again.
    """
    decoded = check_host_text(host, allow_internal=allow_internal)
    address = literal_address(decoded)
    if address is not None:
        return [str(address)]
    try:
        answers = (resolver or system_resolver)(decoded, port)
    except (OSError, UnicodeError):
        raise HostRefused(UNREACHABLE) from None
    addresses: list[str] = []
    for answer in answers:
        try:
            resolved = ipaddress.ip_address(answer.split("%", 1)[0])
        except ValueError:
            raise HostRefused(UNREACHABLE) from None
        if not allow_internal and not is_public(resolved):
            raise HostRefused(f"host {decoded!r} resolves to an internal address")
        if str(resolved) not in addresses:
            addresses.append(str(resolved))
    if not addresses:
        raise HostRefused(UNREACHABLE)
    return addresses


def connect_checked(
    host: str,
    port: int,
    *,
    allow_internal: bool,
    timeout: float | None,
    resolver: Resolver | None = None,
) -> socket.socket:
    """A TCP connection to one of `host`'s checked addresses (see `resolve_checked`).

    Raises `HostRefused` for a refused host and `OSError` with a generic message when no
    checked address answers, so the error never tells a closed port from a filtered one.
    """
    for address in resolve_checked(host, port, allow_internal=allow_internal, resolver=resolver):
        try:
            return socket.create_connection((address, port), timeout=timeout)
        except OSError:
            continue
    raise OSError(UNREACHABLE)


__all__ = [
    "UNREACHABLE",
    "Address",
    "HostRefused",
    "Resolver",
    "check_host_text",
    "connect_checked",
    "decode_host",
    "internal_by_name",
    "is_public",
    "literal_address",
    "resolve_checked",
    "system_resolver",
]
