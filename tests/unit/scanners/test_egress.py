"""The deep scan's egress proxy: CONNECT to the package index's hosts on 443 at global addresses.

Refusals are decided without connecting anywhere (an injected resolver); the one tunnel that
opens goes to a loopback "index" through the proxy's explicit test-only switch.
"""

from __future__ import annotations

import socket
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from scanners.egress import (
    PYPI_HOSTS,
    EgressProxy,
    Refused,
    index_hosts,
    index_networks,
    is_global,
    proxy_environment,
)

PUBLIC = "151.101.0.223"  # a documented public address; never connected to here


def no_connect(host: str, port: int) -> list[str]:
    """A resolver that must not be asked (the host is refused before any lookup)."""
    raise AssertionError(f"resolved {host}:{port}")


def fixed(table: dict[str, list[str]]):  # type: ignore[no-untyped-def]
    """A resolver answering from `table` (an unknown name does not resolve)."""

    def resolve(host: str, port: int) -> list[str]:
        if host not in table:
            raise socket.gaierror(f"unknown host {host}")
        return table[host]

    return resolve


@pytest.fixture
def socket_dir() -> Iterator[Path]:
    """A short folder for unix sockets (pytest's tmp_path can exceed the 108-byte limit)."""
    folder = Path(tempfile.mkdtemp(prefix="ys-egress-"))
    yield folder
    for child in folder.iterdir():
        child.unlink()
    folder.rmdir()


def ask(path: Path, request: bytes) -> bytes:
    """Send one request head to the proxy's unix socket; its first answer."""
    with socket.socket(socket.AF_UNIX) as client:
        client.settimeout(10)
        client.connect(str(path))
        client.sendall(request)
        return client.recv(4096)


def test_a_host_outside_the_allow_list_is_refused_without_a_lookup(socket_dir: Path) -> None:
    proxy = EgressProxy(socket_dir / "p", PYPI_HOSTS, resolver=no_connect)
    with pytest.raises(Refused, match="not a package index host"):
        proxy.decide("redis", 443)
    with pytest.raises(Refused, match="not a package index host"):
        proxy.decide("127.0.0.1", 443)
    with pytest.raises(Refused, match="only port"):
        proxy.decide("pypi.org", 6379)


def test_an_allowed_host_resolving_to_a_local_address_is_refused(socket_dir: Path) -> None:
    for address in ("127.0.0.1", "10.0.0.5", "169.254.169.254", "::1", "::ffff:127.0.0.1"):
        proxy = EgressProxy(
            socket_dir / "p", PYPI_HOSTS, resolver=fixed({"pypi.org": [PUBLIC, address]})
        )
        with pytest.raises(Refused, match="non-global address") as refused:
            proxy.decide("pypi.org", 443)
        assert refused.value.status == 403
    proxy = EgressProxy(socket_dir / "p", PYPI_HOSTS, resolver=fixed({"pypi.org": [PUBLIC]}))
    assert proxy.decide("PyPI.org.", 443) == [PUBLIC]
    with pytest.raises(Refused, match="does not resolve"):
        proxy.decide("files.pythonhosted.org", 443)


def test_is_global_judges_addresses() -> None:
    assert is_global(PUBLIC)
    assert is_global("2a04:4e42::223")
    local = ["127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.1.1", "100.64.0.1"]
    local += ["0.0.0.0", "::1", "fe80::1", "fc00::1", "224.0.0.1", "::ffff:10.0.0.1", "x"]  # noqa: S104
    for address in local:
        assert not is_global(address), address


def test_over_the_socket_refusals_are_answered_and_recorded(socket_dir: Path) -> None:
    resolver = fixed({"pypi.org": ["127.0.0.1"]})
    with EgressProxy(socket_dir / "p", PYPI_HOSTS, resolver=resolver) as proxy:
        assert ask(proxy.socket_path, b"GET http://pypi.org/ HTTP/1.1\r\n\r\n").startswith(
            b"HTTP/1.1 405"
        )
        answer = ask(proxy.socket_path, b"CONNECT 127.0.0.1:6379 HTTP/1.1\r\n\r\n")
        assert answer.startswith(b"HTTP/1.1 403")
        answer = ask(proxy.socket_path, b"CONNECT pypi.org:443 HTTP/1.1\r\nHost: x\r\n\r\n")
        assert answer.startswith(b"HTTP/1.1 403")
        assert b"non-global address 127.0.0.1" in answer
    assert len(proxy.refusals) == 3
    assert not proxy.socket_path.exists()


def test_an_allowed_host_is_tunnelled(socket_dir: Path) -> None:
    index = socket.create_server(("127.0.0.1", 0))
    port = index.getsockname()[1]

    def echo() -> None:
        conn, _ = index.accept()
        with conn:
            conn.sendall(b"index:" + conn.recv(100))

    threading.Thread(target=echo, daemon=True).start()
    resolver = fixed({"index.test": ["127.0.0.1"]})
    with (
        index,
        EgressProxy(
            socket_dir / "p",
            ["index.test"],
            ports=[port],
            resolver=resolver,
            allow_non_global_for_tests=True,
        ) as proxy,
        socket.socket(socket.AF_UNIX) as client,
    ):
        client.settimeout(10)
        client.connect(str(proxy.socket_path))
        client.sendall(f"CONNECT index.test:{port} HTTP/1.1\r\n\r\nhello".encode())
        received = b""
        while b"index:hello" not in received:
            chunk = client.recv(4096)
            assert chunk, received
            received += chunk
    assert received.startswith(b"HTTP/1.1 200")
    assert proxy.refusals == []


def test_the_allow_list_follows_the_configured_index() -> None:
    assert index_hosts({}) == PYPI_HOSTS
    environ = {"UV_INDEX_URL": "https://user:secret@Index.Corp.example/simple"}
    assert index_hosts(environ) == ("index.corp.example",)
    assert set(proxy_environment().values()) == {"http://127.0.0.1:3128"}


def test_networks_named_for_the_index_are_trusted_but_never_loopback(socket_dir: Path) -> None:
    networks = index_networks({"DEEP_SCAN_INDEX_NETWORKS": "203.0.113.0/24, 127.0.0.0/8"})
    resolver = fixed({"pypi.org": ["203.0.113.80"], "files.pythonhosted.org": ["127.0.0.1"]})
    proxy = EgressProxy(socket_dir / "p", PYPI_HOSTS, resolver=resolver, networks=networks)
    assert proxy.decide("pypi.org", 443) == ["203.0.113.80"]
    with pytest.raises(Refused, match=r"non-global address 127\.0\.0\.1"):
        proxy.decide("files.pythonhosted.org", 443)
    untrusted = EgressProxy(socket_dir / "p", PYPI_HOSTS, resolver=resolver)
    with pytest.raises(Refused, match=r"non-global address 203\.0\.113\.80"):
        untrusted.decide("pypi.org", 443)
    with pytest.raises(ValueError, match="DEEP_SCAN_INDEX_NETWORKS"):
        index_networks({"DEEP_SCAN_INDEX_NETWORKS": "10.0.0.0/33"})
    assert index_networks({}) == ()


def test_a_malformed_network_setting_stops_the_deep_scan_with_its_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from scanners.deep import DeepScanConfig
    from scanners.sandbox import SandboxUnavailable

    monkeypatch.setenv("DEEP_SCAN_INDEX_NETWORKS", "pypi.org")
    with pytest.raises(SandboxUnavailable, match="DEEP_SCAN_INDEX_NETWORKS"):
        DeepScanConfig(work_dir=tmp_path, cache_dir=tmp_path)
