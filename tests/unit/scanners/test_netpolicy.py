"""The outbound address policy: host decoding, address judgement, resolution, connecting.

Names are resolved by injected resolvers only (no DNS); the one server is on 127.0.0.1.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
from collections.abc import Iterator, Sequence

import pytest

from scanners import netpolicy
from scanners.netpolicy import HostRefused

NOT_PUBLIC = [
    "127.0.0.1",
    "127.8.9.10",
    "10.0.0.1",
    "172.16.0.1",
    "192.168.1.1",
    "169.254.169.254",  # cloud metadata
    "100.64.0.1",  # CGNAT
    "0.0.0.0",  # noqa: S104 - judged, never bound
    "224.0.0.1",
    "240.0.0.1",
    "255.255.255.255",
    "192.0.2.1",
    "198.18.0.1",
    "::1",
    "::",
    "::127.0.0.1",  # IPv4-compatible loopback
    "::ffff:127.0.0.1",  # IPv4-mapped
    "::ffff:169.254.169.254",
    "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
    "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
    "2002:7f00:1::1",  # 6to4 of 127.0.0.1
    "2002:a00:1::1",  # 6to4 of 10.0.0.1
    "fe80::1",
    "fc00::1",
    "fd12:3456::1",
    "fec0::1",  # site-local
    "ff02::1",
]
PUBLIC = ["8.8.8.8", "140.82.112.3", "2606:4700:4700::1111", "64:ff9b::808:808"]


@pytest.mark.parametrize("text", NOT_PUBLIC)
def test_non_public_addresses_are_not_public(text: str) -> None:
    assert not netpolicy.is_public(ipaddress.ip_address(text))


@pytest.mark.parametrize("text", PUBLIC)
def test_public_addresses_are_public(text: str) -> None:
    assert netpolicy.is_public(ipaddress.ip_address(text))


@pytest.mark.parametrize(
    ("host", "address"),
    [
        ("2130706433", "127.0.0.1"),
        ("0x7f.1", "127.0.0.1"),
        ("127.1", "127.0.0.1"),
        ("0177.0.0.1", "127.0.0.1"),
        ("::127.0.0.1", "::7f00:1"),
        ("8.8.8.8", "8.8.8.8"),
    ],
)
def test_literal_addresses_are_read_in_every_client_form(host: str, address: str) -> None:
    assert str(netpolicy.literal_address(host)) == address


@pytest.mark.parametrize("host", ["github.com", "deadbeef", "1e100.net", "a.b"])
def test_names_are_not_literal_addresses(host: str) -> None:
    assert netpolicy.literal_address(host) is None


@pytest.mark.parametrize(
    ("host", "decoded"),
    [
        ("GitHub.COM.", "github.com"),
        ("[::127.0.0.1]", "::127.0.0.1"),
        ("bücher.example", "xn--bcher-kva.example"),
    ],
)
def test_hosts_are_decoded_as_a_client_reads_them(host: str, decoded: str) -> None:
    assert netpolicy.decode_host(host) == decoded


@pytest.mark.parametrize("host", ["%31%32%37.0.0.1", "%6c%6f%63%61%6c%68%6f%73%74", "a%2eb"])
def test_percent_escapes_in_a_host_are_refused(host: str) -> None:
    with pytest.raises(HostRefused, match="percent-encoded"):
        netpolicy.decode_host(host)


@pytest.mark.parametrize("host", ["", "-oProxy", "a b", "a/b", "[", "."])
def test_unreadable_hosts_are_refused(host: str) -> None:
    with pytest.raises(HostRefused):
        netpolicy.decode_host(host)


@pytest.mark.parametrize(
    "host", ["localhost", "LOCALHOST.", "x.localhost", "metadata.google.internal", "nas.local"]
)
def test_internal_names_are_refused_by_text(host: str) -> None:
    with pytest.raises(HostRefused, match="internal address"):
        netpolicy.check_host_text(host, allow_internal=False)
    assert netpolicy.check_host_text(host, allow_internal=True)


# ----- resolution ------------------------------------------------------------------------
def resolver_of(table: dict[str, Sequence[str]]) -> netpolicy.Resolver:
    """A resolver answering from `table`; any other name fails as DNS would."""

    def resolve(host: str, port: int) -> Sequence[str]:
        if host not in table:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return table[host]

    return resolve


def _never(host: str, port: int) -> Sequence[str]:
    raise AssertionError(f"{host} must be decided without resolving")


@pytest.mark.parametrize(
    "answers",
    [
        ["127.0.0.1"],  # a name from /etc/hosts, or DNS pointing at this machine
        ["10.0.0.1"],  # DNS pointing into the private network
        ["140.82.112.3", "169.254.169.254"],  # ONE internal answer is enough
        ["::ffff:127.0.0.1"],
        ["fe80::1%eth0"],
    ],
)
def test_a_name_resolving_to_any_internal_address_is_refused(answers: list[str]) -> None:
    resolver = resolver_of({"inside.example": answers})
    with pytest.raises(HostRefused, match="resolves to an internal address"):
        netpolicy.resolve_checked("inside.example", 443, allow_internal=False, resolver=resolver)
    assert netpolicy.resolve_checked("inside.example", 443, allow_internal=True, resolver=resolver)


def test_a_public_name_gives_its_checked_addresses() -> None:
    resolver = resolver_of({"git.example": ["140.82.112.3", "140.82.112.3", "2606:4700::1"]})
    assert netpolicy.resolve_checked(
        "Git.Example.", 443, allow_internal=False, resolver=resolver
    ) == ["140.82.112.3", "2606:4700::1"]


def test_literal_addresses_are_decided_without_resolving() -> None:
    for host in ("[::127.0.0.1]", "2130706433", "localhost"):
        with pytest.raises(HostRefused, match="internal address"):
            netpolicy.resolve_checked(host, 443, allow_internal=False, resolver=_never)
    assert netpolicy.resolve_checked("8.8.8.8", 443, allow_internal=False, resolver=_never) == [
        "8.8.8.8"
    ]


@pytest.mark.parametrize("table", [{}, {"gone.example": []}, {"gone.example": ["nonsense"]}])
def test_a_name_that_does_not_resolve_is_unreachable(table: dict[str, list[str]]) -> None:
    with pytest.raises(HostRefused) as caught:
        netpolicy.resolve_checked(
            "gone.example", 443, allow_internal=False, resolver=resolver_of(table)
        )
    assert str(caught.value) == netpolicy.UNREACHABLE


# ----- connecting ------------------------------------------------------------------------
@pytest.fixture
def listener() -> Iterator[tuple[int, list[object]]]:
    """A loopback TCP server recording every connection it accepts: (port, connections)."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.1)
    seen: list[object] = []
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, peer = server.accept()
            except TimeoutError:
                continue
            seen.append(peer)
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield server.getsockname()[1], seen
    finally:
        stop.set()
        thread.join(timeout=5)
        server.close()


