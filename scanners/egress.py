"""The deep scan's only way out: a filtering CONNECT proxy on a unix socket, run by the worker.

Phase 1 of the deep scan (`uv sync`) runs in its own network namespace, which holds nothing
but a loopback interface: Redis, PostgreSQL and every other local or private service are out
of reach. uv still needs the package index, so `RELAY` (inside the sandbox) listens on
127.0.0.1:`RELAY_PORT` and passes every connection to `EgressProxy` (here, outside the
sandbox) through a unix socket bound into it. The proxy accepts only

- `CONNECT host:443` (TLS end to end: the proxy never sees a request or a credential),
- to a host of the allow-list (the package index's hosts),
- resolving only to global addresses (never loopback, private, link-local, reserved...),
  or to a network the operator names for the index in `DEEP_SCAN_INDEX_NETWORKS` (a mirror
  or gateway on an internal network; loopback never); it connects to the address it
  checked, so a second DNS answer cannot redirect it.

Anything else gets an HTTP error line and is recorded in `refusals`.
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import os
import socket
import threading
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from urllib.parse import urlsplit

from scanners import netpolicy
from scanners.netpolicy import system_resolver

logger = logging.getLogger(__name__)

PYPI_HOSTS = ("pypi.org", "files.pythonhosted.org")
#: Environment variables naming the worker's package index (the first one set wins).
INDEX_VARIABLES = ("UV_DEFAULT_INDEX", "UV_INDEX_URL", "PIP_INDEX_URL")
#: Comma-separated networks (CIDR) the index hosts may resolve to besides global addresses.
NETWORKS_VARIABLE = "DEEP_SCAN_INDEX_NETWORKS"
RELAY_PORT = 3128  # inside the sandbox's own network namespace: always free
MAX_HEAD = 8192
MAX_TUNNELS = 64

#: (host, port) -> the addresses it resolves to.
Resolver = Callable[[str, int], list[str]]
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

#: Runs inside the sandbox: relays 127.0.0.1:PORT to the unix socket, runs the command with
#: the relay listening, exits with its status.
RELAY = (
    "import socket,subprocess,sys,threading\n"
    "port,path=int(sys.argv[1]),sys.argv[2]\n"
    "server=socket.socket(); server.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1)\n"
    "server.bind(('127.0.0.1',port)); server.listen(128)\n"
    "def pipe(a,b,done):\n"
    "    try:\n"
    "        while data:=a.recv(65536): b.sendall(data)\n"
    "    except OSError: pass\n"
    "    try: b.shutdown(socket.SHUT_WR)\n"
    "    except OSError: pass\n"
    "    if done.acquire(blocking=False): return\n"
    "    a.close(); b.close()\n"
    "def serve():\n"
    "    while True:\n"
    "        client,_=server.accept(); up=socket.socket(socket.AF_UNIX)\n"
    "        try: up.connect(path)\n"
    "        except OSError: client.close(); up.close(); continue\n"
    "        done=threading.Lock()\n"
    "        for a,b in ((client,up),(up,client)):\n"
    "            threading.Thread(target=pipe,args=(a,b,done),daemon=True).start()\n"
    "threading.Thread(target=serve,daemon=True).start()\n"
    "code=subprocess.call(sys.argv[3:])\n"
    "sys.exit(128-code if code<0 else code)\n"
)


def relay_command(socket_path: str, command: list[str], python: str) -> list[str]:
    """`command` run behind the relay (inside the sandbox) to the proxy's `socket_path`."""
    return [python, "-I", "-S", "-c", RELAY, str(RELAY_PORT), socket_path, *command]


def proxy_environment() -> dict[str, str]:
    """The variables that send uv's traffic to the relay (every spelling uv reads)."""
    url = f"http://127.0.0.1:{RELAY_PORT}"
    names = ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY")
    return {name: url for name in names} | {name.lower(): url for name in names}


