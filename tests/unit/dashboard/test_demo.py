"""The demo generator: its repositories earn the verdicts their stories promise."""

from __future__ import annotations

import hashlib
import random
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from dashboard.demo import catalog, gitgen
from dashboard.demo.defects import DEFECTS, SHAPES, fake_token
from dashboard.demo.files import GOLDEN_DIR, model_project, uv_lock
from dashboard.demo.history import Job, Point, sample, scan_job
from scanners.engine import scan
from scanners.report import Report

NOW = datetime.now(UTC)  # DEP-006 compares the lock's last change with today
AUTHORS = ["Ada Lovelace", "Grace Hopper", "Alan Turing"]


def _profile(name: str) -> catalog.Profile:
    return next(p for p in catalog.PROFILES if p.name == name)


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, list[str]]]:
    """The spectrum (the first eight profiles, and two more) as git repositories."""
    root = tmp_path_factory.mktemp("demo-repos")
    names = [p.name for p in catalog.PROFILES[:8]] + ["shipping-api", "search-indexer"]
    out = {}
    for name in names:
        commits = gitgen.history(_profile(name), AUTHORS, NOW, seed=7)
        out[name] = (root / name, gitgen.write_repository(root / name, commits))
    return out


@pytest.fixture(scope="module")
def head_reports(generated: dict[str, tuple[Path, list[str]]]) -> dict[str, Report]:
    """The engine's report of each repository's head."""
    return {
        name: scan(path, project_dir=_profile(name).project_dir or None)
        for name, (path, _) in generated.items()
    }


def _status(report: Report, rule_id: str) -> str:
    return next(o.status.value for o in report.outcomes if o.spec.id == rule_id)


def _evidence_paths(report: Report, rule_id: str) -> set[str]:
    outcome = next(o for o in report.outcomes if o.spec.id == rule_id)
    return {e.path for e in outcome.result.evidence if e.path}


def test_the_model_citizen_is_gold(head_reports: dict[str, Report]) -> None:
    report = head_reports["ledger-api"]
    assert report.score.level.value == "gold"
    assert _status(report, "WF-002") == "pass"  # conventional commits throughout
    assert _status(report, "DEP-006") == "pass"  # its last commit refreshed the lock


def test_the_flask_service_fails_fw_001(head_reports: dict[str, Report]) -> None:
    assert _status(head_reports["legacy-flask"], "FW-001") == "fail"
    assert _status(head_reports["legacy-flask"], "WF-002") == "fail"  # casual messages


def test_the_committed_secret_is_caught_by_cfg_005(head_reports: dict[str, Report]) -> None:
    report = head_reports["notifier"]
    assert _status(report, "CFG-005") == "fail"
    assert "src/core/partners.py" in _evidence_paths(report, "CFG-005")


def test_broken_syntax_yields_a_finding_not_a_crash(head_reports: dict[str, Report]) -> None:
    report = head_reports["reports-service"]
    assert _status(report, "STY-002") == "fail"
    assert "src/services/report_service.py" in _evidence_paths(report, "STY-002")


def test_the_poetry_project_fails_dep_002(head_reports: dict[str, Report]) -> None:
    assert _status(head_reports["billing-poetry"], "DEP-002") == "fail"
    assert _status(head_reports["billing-poetry"], "DEP-001") == "fail"  # no uv.lock


def test_routes_talking_to_the_database_fail_the_layering_rules(
    head_reports: dict[str, Report],
) -> None:
    report = head_reports["orders-api"]
    assert _status(report, "LAY-002") == "fail"
    assert "src/api/routes/notes.py" in _evidence_paths(report, "LAY-002")


def test_layouts_are_found_app_and_monorepo_backend(head_reports: dict[str, Report]) -> None:
    assert _status(head_reports["storefront-app"], "STR-001") == "pass"
    assert _status(head_reports["storefront-app"], "FW-001") == "pass"
    assert _status(head_reports["platform-monorepo"], "STR-002") == "pass"
    assert _status(head_reports["platform-monorepo"], "FW-001") == "pass"


def test_a_migration_edited_after_the_fact_fails_db_004(head_reports: dict[str, Report]) -> None:
    assert _status(head_reports["shipping-api"], "DB-004") == "fail"
    assert _status(head_reports["ledger-api"], "DB-004") == "pass"  # added, never edited


def test_histories_improve_or_worsen(generated: dict[str, tuple[Path, list[str]]]) -> None:
    scores = {}
    for name in ("ledger-api", "search-indexer"):
        path, shas = generated[name]
        points = (Point(shas[0], NOW), Point(shas[-1], NOW))
        _, scanned = scan_job(Job(name, path, "", points))
        scores[name] = [s.report.score.value or 0.0 for s in scanned]
        assert [s.report.commit for s in scanned] == [shas[0], shas[-1]]
    assert scores["ledger-api"][0] < scores["ledger-api"][1]
    assert scores["search-indexer"][0] > scores["search-indexer"][1]


