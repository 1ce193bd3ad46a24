"""Deep scan: a real project's locked dependencies installed, its tests and mypy run, sandboxed."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from scanners.deep import DeepScan, DeepScanConfig
from scanners.egress import PYPI_HOSTS, index_networks, is_global, system_resolver
from scanners.engine import scan
from scanners.results import Status
from scanners.sandbox import Limits
from tests.gitrepo import make_repo

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "deepscan"
REPO_ROOT = Path(__file__).resolve().parents[3]
RULES = {"TST-006", "TST-008", "STY-009"}


def fixture_files() -> dict[str, str | bytes | None]:
    """The small shop project: two layers, one failing test, one mypy error."""
    return {
        p.relative_to(FIXTURE).as_posix(): p.read_text("utf-8")
        for p in sorted(FIXTURE.rglob("*"))
        if p.is_file() and not {"__pycache__", ".venv"} & set(p.relative_to(FIXTURE).parts)
    }


def machine_index_networks() -> str:
    """`DEEP_SCAN_INDEX_NETWORKS` for this machine: the non-global addresses its DNS gives
    PyPI's hosts (a test machine may reach the index through a gateway; production does not)."""
    found = set()
    for host in PYPI_HOSTS:
        try:
            found |= {a for a in system_resolver(host, 443) if not is_global(a)}
        except OSError:
            continue
    return ",".join(sorted(found))


@pytest.fixture(scope="module")
def config() -> Iterator[DeepScanConfig]:
    """Scratch below a folder the sandbox uid reaches; uv's cache persistent under var/."""
    work = Path(tempfile.mkdtemp(prefix="yardstick-deep-"))
    work.chmod(0o755)
    cache = Path(os.environ.get("VAR_DIR", REPO_ROOT / "var")) / "deep-uv-cache"
    cache.mkdir(parents=True, exist_ok=True)
    shared = cache if _reachable(cache) else work / "uv-cache"
    networks = index_networks({"DEEP_SCAN_INDEX_NETWORKS": machine_index_networks()})
    yield DeepScanConfig(work_dir=work / "deep", cache_dir=shared, index_networks=networks)
    shutil.rmtree(work, ignore_errors=True)


def _reachable(path: Path) -> bool:
    return os.geteuid() != 0 or all(p.stat().st_mode & 0o001 for p in path.resolve().parents)


@pytest.mark.slow
@pytest.mark.requires_bwrap
def test_deep_scan_measures_coverage_tests_and_mypy(tmp_path: Path, config: DeepScanConfig) -> None:
    repo = make_repo(tmp_path / "shop", fixture_files())
    result = DeepScan(config).run(repo)
    reports = result.reports
    assert reports.why == {}
    assert [p.name for p in result.phases] == ["uv sync --frozen", "pytest", "mypy --strict"]
    assert result.duration_ms > 0
    assert result.peak_memory_kb > 10_000  # pytest and mypy are not that small
    report = scan(repo, only=RULES, reports=reports)
    outcome = {o.spec.id: o.result for o in report.outcomes}
    tst006, tst008, sty009 = outcome["TST-006"], outcome["TST-008"], outcome["STY-009"]
    assert tst006.status is Status.FAIL
    assert tst006.message == "services 66.7%, repositories 64.3% (need 80% each)"
    assert tst008.status is Status.FAIL
    assert tst008.message == "1 of 3 tests failed"
    assert tst008.evidence[0].path == "tests/test_pricing.py"
    assert "test_total_with_discount_is_reduced" in tst008.evidence[0].message
    assert sty009.status is Status.FAIL
    assert (sty009.evidence[0].path, sty009.evidence[0].line) == (
        "src/shop/services/pricing.py",
        12,
    )
    assert not (config.work_dir / "deep-").exists()
    assert [p.name for p in config.work_dir.iterdir()] == ["runtime"]  # scratch removed


HOSTILE_TESTS = """\
import socket
import time


def test_reach_the_index() -> None:
    socket.create_connection(("pypi.org", 443), timeout=3)


def test_read_the_host() -> None:
    with open("/proc/1/environ", "rb") as handle:
        assert b"SECRET" in handle.read()


def test_loop_forever() -> None:
    while True:
        time.sleep(0.1)
"""


@pytest.mark.slow
@pytest.mark.requires_bwrap
def test_a_hostile_suite_is_stopped_and_judged(tmp_path: Path, config: DeepScanConfig) -> None:
    files = fixture_files()
    files["tests/test_hostile.py"] = HOSTILE_TESTS
    repo = make_repo(tmp_path / "hostile", files)
    limited = replace(config, run_limits=Limits(wall_s=20, cpu_s=60))
    result = DeepScan(limited).run(repo)
    pytest_phase = next(p for p in result.phases if p.name == "pytest")
    assert pytest_phase.run.killed == "time limit"
    tests = result.reports.tests
    assert tests is not None
    assert tests.incomplete is not None
    outcome = scan(repo, only={"TST-008"}, reports=result.reports).outcomes[0].result
    assert outcome.status is Status.FAIL
    assert "did not finish" in outcome.message


@pytest.mark.requires_bwrap
def test_without_a_lock_file_nothing_runs(tmp_path: Path, config: DeepScanConfig) -> None:
    files = fixture_files()
    files.pop("uv.lock")
    repo = make_repo(tmp_path / "nolock", files)
    result = DeepScan(config).run(repo)
    assert result.phases == []
    assert result.reports.why["tests"] == "deep scan: no uv.lock in the repository root"
    outcome = scan(repo, only={"TST-006"}, reports=result.reports).outcomes[0].result
    assert outcome.status is Status.NOT_APPLICABLE
    assert outcome.message.startswith("deep scan: no uv.lock")


@pytest.mark.requires_bwrap
def test_a_lock_that_does_not_install_is_reported(tmp_path: Path, config: DeepScanConfig) -> None:
    files = fixture_files()
    files["uv.lock"] = "version = 1\n[[package]]\nname = 42\n"
    repo = make_repo(tmp_path / "broken", files)
    result = DeepScan(config).run(repo)
    assert [p.name for p in result.phases] == ["uv sync --frozen"]
    assert result.reports.why["mypy"].startswith("deep scan: `uv sync --frozen` failed (exit 2")


@pytest.mark.requires_bwrap
def test_a_packaged_project_is_imported_from_src_without_being_built(
    tmp_path: Path, config: DeepScanConfig
) -> None:
    """Phase 1 never installs the project itself; phase 2 imports it from `src/`."""
    files = fixture_files()
    pyproject = str(files["pyproject.toml"])
    pyproject = pyproject.replace("[tool.uv]\npackage = false\n", "[tool.uv]\npackage = true\n")
    pyproject = pyproject.replace('pythonpath = ["src"]\n', "")
    files["pyproject.toml"] = pyproject + (
        '\n[build-system]\nrequires = ["hatchling"]\nbuild-backend = "hatchling.build"\n'
    )
    files["uv.lock"] = str(files["uv.lock"]).replace(
        'name = "shop"\nversion = "0.1.0"\nsource = { virtual = "." }',
        'name = "shop"\nversion = "0.1.0"\nsource = { editable = "." }',
    )
    assert 'source = { editable = "." }' in files["uv.lock"]
    repo = make_repo(tmp_path / "packaged", files)
    result = DeepScan(config).run(repo)
    assert "Building" not in result.phases[0].run.output
    outcome = scan(repo, only={"TST-008"}, reports=result.reports).outcomes[0].result
    assert outcome.message == "1 of 3 tests failed"  # the tests imported `shop`
