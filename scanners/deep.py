"""The deep scan: install a checkout's locked dependencies and run its tests and mypy, sandboxed.

Phase 1 installs the locked dependencies in a scratch copy of the checkout, and runs none of
the repository's code: `uv sync --frozen --no-build --no-install-project
--no-install-workspace --no-config` (wheels only; the project, its workspace and any sdist are
never built, so no in-tree build backend runs; the repository's `uv.toml`/`[tool.uv]` settings
are ignored). Locks naming git, URL, path or editable dependencies outside the workspace are
refused before anything runs. Its network is its own namespace (loopback only): uv reaches
the package index through `scanners.egress` (a CONNECT proxy the worker runs, allowing only
the index's hosts on 443 at global addresses). Its environment is an allow-list: no index
credentials, tokens or service URLs of the worker. Phase 2 (no network at all) runs `pytest
--cov --cov-report=xml --junitxml` and `mypy --strict`, with `src/` on PYTHONPATH since the
project itself is not installed. Every phase runs in `scanners.sandbox` with its limits; the
results become `Reports` for TST-006, TST-008 and STY-009, and the cost (time, peak memory)
is returned with them.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scanners.context import RepoContext
from scanners.egress import (
    EgressProxy,
    Network,
    index_hosts,
    index_networks,
    proxy_environment,
    relay_command,
)
from scanners.measured import (
    MAX_REPORT_BYTES,
    CoverageData,
    ReportParseError,
    Reports,
    SuiteRun,
    TypeCheck,
)
from scanners.measured.parsers import parse_coverage, parse_junit, parse_mypy
from scanners.sandbox import Limits, Mount, Run, Sandbox, SandboxUnavailable
from scanners.scratch import scratch_dir

WORK, OUT, CACHE, EGRESS = "/work", "/out", "/uv-cache", "/egress"
UV = "/opt/yardstick/uv"
#: The worker's variables phase 1 sees (an allow-list: never an index URL, token or secret).
PASSED_ENV = ("SSL_CERT_FILE", "SSL_CERT_DIR")
#: Phase 1: install the locked wheels; build nothing, run none of the repository's code.
INSTALL = (
    "sync", "--frozen", "--no-build", "--no-install-project", "--no-install-workspace",
    "--no-config", "--no-python-downloads",
)  # fmt: skip
#: Lock sources installed without building: a registry's wheels; the workspace is skipped.
REGISTRY_SOURCES = frozenset({"registry"})
WORKSPACE_SOURCES = frozenset({"editable", "directory", "virtual"})
INSTALL_LIMITS = Limits(wall_s=600, cpu_s=900, file_bytes=1024**3)
RUN_LIMITS = Limits(wall_s=600, cpu_s=600)
#: The deep scan's scratch copies under `work_dir` (scanners.scratch sweeps dead ones).
SCRATCH_PREFIX = "deep-"


@dataclass(frozen=True)
class DeepScanConfig:
    """Where the deep scan works and what it may use."""

    work_dir: Path  # scratch copies and interpreter mirrors live below it
    cache_dir: Path  # uv's download cache (persistent; one per repository is safest)
    python: Path = field(default_factory=lambda: Path(sys.base_prefix) / "bin" / "python3")
    uv: Path | None = None  # default: next to the interpreter, then PATH
    install_limits: Limits = INSTALL_LIMITS
    run_limits: Limits = RUN_LIMITS
    uid: int | None = None  # sandbox uid (default: see scanners.sandbox)
    #: Hosts phase 1 may reach through the egress proxy (default: `egress.index_hosts`).
    index_hosts: tuple[str, ...] = field(default_factory=lambda: index_hosts(os.environ))
    #: Non-global networks those hosts may resolve to (`DEEP_SCAN_INDEX_NETWORKS`).
    index_networks: tuple[Network, ...] = field(default_factory=lambda: _networks(os.environ))


@dataclass
class Phase:
    """One sandboxed step and what it cost."""

    name: str
    run: Run


@dataclass
class DeepScanResult:
    """Measured results plus the scan's cost."""

    reports: Reports
    phases: list[Phase]
    duration_ms: int
    peak_memory_kb: int

    @property
    def detail(self) -> str:
        """One line per phase: exit status, time, memory."""
        return "\n".join(
            f"{p.name}: {p.run.killed or f'exit {p.run.exit_code}'}, {p.run.wall_s:.1f}s, "
            f"{p.run.peak_rss_kb // 1024} MiB"
            for p in self.phases
        )


def _networks(environ: Mapping[str, str]) -> tuple[Network, ...]:
    try:
        return index_networks(environ)
    except ValueError as exc:
        raise SandboxUnavailable(str(exc)) from None