def test_commits_are_dated_over_the_year(generated: dict[str, tuple[Path, list[str]]]) -> None:
    path, shas = generated["ledger-api"]
    log = subprocess.run(
        ["git", "log", "--reverse", "--format=%H %at %ct %s"],
        cwd=path,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    assert [line.split()[0] for line in log] == shas
    stamps = [datetime.fromtimestamp(int(line.split()[1]), UTC) for line in log]
    assert stamps == sorted(stamps)
    assert NOW - stamps[0] > timedelta(days=340)
    assert NOW - stamps[-1] < timedelta(days=7)
    assert all(line.split()[1] == line.split()[2] for line in log)  # author = committer date
    assert log[-1].endswith("chore(deps): monthly dependency update")


def test_histories_are_reproducible_per_seed() -> None:
    profile = _profile("notifier")
    first = gitgen.history(profile, AUTHORS, NOW, seed=3)
    again = gitgen.history(profile, AUTHORS, NOW, seed=3)
    other = gitgen.history(profile, AUTHORS, NOW, seed=4)
    assert [(c.when, c.message, c.files) for c in first] == [
        (c.when, c.message, c.files) for c in again
    ]
    assert first[-1].files["src/core/partners.py"] != other[-1].files["src/core/partners.py"]


def test_fake_secrets_are_made_at_run_time_and_look_fake() -> None:
    token = fake_token(random.Random(1))  # noqa: S311 - the demo's seeded generator
    assert token.startswith("demo")
    assert len(token) == 44
    stored = "\n".join(p.read_text("utf-8") for p in GOLDEN_DIR.rglob("*") if p.is_file())
    assert token not in stored
    assert "PARTNER_API_TOKEN" not in stored


def test_generated_lock_tracks_pyproject_and_staleness_is_detectable(tmp_path: Path) -> None:
    files = model_project("lock-check")
    assert files["uv.lock"] == uv_lock(files["pyproject.toml"])
    assert uv_lock(files["pyproject.toml"], 1) != files["uv.lock"]
    stale = DEFECTS["stale_lock"].apply(files, random.Random(0))  # noqa: S311
    commit = gitgen.Commit(NOW, "feat: init", "Ada Lovelace", stale)
    gitgen.write_repository(tmp_path / "stale", [commit])
    report = scan(tmp_path / "stale", only={"DEP-004"})
    assert _status(report, "DEP-004") == "fail"


def test_every_defect_and_shape_applies_to_every_base() -> None:
    from dashboard.demo.files import flask_project

    rng = random.Random(0)  # noqa: S311 - demo data
    for base in (model_project("x"), flask_project("x")):
        for defect in DEFECTS.values():
            assert isinstance(defect.apply(dict(base), rng), dict)
        for shape in SHAPES.values():
            assert shape(dict(base))


def test_sample_picks_the_head_every_interval_once_and_leaves_out_the_last() -> None:
    day = timedelta(days=1)
    commits = [Point(str(i), NOW + offset * day) for i, offset in enumerate((0, 2, 3, 40, 90))]
    picked = sample(commits, 21 * day)
    assert [p.sha for p in picked] == ["0", "2", "3"]  # "1" is never the head on a sample day
    assert sample(commits[:1], day) == []


def test_profiles_cycle_with_distinct_names() -> None:
    many = catalog.profiles(len(catalog.PROFILES) + 3)
    names = [p.name for p in many]
    assert len(set(names)) == len(names)
    assert names[len(catalog.PROFILES)] == f"{catalog.PROFILES[0].name}-2"
    assert [p.name for p in catalog.profiles(2)] == ["ledger-api", "storefront-app"]


def _digests(folder: Path) -> dict[str, str]:
    """sha256 -> one path, for the non-empty files below `folder` (tool caches left out)."""
    caches = {"__pycache__", ".ruff_cache", ".mypy_cache", ".pytest_cache", ".venv"}
    return {
        hashlib.sha256(path.read_bytes()).hexdigest(): path.as_posix()
        for path in sorted(folder.rglob("*"))
        if path.is_file() and path.stat().st_size and not caches.intersection(path.parts)
    }


def test_no_file_of_the_demo_repeats_a_fixture() -> None:
    """The golden project is shipped once (dashboard/demo/golden): no second copy in tests/."""
    root = Path(__file__).resolve().parents[3]
    demo, fixtures = _digests(root / "dashboard" / "demo"), _digests(root / "tests" / "fixtures")
    assert len(demo) > 70  # the golden project is there
    assert [(demo[d], fixtures[d]) for d in demo.keys() & fixtures.keys()] == []
