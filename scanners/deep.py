"""The deep scan: install a checkout's locked dependencies and run its tests and mypy, sandboxed.

Phase 1 (network on: uv must reach the package index) runs `uv sync --frozen` in a scratch
copy of the checkout. Phase 2 (no network at all) runs `pytest --cov --cov-report=xml
--junitxml` and `mypy --strict`. Every phase runs in `scanners.sandbox` with its limits; the
results become `Reports` for TST-006, TST-008 and STY-009, and the cost (time, peak memory)
is returned with them.
"""

from __future__ import annotations

import os
import shutil
import stat
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from scanners.context import RepoContext
from scanners.measured import (
    MAX_REPORT_BYTES,
    CoverageData,
    ReportParseError,
    Reports,
    SuiteRun,
    TypeCheck,
)
from scanners.measured.parsers import parse_coverage, parse_junit, parse_mypy
from scanners.sandbox import Limits, Mount, Run, Sandbox
from scanners.scratch import scratch_dir

WORK, OUT, CACHE = "/work", "/out", "/uv-cache"
PASSED_ENV = (
    "SSL_CERT_FILE", "SSL_CERT_DIR", "UV_INDEX_URL", "UV_DEFAULT_INDEX", "UV_EXTRA_INDEX_URL",
    "UV_INDEX", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy",
)  # fmt: skip
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
    shutil.copytree(checkout, scratch, symlinks=True, ignore=shutil.ignore_patterns(".git"))


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
        mounts = [
            Mount(scratch / "work", WORK, writable=True),
            Mount(scratch / "out", OUT, writable=True),
            Mount(
                self.config.python.resolve().parents[1],
                str(self.config.python.resolve().parents[1]),
            ),
            Mount(self.uv, "/opt/yardstick/uv"),
        ]
        env = {
            "HOME": "/tmp",  # noqa: S108 - the sandbox's own tmpfs
            "PATH": "/usr/bin:/bin",
            "LANG": "C.UTF-8",
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        if network:
            mounts.append(Mount(self.config.cache_dir, CACHE, writable=True))
            env |= {k: v for k in PASSED_ENV if (v := os.environ.get(k))}
            env |= {
                "UV_CACHE_DIR": CACHE,
                "UV_PYTHON": str(self.config.python.resolve()),
                "UV_PYTHON_DOWNLOADS": "never",
                "UV_LINK_MODE": "copy",
                "UV_NO_PROGRESS": "1",
            }
        limits = self.config.install_limits if network else self.config.run_limits
        run = self.sandbox.run(
            command, mounts=mounts, cwd=cwd, env=env, limits=limits, network=network
        )
        self.phases.append(Phase(name, run))
        return run

    def _run(self, ctx: RepoContext, scratch: Path) -> Reports:
        project = ctx.project_rel
        if not ctx.exists(ctx.path("uv.lock")):
            return _why(f"deep scan: no uv.lock in {project or 'the repository root'}")
        _copy(ctx.root, scratch / "work")
        (scratch / "out").mkdir()
        self.config.cache_dir.mkdir(parents=True, exist_ok=True)
        for folder in (scratch / "work", scratch / "out", self.config.cache_dir):
            self.sandbox.give(folder)
        cwd = f"{WORK}/{project}".rstrip("/")
        install = self._phase(
            "uv sync --frozen", ["/opt/yardstick/uv", "sync", "--frozen"], scratch, cwd, True
        )
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
