"""Deep scan phase 1 (the install) runs none of the repository's code, reaches no local service
and sees none of the worker's secrets (HIGH #2: a build backend reached Redis from there)."""

from __future__ import annotations

import json
import shutil
import socket
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from scanners.deep import INSTALL, DeepScan, DeepScanConfig, unsupported_sources
from scanners.engine import scan
from scanners.results import Status
from tests.gitrepo import make_repo

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
PYTHON = str((Path(sys.base_prefix) / "bin" / "python3").resolve())

pytestmark = pytest.mark.requires_bwrap

SECRETS = {
    "UV_INDEX_URL": "https://user:index-pass@index.corp.example/simple",
    "UV_EXTRA_INDEX_URL": "https://user:extra-pass@extra.corp.example/simple",
    "PIP_INDEX_URL": "https://user:pip-pass@pip.corp.example/simple",
    "GITHUB_TOKEN": "ghp_token-value",
    "REDIS_PASSWORD": "redis-pass-value",
    "AWS_SECRET": "aws-secret-value",
    "DATABASE_URL": "postgresql://yardstick:db-pass@127.0.0.1/yardstick",
    "CELERY_BROKER_URL": "redis://:broker-pass@127.0.0.1:6379/0",
    "CACHE_URL": "redis://:cache-pass@127.0.0.1:6379/1",
    "SECRET_KEY": "django-secret-value",
}