def test_a_refused_name_is_never_contacted(listener: tuple[int, list[object]]) -> None:
    port, seen = listener
    resolver = resolver_of({"hosts-file-name": ["127.0.0.1"]})
    with pytest.raises(HostRefused, match="internal address"):
        netpolicy.connect_checked(
            "hosts-file-name", port, allow_internal=False, timeout=2, resolver=resolver
        )
    assert seen == []


def test_an_allowed_name_connects_to_the_checked_address(
    listener: tuple[int, list[object]],
) -> None:
    port, seen = listener
    calls: list[str] = []

    def resolver(host: str, port: int) -> Sequence[str]:
        calls.append(host)
        return ["127.0.0.1"]

    with netpolicy.connect_checked(
        "dev-box", port, allow_internal=True, timeout=2, resolver=resolver
    ) as sock:
        assert sock.getpeername() == ("127.0.0.1", port)
    assert calls == ["dev-box"]  # resolved once: the connection used the checked answer
    assert len(seen) <= 1


def test_an_unreachable_address_gives_one_generic_error() -> None:
    with socket.socket() as probe:  # a loopback port that refuses connections
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(OSError, match=f"^{netpolicy.UNREACHABLE}$"):
        netpolicy.connect_checked("127.0.0.1", port, allow_internal=True, timeout=2)