def index_hosts(environ: Mapping[str, str]) -> tuple[str, ...]:
    """The hosts phase 1 may reach: the configured index's host, else PyPI's two hosts.

    Credentials in the index URL are never used (not supported by the deep scan yet).
    """
    for name in INDEX_VARIABLES:
        host = urlsplit(environ.get(name, "")).hostname
        if host:
            return (host.lower(),)
    return PYPI_HOSTS


def index_networks(environ: Mapping[str, str]) -> tuple[Network, ...]:
    """The networks of `DEEP_SCAN_INDEX_NETWORKS` (ValueError names a malformed one)."""
    networks = []
    for item in environ.get(NETWORKS_VARIABLE, "").split(","):
        if item.strip():
            try:
                networks.append(ipaddress.ip_network(item.strip()))
            except ValueError as exc:
                raise ValueError(f"{NETWORKS_VARIABLE}: {exc}") from None
    return tuple(networks)


def _address(address: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def is_global(address: str) -> bool:
    """Whether `address` is public unicast, as the one outbound policy judges it."""
    ip = _address(address)
    return ip is not None and netpolicy.is_public(ip)


def in_networks(address: str, networks: Iterable[Network]) -> bool:
    """Whether `address` lies in one of `networks` (never a loopback or unspecified one)."""
    ip = _address(address)
    if ip is None or ip.is_loopback or ip.is_unspecified or ip.is_multicast:
        return False
    return any(ip.version == net.version and ip in net for net in networks)


class Refused(Exception):
    """A request the proxy does not carry; `status` is the HTTP status it answers."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status


class EgressProxy:
    """CONNECT proxy on a unix socket: allow-listed hosts, port 443, global addresses only."""

    def __init__(
        self,
        socket_path: Path,
        allowed_hosts: Iterable[str],
        *,
        ports: Iterable[int] = (443,),
        resolver: Resolver = system_resolver,
        networks: Iterable[Network] = (),
        connect_timeout: float = 15.0,
        idle_timeout: float = 120.0,
        allow_non_global_for_tests: bool = False,
    ) -> None:
        self.socket_path = Path(socket_path)
        self.allowed_hosts = frozenset(h.lower().rstrip(".") for h in allowed_hosts)
        self.ports = frozenset(ports)
        self.resolver = resolver
        self.networks = tuple(networks)
        self.connect_timeout = connect_timeout
        self.idle_timeout = idle_timeout
        # Only tests set it, to reach a loopback "index"; never set by the deep scan.
        self.allow_non_global_for_tests = allow_non_global_for_tests
        self.refusals: list[str] = []
        self._slots = threading.BoundedSemaphore(MAX_TUNNELS)
        self._listener: socket.socket | None = None
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()

    # ----- policy ---------------------------------------------------------------------------
    def decide(self, host: str, port: int) -> list[str]:
        """The global addresses to connect to for `host:port`, or `Refused`."""
        name = host.lower().rstrip(".")
        if port not in self.ports:
            raise Refused(403, f"{host}:{port}: only port(s) {sorted(self.ports)} are allowed")
        if name not in self.allowed_hosts:
            raise Refused(403, f"{host}:{port}: not a package index host")
        try:
            addresses = self.resolver(name, port)
        except OSError as exc:
            raise Refused(502, f"{host}:{port}: does not resolve ({exc})") from None
        if not addresses:
            raise Refused(502, f"{host}:{port}: does not resolve")
        if not self.allow_non_global_for_tests:
            bad = [a for a in addresses if not (is_global(a) or in_networks(a, self.networks))]
            if bad:
                raise Refused(403, f"{host}:{port}: resolves to a non-global address {bad[0]}")
        return addresses

    # ----- lifecycle ------------------------------------------------------------------------
    def start(self) -> EgressProxy:
        """Listen on the unix socket (mode 0666: the sandbox uid connects) and serve."""
        with contextlib.suppress(FileNotFoundError):
            self.socket_path.unlink()
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(str(self.socket_path))
        os.chmod(self.socket_path, 0o666)  # noqa: S103 - the sandbox's uid must connect
        listener.listen(128)
        self._listener = listener
        threading.Thread(target=self._accept, name="egress-proxy", daemon=True).start()
        return self

    def close(self) -> None:
        """Stop listening and cut every open tunnel."""
        listener, self._listener = self._listener, None
        if listener is not None:
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)
            listener.close()
        with self._lock:
            for sock in list(self._open):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(FileNotFoundError):
            self.socket_path.unlink()

    def __enter__(self) -> EgressProxy:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.close()

    # ----- serving --------------------------------------------------------------------------
    def _accept(self) -> None:
        while (listener := self._listener) is not None:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            if not self._slots.acquire(blocking=False):
                _answer(client, 503, "too many tunnels")
                client.close()
                continue
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        upstream: socket.socket | None = None
        try:
            client.settimeout(self.idle_timeout)
            head, rest = _read_head(client)
            host, port = _connect_target(head)
            upstream = self._connect(host, port)
            client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            if rest:
                upstream.sendall(rest)
            self._tunnel(client, upstream)
        except Refused as exc:
            self.refusals.append(str(exc))
            logger.warning("deep scan egress refused: %s", exc)
            _answer(client, exc.status, str(exc))
        except OSError as exc:
            logger.info("deep scan egress tunnel ended: %s", exc)
        finally:
            for sock in (client, upstream):
                if sock is not None:
                    sock.close()
            self._slots.release()

    def _connect(self, host: str, port: int) -> socket.socket:
        last: OSError | None = None
        for address in self.decide(host, port):
            try:
                return socket.create_connection((address, port), timeout=self.connect_timeout)
            except OSError as exc:
                last = exc
        raise Refused(502, f"{host}:{port}: cannot connect ({last})")

    def _tunnel(self, client: socket.socket, upstream: socket.socket) -> None:
        upstream.settimeout(self.idle_timeout)
        with self._lock:
            self._open.update((client, upstream))
        try:
            back = threading.Thread(target=_pipe, args=(upstream, client), daemon=True)
            back.start()
            _pipe(client, upstream)
            back.join(self.idle_timeout)
        finally:
            with self._lock:
                self._open.difference_update((client, upstream))


def _pipe(source: socket.socket, sink: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            sink.sendall(data)
    except OSError:
        pass
    with contextlib.suppress(OSError):
        sink.shutdown(socket.SHUT_WR)


def _read_head(client: socket.socket) -> tuple[bytes, bytes]:
    """The request head (up to the blank line) and any bytes already read past it."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = client.recv(4096)
        if not chunk:
            raise Refused(400, "connection closed before the request ended")
        data += chunk
        if len(data) > MAX_HEAD:
            raise Refused(431, "request head too large")
    head, _, rest = data.partition(b"\r\n\r\n")
    return head, rest


def _connect_target(head: bytes) -> tuple[str, int]:
    """`host, port` of a `CONNECT host:port HTTP/1.x` request line."""
    line = head.split(b"\r\n", 1)[0].decode("latin-1")
    parts = line.split()
    if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
        raise Refused(400, f"malformed request line {line[:100]!r}")
    if parts[0] != "CONNECT":
        raise Refused(405, f"{parts[0][:20]}: only CONNECT is allowed")
    host, sep, port = parts[1].rpartition(":")
    host = host.removeprefix("[").removesuffix("]")
    if not sep or not host or not port.isdigit():
        raise Refused(400, f"malformed CONNECT target {parts[1][:100]!r}")
    return host, int(port)


def _answer(client: socket.socket, status: int, reason: str) -> None:
    body = f"{reason}\n".encode()
    head = f"HTTP/1.1 {status} Refused\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    with contextlib.suppress(OSError):
        client.sendall(head.encode() + body)