def files_of(folder: Path) -> dict[str, str | bytes | None]:
    """A fixture project's files, as `make_repo` takes them."""
    return {
        p.relative_to(folder).as_posix(): p.read_text("utf-8")
        for p in sorted(folder.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts
    }


@pytest.fixture
def config() -> Iterator[DeepScanConfig]:
    """Scratch and a fresh uv cache below a folder the sandbox uid reaches."""
    work = Path(tempfile.mkdtemp(prefix="yardstick-deep-iso-"))
    work.chmod(0o755)
    yield DeepScanConfig(work_dir=work / "deep", cache_dir=work / "uv-cache")
    shutil.rmtree(work, ignore_errors=True)


@pytest.fixture
def phase1(config: DeepScanConfig) -> Iterator[tuple[DeepScan, Path]]:
    """A deep scan and a prepared scratch folder, to run commands exactly as phase 1 does."""
    deep = DeepScan(config)
    scratch = Path(tempfile.mkdtemp(prefix="deep-", dir=config.work_dir))
    scratch.chmod(0o755)
    for name in ("work", "out"):
        (scratch / name).mkdir()
    config.cache_dir.mkdir(parents=True, exist_ok=True)
    for folder in (scratch / "work", scratch / "out", config.cache_dir):
        deep.sandbox.give(folder)
    yield deep, scratch
    shutil.rmtree(scratch, ignore_errors=True)


def test_the_install_command_builds_and_configures_nothing() -> None:
    for flag in ("--frozen", "--no-build", "--no-install-project", "--no-install-workspace"):
        assert flag in INSTALL
    assert "--no-config" in INSTALL


def test_an_in_tree_build_backend_never_runs(tmp_path: Path, config: DeepScanConfig) -> None:
    repo = make_repo(tmp_path / "hooked", files_of(FIXTURES / "deepscan-backend"))
    result = DeepScan(config).run(repo)
    assert [p.name for p in result.phases] == ["uv sync --frozen"]
    install = result.phases[0].run
    assert not (config.cache_dir / "build-backend-ran").exists(), install.output
    assert "Building" not in install.output
    assert install.ok, install.output
    assert result.reports.why["tests"] == "deep scan: pytest is not among the locked dependencies"


def test_phase_one_cannot_reach_a_loopback_service_of_the_host(
    phase1: tuple[DeepScan, Path],
) -> None:
    deep, scratch = phase1
    service = socket.create_server(("127.0.0.1", 0))  # stands for Redis / PostgreSQL
    port = service.getsockname()[1]
    code = (
        "import socket, sys\n"
        "for port in (int(sys.argv[1]), 6379, 5432):\n"
        "    try:\n"
        "        socket.create_connection(('127.0.0.1', port), timeout=3).close()\n"
        "        print('connected', port)\n"
        "    except OSError as exc:\n"
        "        print('refused', port, type(exc).__name__)\n"
        "proxy = socket.create_connection(('127.0.0.1', 3128), timeout=5)\n"
        "proxy.sendall(b'CONNECT 127.0.0.1:443 HTTP/1.1\\r\\n\\r\\n')\n"
        "print('proxy says', proxy.recv(200).split(b'\\r\\n')[0].decode())\n"
    )
    with service:
        service.settimeout(0.1)
        run = deep._phase("probe", [PYTHON, "-c", code, str(port)], scratch, "/work", True)
        with pytest.raises(TimeoutError):
            service.accept()  # nothing ever reached the host's listener
    assert run.ok, run.output
    assert "connected" not in run.output
    assert run.output.count("ConnectionRefusedError") == 3
    assert "proxy says HTTP/1.1 403" in run.output
    assert "not a package index host" in run.output  # the refusal is recorded in the output


def test_phase_one_sees_none_of_the_workers_secrets(
    phase1: tuple[DeepScan, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    deep, scratch = phase1
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    code = "import json, os; print(json.dumps(dict(os.environ)))"
    run = deep._phase("probe", [PYTHON, "-c", code], scratch, "/work", True)
    assert run.ok, run.output
    seen = json.loads(run.output.splitlines()[0])
    assert not set(SECRETS) & set(seen)
    for value in SECRETS.values():
        assert value not in run.output
    assert not [name for name in seen if name.endswith(("_TOKEN", "_PASSWORD", "_SECRET"))]
    assert seen["HTTPS_PROXY"] == "http://127.0.0.1:3128"


LOCK_WITH_SOURCES = """\
version = 1
revision = 3
requires-python = ">=3.13"

[manifest]
members = ["app", "lib-a"]

[[package]]
name = "app"
version = "0.1.0"
source = { editable = "." }

[[package]]
name = "lib-a"
version = "0.1.0"
source = { editable = "packages/lib-a" }

[[package]]
name = "requests"
version = "2.32.3"
source = { registry = "https://pypi.org/simple" }

[[package]]
name = "hooky"
version = "1.0"
source = { git = "https://github.com/example/hooky?rev=main#0123456789abcdef" }

[[package]]
name = "sibling"
version = "1.0"
source = { directory = "../sibling" }
"""


def test_git_and_path_dependencies_are_refused_before_anything_runs(
    tmp_path: Path, config: DeepScanConfig
) -> None:
    files = files_of(FIXTURES / "deepscan")
    files["uv.lock"] = LOCK_WITH_SOURCES
    repo = make_repo(tmp_path / "sources", files)
    result = DeepScan(config).run(repo)
    assert result.phases == []
    why = result.reports.why["tests"]
    assert why.startswith("deep scan: dependencies that would be built or fetched")
    assert why.endswith("hooky (git), sibling (directory)")
    outcome = scan(repo, only={"TST-008"}, reports=result.reports).outcomes[0].result
    assert outcome.status is Status.NOT_APPLICABLE
    assert unsupported_sources(None) == []
    assert unsupported_sources({"package": [{"name": "x", "source": {"url": "https://x"}}]}) == [
        "x (url)"
    ]


def _tls_files(folder: Path, host: str) -> tuple[Path, Path, Path]:
    """A throwaway CA and a certificate for `host` it signed: (ca.pem, cert.pem, key.pem)."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.UTC)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "yardstick test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(*[False] * 5, True, True, False, False), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    paths = folder / "ca.pem", folder / "cert.pem", folder / "key.pem"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    for path in paths:
        path.chmod(0o644)
    return paths


def _wheel(folder: Path) -> Path:
    """A pure-Python wheel `tinydep 1.0` (one module), built by hand."""
    import base64
    import hashlib
    import zipfile

    files = {
        "tinydep/__init__.py": "VALUE = 42\n",
        "tinydep-1.0.dist-info/METADATA": "Metadata-Version: 2.1\nName: tinydep\nVersion: 1.0\n",
        "tinydep-1.0.dist-info/WHEEL": (
            "Wheel-Version: 1.0\nGenerator: hand\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        ),
    }
    record = []
    for name, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=")
        record.append(f"{name},sha256={digest.decode()},{len(text.encode())}")
    record.append("tinydep-1.0.dist-info/RECORD,,")
    files["tinydep-1.0.dist-info/RECORD"] = "\n".join(record) + "\n"
    path = folder / "tinydep-1.0-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return path


def test_phase_one_installs_a_locked_wheel_through_the_proxy(
    tmp_path: Path, config: DeepScanConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The allowed path end to end: uv (sandbox) -> relay -> unix socket -> proxy -> a
    loopback HTTPS "index" (the proxy's test-only switch lets `index.test` be 127.0.0.1)."""
    import functools
    import hashlib
    import http.server
    import ssl
    import threading

    from scanners import deep as deep_module
    from scanners.egress import EgressProxy

    config.cache_dir.mkdir(parents=True)
    ca, cert, key = _tls_files(config.cache_dir, "index.test")  # the cache is mounted
    files = _wheel(tmp_path)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(cert, key)
    server.socket = tls.wrap_socket(server.socket, server_side=True)
    port = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    proxy = functools.partial(
        EgressProxy,
        ports=[port],
        resolver=lambda host, _port: ["127.0.0.1"] if host == "index.test" else [],
        allow_non_global_for_tests=True,
    )
    monkeypatch.setattr(deep_module, "EgressProxy", proxy)
    monkeypatch.setenv("SSL_CERT_FILE", "/uv-cache/ca.pem")  # the CA, as seen in the sandbox
    digest = hashlib.sha256(files.read_bytes()).hexdigest()
    index = f"https://index.test:{port}"
    lock = (
        'version = 1\nrevision = 3\nrequires-python = ">=3.13"\n\n'
        '[[package]]\nname = "app"\nversion = "0.1.0"\nsource = { virtual = "." }\n'
        'dependencies = [{ name = "tinydep" }]\n\n'
        '[package.metadata]\nrequires-dist = [{ name = "tinydep" }]\n\n'
        '[[package]]\nname = "tinydep"\nversion = "1.0"\n'
        f'source = {{ registry = "{index}/simple" }}\n'
        f'wheels = [{{ url = "{index}/{files.name}", hash = "sha256:{digest}" }}]\n'
    )
    pyproject = (
        '[project]\nname = "app"\nversion = "0.1.0"\nrequires-python = ">=3.13"\n'
        'dependencies = ["tinydep"]\n\n[tool.uv]\npackage = false\n'
    )
    repo = make_repo(tmp_path / "app", {"pyproject.toml": pyproject, "uv.lock": lock})
    try:
        outcome = DeepScan(replace(config, index_hosts=("index.test",))).run(repo)
    finally:
        server.shutdown()
        server.server_close()
    install = outcome.phases[0].run
    assert install.ok, install.output
    assert "+ tinydep==1.0" in install.output
    assert "egress refused" not in install.output
    assert ca.exists()


def test_a_committed_virtual_environment_is_never_run(
    tmp_path: Path, config: DeepScanConfig
) -> None:
    """uv would run `.venv/bin/python` of an existing environment to inspect it."""
    files = files_of(FIXTURES / "deepscan-backend")
    files[".venv/pyvenv.cfg"] = f"home = {Path(PYTHON).parent}\nversion_info = 3.13.0\n"
    files[".venv/bin/python"] = (
        f'#!/bin/sh\necho ran > /uv-cache/venv-python-ran\nexec {PYTHON} "$@"\n'
    )
    repo = make_repo(tmp_path / "venv", files)
    (repo / ".venv" / "bin" / "python").chmod(0o755)
    result = DeepScan(config).run(repo)
    install = result.phases[0].run
    assert not (config.cache_dir / "venv-python-ran").exists(), install.output
    assert install.ok, install.output
