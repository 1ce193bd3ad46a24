"""Run the test OpenID Connect provider as a second process on 127.0.0.1 (a free port)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = "tests.oidc_provider.settings"
START_TIMEOUT_S = 120  # two shared cores: the first start compiles a lot


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _signing_key() -> bytes:
    """A fresh RSA key for this run's ID tokens (nothing is committed)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


@dataclass
class OidcProvider:
    """A running provider: its issuer URL, and commands to set users and the client."""

    state: Path
    port: int
    process: subprocess.Popen[bytes] | None = None

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self.port}/o"

    def _env(self) -> dict[str, str]:
        return {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": SETTINGS,
            "OIDC_TEST_DIR": str(self.state),
            "PYTHONPATH": str(ROOT),
        }

    def manage(self, *args: str) -> None:
        """A management command of the provider (its own database, not Yardstick's)."""
        subprocess.run(  # our interpreter, our arguments
            [sys.executable, "-m", "django", *args],
            cwd=ROOT,
            env=self._env(),
            check=True,
            capture_output=True,
            timeout=120,
        )

    def set_user(self, username: str, *, password: str, email: str, groups: list[str]) -> None:
        """Create or update a provider user; `groups` replace the old ones."""
        self.manage(
            "oidc_user", username, f"--password={password}", f"--email={email}",
            f"--groups={','.join(groups)}",
        )  # fmt: skip

    def register_client(self, client_id: str, secret: str, redirect_uri: str) -> None:
        self.manage(
            "oidc_client", client_id, f"--secret={secret}", f"--redirect-uri={redirect_uri}"
        )

    def start(self) -> None:
        (self.state / "signing-key.pem").write_bytes(_signing_key())
        self.manage("migrate", "--no-input")
        with (self.state / "server.log").open("wb") as log:
            self.process = subprocess.Popen(  # our interpreter, our arguments
                [
                    sys.executable,
                    "-m",
                    "django",
                    "runserver",
                    f"127.0.0.1:{self.port}",
                    "--noreload",
                ],
                cwd=ROOT,
                env=self._env(),
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + START_TIMEOUT_S
        last: OSError | None = None
        discovery = f"{self.issuer}/.well-known/openid-configuration"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the test provider exited: {self.log()}")
            try:
                with urllib.request.urlopen(discovery, timeout=2) as response:  # noqa: S310  # http to loopback
                    if response.status == 200:
                        return
            except OSError as exc:
                last = exc
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(
            f"the test provider did not answer in {START_TIMEOUT_S} s ({last}): {self.log()}"
        )

    def log(self) -> str:
        return (self.state / "server.log").read_text(errors="replace")[-3000:]

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_provider(state: Path) -> OidcProvider:
    """Start a provider keeping its database and key under `state`."""
    provider = OidcProvider(state=state, port=_free_port())
    provider.start()
    return provider