def find_uv(config: DeepScanConfig) -> Path:
    """The uv binary: configured, beside the interpreter, or on PATH."""
    candidates = [config.uv, config.python.resolve().parent / "uv", Path(sys.prefix) / "bin/uv"]
    which = shutil.which("uv")
    for candidate in [*candidates, Path(which) if which else None]:
        if candidate is not None and candidate.is_file() and _is_binary(candidate):
            return candidate.resolve()
    raise FileNotFoundError("no uv binary found for the deep scan (set DEEP_SCAN_UV)")


def _is_binary(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(4) == b"\x7fELF"  # a pyenv shim (a script) would need pyenv


def _mypy_target(ctx: RepoContext) -> list[str]:
    mypy = ((ctx.pyproject or {}).get("tool") or {}).get("mypy")
    if isinstance(mypy, dict) and mypy.get("files"):
        return []
    for name in ("src", "app"):
        if ctx.dir_exists(ctx.path(name)):
            return [name]
    return ["."]


def _copy(checkout: Path, scratch: Path) -> None:
    """The checkout without `.git` and any committed `.venv` (uv would run its interpreter)."""
    ignore = shutil.ignore_patterns(".git", ".venv")
    shutil.copytree(checkout, scratch, symlinks=True, ignore=ignore)


class DeepScan:
    """One deep scan of one checkout."""

    def __init__(self, config: DeepScanConfig) -> None:
        self.config = config
        config.work_dir.mkdir(parents=True, exist_ok=True)
        self.sandbox = Sandbox(config.work_dir / "runtime", config.uid)
        self.uv = find_uv(config)
        self.phases: list[Phase] = []

    def run(self, checkout: Path, project_dir: str | None = None) -> DeepScanResult:
        """Install, test, type-check; the scratch copy is removed on every exit path."""
        started = time.monotonic()
        ctx = RepoContext(checkout, project_dir=project_dir)
        # Marked in use while it runs, so the sweeper removes it only after a killed worker.
        with scratch_dir(self.config.work_dir, SCRATCH_PREFIX) as scratch:
            os.chmod(scratch, 0o755)  # noqa: S103 - the sandbox uid must traverse it
            reports = self._run(ctx, scratch)
        peak = max((p.run.peak_rss_kb for p in self.phases), default=0)
        elapsed = int((time.monotonic() - started) * 1000)
        return DeepScanResult(reports, self.phases, elapsed, peak)

    def _phase(self, name: str, command: list[str], scratch: Path, cwd: str, network: bool) -> Run:
        """Run one phase; `network` (phase 1) reaches the package index through the proxy only."""
        python = str(self.config.python.resolve())
        mounts = [
            Mount(scratch / "work", WORK, writable=True),
            Mount(scratch / "out", OUT, writable=True),
            Mount(self.config.python.resolve().parents[1], str(Path(python).parents[1])),
            Mount(self.uv, UV),
        ]
        env = {
            "HOME": "/tmp",  # noqa: S108 - the sandbox's own tmpfs
            "PATH": "/usr/bin:/bin",
            "LANG": "C.UTF-8",
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        proxy: EgressProxy | None = None
        if network:
            egress = scratch / "egress"
            egress.mkdir(exist_ok=True)
            os.chmod(egress, 0o755)  # noqa: S103 - the sandbox uid reaches the socket in it
            proxy = EgressProxy(
                egress / "proxy.sock", self.config.index_hosts, networks=self.config.index_networks
            )
            mounts += [
                Mount(self.config.cache_dir, CACHE, writable=True),
                Mount(egress, EGRESS, writable=True),
            ]
            env |= {k: v for k in PASSED_ENV if (v := os.environ.get(k))}
            env |= proxy_environment() | {
                "UV_CACHE_DIR": CACHE,
                "UV_PYTHON": python,
                "UV_PYTHON_DOWNLOADS": "never",
                "UV_LINK_MODE": "copy",
                "UV_NO_PROGRESS": "1",
                "UV_NO_CONFIG": "1",
            }
            command = relay_command(f"{EGRESS}/proxy.sock", command, python)
        else:
            env["PYTHONPATH"] = f"{cwd}/src:{cwd}"  # phase 1 never installs the project
        limits = self.config.install_limits if network else self.config.run_limits
        with proxy if proxy is not None else contextlib.nullcontext():
            run = self.sandbox.run(command, mounts=mounts, cwd=cwd, env=env, limits=limits)
        if proxy is not None and proxy.refusals:
            run.output += "".join(f"\negress refused: {r}" for r in proxy.refusals[:20])
        self.phases.append(Phase(name, run))
        return run

    def _run(self, ctx: RepoContext, scratch: Path) -> Reports:
        project = ctx.project_rel
        if not ctx.exists(ctx.uv_lock_rel):
            return _why(f"deep scan: no uv.lock in {project or 'the repository root'}")
        unsupported = unsupported_sources(ctx.uv_lock)
        if unsupported:
            return _why(
                "deep scan: dependencies that would be built or fetched from elsewhere than the"
                f" package index are not installed: {', '.join(unsupported[:10])}"
            )
        _copy(ctx.root, scratch / "work")
        (scratch / "out").mkdir()
        self.config.cache_dir.mkdir(parents=True, exist_ok=True)
        for folder in (scratch / "work", scratch / "out", self.config.cache_dir):
            self.sandbox.give(folder)
        cwd = f"{WORK}/{project}".rstrip("/")
        install = self._phase("uv sync --frozen", [UV, *INSTALL], scratch, cwd, True)
        if not install.ok:
            return _why(f"deep scan: `uv sync --frozen` failed ({_reason(install)})")
        venv = scratch / "work" / project / ".venv"
        has = {
            name: any(venv.glob(f"lib/python*/site-packages/{name}"))
            for name in ("pytest", "pytest_cov", "mypy")
        }
        why: dict[str, str] = {}
        tests: SuiteRun | None = None
        coverage: CoverageData | None = None
        if has["pytest"]:
            tests, coverage, why = self._pytest(scratch, cwd, has["pytest_cov"])
        else:
            why["tests"] = why["coverage"] = (
                "deep scan: pytest is not among the locked dependencies"
            )
        mypy = self._mypy(ctx, scratch, cwd) if has["mypy"] else None
        if mypy is None:
            why["mypy"] = "deep scan: mypy is not among the locked dependencies"
        return Reports(coverage, tests, mypy, why)

    def _pytest(
        self, scratch: Path, cwd: str, with_cov: bool
    ) -> tuple[SuiteRun, CoverageData | None, dict[str, str]]:
        cov = ["--cov", f"--cov-report=xml:{OUT}/coverage.xml"] if with_cov else []
        command = [
            ".venv/bin/python",
            "-m",
            "pytest",
            *cov,
            f"--junitxml={OUT}/junit.xml",
            "-p",
            "no:cacheprovider",
            "-q",
        ]
        run = self._phase("pytest", command, scratch, cwd, False)
        why: dict[str, str] = {}
        tests = _suite(run, scratch / "out" / "junit.xml")
        coverage: CoverageData | None = None
        if not with_cov:
            why["coverage"] = "deep scan: pytest-cov is not among the locked dependencies"
        else:
            try:
                coverage = parse_coverage(
                    read_output(scratch / "out" / "coverage.xml"), "deep scan"
                )
            except ReportParseError as exc:
                why["coverage"] = f"deep scan: no coverage report ({_reason(run)}: {exc})"
        return tests, coverage, why

    def _mypy(self, ctx: RepoContext, scratch: Path, cwd: str) -> TypeCheck:
        command = [".venv/bin/python", "-m", "mypy", "--strict", *_mypy_target(ctx)]
        run = self._phase("mypy --strict", command, scratch, cwd, False)
        if run.killed:
            return TypeCheck((), False, f"killed: {run.killed}", "deep scan")
        return parse_mypy(run.output, run.exit_code, "deep scan")


def unsupported_sources(lock: dict[str, Any] | None) -> list[str]:
    """Locked packages phase 1 refuses: git, URL and path sources, local ones outside the
    workspace (they would be built, or fetched from elsewhere than the package index)."""
    if not lock:
        return []
    manifest = lock.get("manifest")
    members = manifest.get("members", []) if isinstance(manifest, dict) else []
    refused = []
    for package in lock.get("package") or []:
        source = package.get("source") if isinstance(package, dict) else None
        if not isinstance(source, dict) or not source:
            continue
        kind = next(iter(source))
        if kind in REGISTRY_SOURCES:
            continue
        name = str(package.get("name"))
        if kind in WORKSPACE_SOURCES and (source[kind] == "." or name in members):
            continue  # the project or a workspace member: not installed (--no-install-*)
        refused.append(f"{name} ({kind})")
    return refused


def read_output(path: Path) -> bytes:
    """A file the sandbox wrote: regular, not a symlink (never followed out of the scratch)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as exc:
        raise ReportParseError(f"{path.name}: {exc.strerror}") from None
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise ReportParseError(f"{path.name} is not a regular file")
        data = handle.read(MAX_REPORT_BYTES + 1)
    if len(data) > MAX_REPORT_BYTES:
        raise ReportParseError(f"{path.name} is too large")
    return data


def _suite(run: Run, junit: Path) -> SuiteRun:
    try:
        suite = parse_junit(read_output(junit), "deep scan")
    except ReportParseError:
        return SuiteRun(0, (), 0, "deep scan", f"pytest wrote no report ({_reason(run)})")
    if run.killed:
        return SuiteRun(
            suite.total, suite.failures, suite.skipped, "deep scan", f"killed: {run.killed}"
        )
    return suite


def _reason(run: Run) -> str:
    if run.killed:
        return f"killed: {run.killed}"
    tail = [line for line in run.output.splitlines() if line.strip()][-1:]
    return f"exit {run.exit_code}" + (f": {tail[0][:300]}" if tail else "")


def _why(message: str) -> Reports:
    return Reports(why={"coverage": message, "tests": message, "mypy": message})
